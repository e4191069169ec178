"""Our records to Exact: companies to crm/Accounts, contacts to crm/Contacts, products to logistics/Items, invoices
to salesinvoice/SalesInvoices with their SalesInvoiceLines.

Never twice. Each record has one ExactLink row (a unique constraint). Before a call that may create something in
Exact, the link is claimed with a short lease in its own committed transaction, so two workers never push the same
record at once; the call runs outside any transaction; the outcome is stored after. A push whose answer was lost (a
timeout: Exact may have created the record) does not know Exact's id, so every push without a stored id first looks
the record up by our reference (an account's Code, a contact's email, an item's code, an invoice's reference) and
only creates when Exact has none. A deal's stage change that is delivered three times therefore makes one invoice.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.models import Invoice, InvoiceStatus, Product
from billing.services.invoices import invoice_create_from_deal, invoice_finalize
from crm.models import Company, Contact, Deal, LifecycleStage
from integrations.exact.client import ExactClient
from integrations.exact.mapping import exact_values
from integrations.exact.services.log import sync_log_write
from integrations.exact.services.setup import exact_settings_get
from integrations.models import ExactLink, ExactSettings, InvoiceMode, LinkKind, SyncLog, SyncScope

LEASE = timedelta(minutes=2)
ACCOUNTS = "crm/Accounts"
CONTACTS = "crm/Contacts"
ITEMS = "logistics/Items"
INVOICES = "salesinvoice/SalesInvoices"
PRINTED = "salesinvoice/PrintedSalesInvoices"
# Exact's sales journal for invoices created through the API; "70" is the default sales journal of a new division.
SALES_JOURNAL = "70"


class Busy(Exception):
    """Another worker is pushing this record right now: try again shortly (the delivery or task retries)."""


def account_code(company_id: int) -> str:
    """Our reference for a company in Exact (crm/Accounts Code, at most 18 characters)."""
    return f"CH{company_id}"


# --- scope -------------------------------------------------------------------------------------------------------


def record_in_scope(record, *, object_type: str, settings: ExactSettings) -> bool:
    """All, none, or only records at or past the chosen lifecycle stage (the tenant's own stage order)."""
    scope = getattr(settings, f"{object_type}_scope")
    if scope == SyncScope.NONE:
        return False
    if scope == SyncScope.ALL:
        return True
    order = {key: position for position, key in enumerate(LifecycleStage.objects.values_list("key", flat=True))}
    minimum = order.get(getattr(settings, f"{object_type}_min_stage"))
    current = order.get(record.lifecycle_stage)
    return minimum is not None and current is not None and current >= minimum


# --- links ---------------------------------------------------------------------------------------------------------


def link_get(kind: str, object_id: int) -> ExactLink | None:
    return ExactLink.objects.filter(kind=kind, object_id=object_id).first()


def _link_claim(kind: str, object_id: int) -> ExactLink:
    with transaction.atomic():
        link, _created = ExactLink.objects.get_or_create(kind=kind, object_id=object_id)
    now = timezone.now()
    with transaction.atomic():
        claimed = (
            ExactLink.objects.filter(pk=link.pk)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=now))
            .update(leased_until=now + LEASE)
        )
    if claimed != 1:
        raise Busy(f"{kind} {object_id} is being sent to Exact by another worker.")
    link.refresh_from_db()
    return link


def _link_done(link: ExactLink, *, exact_id: str, **data) -> None:
    link.exact_id = exact_id
    link.state = ExactLink.State.SYNCED
    link.last_error = ""
    link.synced_at = timezone.now()
    link.leased_until = None
    link.data = {**(link.data or {}), **data}
    link.save(update_fields=["exact_id", "state", "last_error", "synced_at", "leased_until", "data"])


def _link_failed(link: ExactLink, error: str) -> None:
    ExactLink.objects.filter(pk=link.pk).update(
        state=ExactLink.State.FAILED, last_error=error[:2000], leased_until=None
    )


def _push(
    *,
    client: ExactClient,
    kind: str,
    object_id: int,
    path: str,
    key_field: str,
    body: dict,
    lookup: tuple[str, str] | None,
    operation: str,
    update: bool = True,
) -> str:
    """Create or update one record in Exact; returns Exact's id."""
    link = _link_claim(kind, object_id)
    try:
        exact_id = link.exact_id
        if not exact_id and lookup and lookup[1]:
            found = client.find(path, field_name=lookup[0], value=lookup[1])
            if found:
                exact_id = found[0][key_field]
        if exact_id and update:
            client.update(path, exact_id, body)
        elif not exact_id:
            exact_id = client.create(path, body)[key_field]
        _link_done(link, exact_id=exact_id)
    except Exception as exc:
        _link_failed(link, str(exc))
        sync_log_write(
            operation=operation,
            status=SyncLog.Status.FAILED,
            client=client,
            kind=kind,
            object_id=object_id,
            error=str(exc),
            attempts=link_attempts(kind, object_id),
        )
        raise
    sync_log_write(operation=operation, status=SyncLog.Status.OK, client=client, kind=kind, object_id=object_id)
    return exact_id


def link_attempts(kind: str, object_id: int) -> int:
    return SyncLog.objects.filter(kind=kind, object_id=object_id).count() + 1


# --- records ---------------------------------------------------------------------------------------------------------


def company_push(*, company_id: int, client: ExactClient | None = None, force: bool = False) -> str | None:
    settings = exact_settings_get()
    company = Company.objects.filter(pk=company_id).first()
    if company is None or not (force or record_in_scope(company, object_type="company", settings=settings)):
        return None
    client = client or ExactClient()
    body = exact_values(company, "company", settings.field_map)
    body["Code"] = account_code(company.pk)
    body["Status"] = settings.account_type
    for name, value in (
        ("SalesVATCode", settings.vat_code),
        ("PaymentConditionSales", settings.payment_condition),
        ("GLAccountSales", settings.gl_account),
    ):
        if value:
            body[name] = value
    return _push(
        client=client,
        kind=LinkKind.COMPANY,
        object_id=company.pk,
        path=ACCOUNTS,
        key_field="ID",
        body=body,
        lookup=("Code", body["Code"]),
        operation="account_upsert",
    )


def contact_push(*, contact_id: int, client: ExactClient | None = None, force: bool = False) -> str | None:
    settings = exact_settings_get()
    contact = Contact.objects.filter(pk=contact_id).select_related("company").first()
    if contact is None or not (force or record_in_scope(contact, object_type="contact", settings=settings)):
        return None
    client = client or ExactClient()
    body = exact_values(contact, "contact", settings.field_map)
    if contact.company_id:
        # Exact keeps every contact under an account: its company's, pushed first.
        body["Account"] = company_push(company_id=contact.company_id, client=client, force=True)
    return _push(
        client=client,
        kind=LinkKind.CONTACT,
        object_id=contact.pk,
        path=CONTACTS,
        key_field="ID",
        body=body,
        lookup=("Email", contact.email),
        operation="contact_upsert",
    )


def product_push(*, product_id: int, client: ExactClient | None = None) -> str | None:
    settings = exact_settings_get()
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        return None
    client = client or ExactClient()
    body = {"Code": product.sku[:30], "Description": product.name[:60], "IsSalesItem": True}
    if settings.default_item_group:
        body["ItemGroup"] = settings.default_item_group
    if settings.default_unit:
        body["Unit"] = settings.default_unit
    return _push(
        client=client,
        kind=LinkKind.PRODUCT,
        object_id=product.pk,
        path=ITEMS,
        key_field="ID",
        body=body,
        lookup=("Code", body["Code"]),
        operation="item_upsert",
    )


def _item_for_line(client: ExactClient, line: dict, settings: ExactSettings, cache: dict) -> str:
    """The Exact item of an invoice line: its product's (by SKU), else the default item code of the settings."""
    sku = (line.get("sku") or "").strip()
    product = Product.objects.filter(sku__iexact=sku).first() if sku else None
    if product is not None:
        return product_push(product_id=product.pk, client=client)
    code = settings.default_item_code or "CH-SALES"
    if code not in cache:
        found = client.find(ITEMS, field_name="Code", value=code)
        body = {"Code": code, "Description": _("Sales"), "IsSalesItem": True}
        if settings.default_item_group:
            body["ItemGroup"] = settings.default_item_group
        cache[code] = found[0]["ID"] if found else client.create(ITEMS, body)["ID"]
    return cache[code]


def vat_codes(client: ExactClient) -> dict[Decimal, str]:
    """Exact's VAT codes by percentage (21.00 -> "2"): our tax rates map onto them."""
    codes: dict[Decimal, str] = {}
    for row in client.collection("vat/VATCodes", params={"$select": "Code,Percentage"}):
        percent = (Decimal(str(row.get("Percentage") or 0)) * 100).quantize(Decimal("0.01"))
        codes.setdefault(percent, str(row.get("Code", "")).strip())
    return codes


def invoice_lines_for_exact(invoice: Invoice, *, client: ExactClient, settings: ExactSettings) -> list[dict]:
    codes = vat_codes(client)
    items: dict = {}
    rows = []
    for line in (invoice.snapshot or {}).get("lines", []):
        rate = Decimal(line.get("tax_rate") or 0).quantize(Decimal("0.01"))
        if line.get("reverse_charge"):
            rate = Decimal("0.00")
        vat_code = codes.get(rate) or settings.vat_code
        if not vat_code:
            raise ValidationError(_("Exact has no VAT code for %(rate)s%%.") % {"rate": rate})
        row = {
            "Item": _item_for_line(client, line, settings, items),
            "Description": (line.get("name") or "")[:60],
            "Quantity": float(Decimal(line.get("quantity") or 1)),
            "AmountFC": float(Decimal(line.get("vat_base") or line.get("net") or 0)),
            "VATCode": vat_code,
        }
        if settings.default_unit:
            row["UnitCode"] = settings.default_unit
        rows.append(row)
    return rows


def invoice_push(*, invoice_id: int, client: ExactClient | None = None) -> str | None:
    """A finalized invoice as a sales invoice in Exact, our number in the reference field; processed when the
    settings say so."""
    settings = exact_settings_get()
    invoice = Invoice.objects.filter(pk=invoice_id).exclude(status=InvoiceStatus.DRAFT).first()
    if invoice is None:
        return None
    client = client or ExactClient()
    if invoice.company_id is None:
        sync_log_write(
            operation="invoice_create",
            status=SyncLog.Status.SKIPPED,
            kind=LinkKind.INVOICE,
            object_id=invoice.pk,
            error=_("The invoice has no company: Exact needs an account to invoice."),
        )
        return None
    account = company_push(company_id=invoice.company_id, client=client, force=True)
    body = {
        "OrderedBy": account,
        "InvoiceTo": account,
        "Journal": SALES_JOURNAL,
        "Currency": invoice.currency,
        "InvoiceDate": invoice.issue_date.isoformat() if invoice.issue_date else None,
        "Description": invoice.number,
        "SalesInvoiceLines": invoice_lines_for_exact(invoice, client=client, settings=settings),
    }
    body[settings.reference_field] = invoice.number
    condition = settings.default_payment_condition or settings.payment_condition
    if condition:
        body["PaymentCondition"] = condition
    exact_id = _push(
        client=client,
        kind=LinkKind.INVOICE,
        object_id=invoice.pk,
        path=INVOICES,
        key_field="InvoiceID",
        body=body,
        lookup=(settings.reference_field, invoice.number),
        operation="invoice_create",
        update=False,
    )
    link = link_get(LinkKind.INVOICE, invoice.pk)
    if settings.invoice_mode == InvoiceMode.PROCESSED and not (link.data or {}).get("processed"):
        client.create(PRINTED, {"InvoiceID": exact_id, "SendEmailToCustomer": False})
        link.data = {**(link.data or {}), "processed": True}
        link.save(update_fields=["data"])
        sync_log_write(
            operation="invoice_process",
            status=SyncLog.Status.OK,
            client=client,
            kind=LinkKind.INVOICE,
            object_id=invoice.pk,
        )
    return exact_id


# --- opportunities ----------------------------------------------------------------------------------------------

OPPORTUNITIES = "crm/Opportunities"
# Exact's OpportunityStatus: 1 open, 2 lost, 3 won.
_OPPORTUNITY_STATUS = {"open": 1, "lost": 2, "won": 3}


def opportunity_push(*, deal_id: int, client: ExactClient | None = None) -> str | None:
    """With the sales opportunities module on (and invoices off), a deal is an opportunity in Exact under its
    company's account: its name, amount, close date, probability and open/won/lost status."""
    deal = Deal.objects.filter(pk=deal_id).select_related("stage").first()
    if deal is None or deal.company_id is None:
        return None
    client = client or ExactClient()
    body = {
        "Name": deal.name[:100],
        "Account": company_push(company_id=deal.company_id, client=client, force=True),
        "Probability": float(deal.stage.probability) / 100,
        "OpportunityStatus": _OPPORTUNITY_STATUS.get(deal.stage.kind, 1),
    }
    if deal.amount is not None:
        body["AmountFC"] = float(deal.amount.amount)
        body["Currency"] = str(deal.amount.currency)
    if deal.close_date:
        body["CloseDate"] = deal.close_date.isoformat()
    link = link_get(LinkKind.DEAL, deal.pk)
    if not (link and link.exact_id):
        # A new opportunity needs one of Exact's opportunity stages; the first in Exact's order.
        stages = client.collection("crm/OpportunityStages", params={"$select": "ID,SortOrder"})
        if stages:
            body["OpportunityStage"] = sorted(stages, key=lambda r: r.get("SortOrder") or 0)[0]["ID"]
    return _push(
        client=client,
        kind=LinkKind.DEAL,
        object_id=deal.pk,
        path=OPPORTUNITIES,
        key_field="ID",
        body=body,
        lookup=None,
        operation="opportunity_upsert",
    )


# --- deals -------------------------------------------------------------------------------------------------------


def deal_invoice_stage(deal: Deal, settings: ExactSettings) -> int | None:
    for row in settings.invoice_stages or []:
        if int(row.get("pipeline", 0)) == deal.pipeline_id:
            return int(row.get("stage", 0))
    return None


def deal_invoice(*, deal_id: int, actor=None) -> Invoice:
    """The invoice a deal is billed with in Exact: the one made for it before (stored on the deal's link), or its
    latest finalized invoice, or a new one finalized from the deal's line items. The deal's link row is locked
    while choosing, so two deliveries of one stage change never make two invoices."""
    with transaction.atomic():
        link, _created = ExactLink.objects.get_or_create(kind=LinkKind.DEAL, object_id=deal_id)
        link = ExactLink.objects.select_for_update().get(pk=link.pk)
        known = (link.data or {}).get("invoice_id")
        invoice = Invoice.objects.filter(pk=known).first() if known else None
        if invoice is None:
            deal = Deal.objects.select_related("company").get(pk=deal_id)
            invoice = (
                Invoice.objects.filter(deal=deal, status__in=[InvoiceStatus.OPEN, InvoiceStatus.PAID])
                .order_by("-finalized_at", "-id")
                .first()
            )
            if invoice is None:
                # Finalizing refuses a deal without lines (ValidationError): nothing is half-made.
                invoice = invoice_finalize(invoice=invoice_create_from_deal(deal=deal, actor=actor), actor=actor)
            link.data = {**(link.data or {}), "invoice_id": invoice.pk}
            link.save(update_fields=["data"])
    return invoice


def deal_invoice_push(*, deal_id: int, actor=None, client: ExactClient | None = None) -> str | None:
    try:
        invoice = deal_invoice(deal_id=deal_id, actor=actor)
    except ValidationError as exc:
        sync_log_write(
            operation="deal_invoice",
            status=SyncLog.Status.FAILED,
            kind=LinkKind.DEAL,
            object_id=deal_id,
            error="; ".join(exc.messages),
        )
        raise
    exact_id = invoice_push(invoice_id=invoice.pk, client=client)
    if exact_id:
        ExactLink.objects.filter(kind=LinkKind.DEAL, object_id=deal_id).update(
            exact_id=exact_id, state=ExactLink.State.SYNCED, synced_at=timezone.now(), last_error=""
        )
    return exact_id
