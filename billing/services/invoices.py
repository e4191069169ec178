"""Invoice writes: drafts, finalization and every later state change.

Each service is one transaction that writes the change, an invoice event row (who, when, from, to), an audit row
and its domain event. State moves are conditional updates (`filter(pk=..., status=...)`) that must touch exactly
one row, so two people (or a person and a worker) acting on the same invoice at once cannot both win.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from babel.numbers import is_currency
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import documents, events, pricing
from billing.documents import invoice_settings_get
from billing.models import (
    DocumentAdjustment,
    EntryKind,
    Invoice,
    InvoiceStatus,
    LineItem,
    NumberSeries,
    PaymentMethod,
)
from billing.selectors.receivables import account_for_buyer, invoice_figures
from billing.services.invoice_records import invoice_change_record, invoice_event_add  # noqa: F401 - re-exported
from billing.services.numbering import number_take
from billing.services.receivables import Leg, credit_spend, ledger_post
from billing.services.tax_rates import tax_rates_lock
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events.services import event_emit
from commerce_hub.organization.selectors import organization_profile_get
from crm.models import Company, Contact, Deal

MAX_TERMS_DAYS = 365
LINE_COPY_FIELDS = [
    "position",
    "product",
    "name",
    "description",
    "sku",
    "quantity",
    "unit_price",
    "currency",
    "unit_cost",
    "discount_type",
    "discount_value",
    "tax_rate",
    "pricing_model",
    "tiers",
    "package_size",
    "frequency",
    "term_months",
    "term_weeks",
    "billing_start",
    "billing_start_date",
    "billing_start_delay",
]
ADJUSTMENT_COPY_FIELDS = ["kind", "label", "percent", "amount", "position"]


def _locked_draft(invoice: Invoice) -> Invoice:
    locked = Invoice.objects.select_for_update().filter(pk=invoice.pk).first()
    if locked is None:
        raise ValidationError(_("This invoice no longer exists."))
    if locked.status != InvoiceStatus.DRAFT:
        raise ValidationError(_("Invoice %(number)s is finalized and cannot be edited.") % {"number": locked.number})
    return locked


# --- drafts -----------------------------------------------------------------------------------------------------------


def _default_language(company: Company | None, contacts: list[Contact]) -> str:
    if company is not None:
        return company.language
    if contacts:
        return contacts[0].language
    return organization_profile_get().language or "en"


def _default_currency(company: Company | None) -> str:
    if company is not None and company.currency:
        return company.currency
    return organization_profile_get().default_currency or "EUR"


@transaction.atomic
def invoice_create(
    *,
    actor,
    company: Company | None = None,
    contacts: list[Contact] | None = None,
    deal: Deal | None = None,
    currency: str | None = None,
    language: str | None = None,
    lines: list[LineItem] = (),
    adjustments: list[DocumentAdjustment] = (),
    source_quote=None,
    late_fee_for: Invoice | None = None,
) -> Invoice:
    """A new draft. Lines and adjustments passed in are copied (a deal's, a quote's): editing the invoice never
    changes the document it came from."""
    contacts = list(contacts or [])
    settings = documents.invoice_settings_get()
    currency = currency or (lines[0].currency if lines else _default_currency(company))
    if any(line.currency != currency for line in lines):
        raise ValidationError(
            _("Every line must be in the invoice's currency (%(currency)s).") % {"currency": currency}
        )
    invoice = Invoice.objects.create(
        currency=currency,
        language=language or _default_language(company, contacts),
        company=company,
        deal=deal,
        source_quote=source_quote,
        late_fee_for=late_fee_for,
        payment_methods=list(settings.payment_methods),
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    if contacts:
        invoice.contacts.set(contacts)
    LineItem.objects.bulk_create(
        [LineItem(invoice=invoice, **{f: getattr(line, f) for f in LINE_COPY_FIELDS}) for line in lines]
    )
    DocumentAdjustment.objects.bulk_create(
        [DocumentAdjustment(invoice=invoice, **{f: getattr(a, f) for f in ADJUSTMENT_COPY_FIELDS}) for a in adjustments]
    )
    invoice_change_record(invoice, kind="created", actor=actor, to_status=InvoiceStatus.DRAFT)
    return invoice


def invoice_create_from_deal(*, deal: Deal, actor) -> Invoice:
    """A draft for the deal's company and contacts, with copies of its line items and one-time adjustments."""
    lines = list(LineItem.objects.filter(deal=deal).order_by("position", "id"))
    adjustments = list(DocumentAdjustment.objects.filter(deal=deal).order_by("position", "id"))
    currency = str(deal.amount_currency or "") or (lines[0].currency if lines else None)
    return invoice_create(
        actor=actor,
        company=deal.company,
        contacts=list(deal.contacts.all()),
        deal=deal,
        currency=currency,
        lines=lines,
        adjustments=adjustments,
    )


@dataclass
class DraftValues:
    company: Company | None
    contacts: list[Contact] = field(default_factory=list)
    currency: str = "EUR"
    language: str = "en"
    payment_terms_days: int | None = None  # None: the company default
    custom_due_date: date | None = None
    payment_methods: list[str] = field(default_factory=list)
    comments: str = ""


@transaction.atomic
def invoice_update_draft(*, invoice: Invoice, values: DraftValues, actor) -> Invoice:
    invoice = _locked_draft(invoice)
    errors: dict[str, list[str]] = {}
    if not is_currency(values.currency):
        errors["currency"] = [_("Unknown currency.")]
    elif values.currency != invoice.currency and LineItem.objects.filter(invoice=invoice).exists():
        errors["currency"] = [
            _("Remove the line items first: they are priced in %(currency)s.") % {"currency": invoice.currency}
        ]
    if values.payment_terms_days is not None and not 0 <= values.payment_terms_days <= MAX_TERMS_DAYS:
        errors["payment_terms_days"] = [_("Enter between 0 and %(max)d days.") % {"max": MAX_TERMS_DAYS}]
    if values.custom_due_date is not None and values.custom_due_date < timezone.localdate():
        errors["custom_due_date"] = [_("The due date cannot be in the past.")]
    if any(m not in PaymentMethod.values for m in values.payment_methods):
        errors["payment_methods"] = [_("Choose from the listed payment methods.")]
    elif not values.payment_methods:
        errors["payment_methods"] = [_("Accept at least one payment method.")]
    if len(values.comments) > 2000:
        errors["comments"] = [_("Keep comments under 2,000 characters.")]
    if errors:
        raise ValidationError(errors)
    invoice.company = values.company
    invoice.currency = values.currency
    invoice.language = values.language
    invoice.payment_terms_days = values.payment_terms_days
    invoice.custom_due_date = values.custom_due_date
    invoice.payment_methods = list(dict.fromkeys(values.payment_methods))
    invoice.comments = values.comments
    invoice.updated_at = timezone.now()
    invoice.save(
        update_fields=[
            "company",
            "currency",
            "language",
            "payment_terms_days",
            "custom_due_date",
            "payment_methods",
            "comments",
            "updated_at",
        ]
    )
    invoice.contacts.set(values.contacts)
    invoice_change_record(invoice, kind="edited", actor=actor)
    return invoice


@transaction.atomic
def invoice_delete_draft(*, invoice: Invoice, actor) -> None:
    invoice = _locked_draft(invoice)
    audit_record(actor=actor, action="invoice.deleted", obj=invoice, object_repr=str(invoice))
    invoice.delete()


# --- finalize ---------------------------------------------------------------------------------------------------------


def _finalize_errors(invoice: Invoice, lines: list[LineItem], document: dict | None, problem: str) -> list[str]:
    errors = []
    if not lines:
        errors.append(_("Add at least one line item."))
    if problem:
        errors.append(problem)
    if invoice.company_id is None and not invoice.contacts.exists():
        errors.append(_("Choose the buyer: a company or a contact."))
    if document is not None:
        if Decimal(document["total"]) < 0:
            errors.append(_("The total cannot be negative; issue a credit note instead."))
        if document["reverse_charge"] and not document["buyer"]["vat_number"]:
            errors.append(_("Reverse-charge VAT needs the buyer's VAT number: add it to the company."))
        if not organization_profile_get().legal_name:
            errors.append(_("Add your company's legal name in Settings → Company profile."))
    return errors


def invoice_finalize_check(invoice: Invoice) -> list[str]:
    """What stands in the way of finalizing this draft (empty: it can be finalized)."""
    lines = documents.invoice_lines(invoice)
    document, problem = None, ""
    try:
        document = documents.invoice_document(invoice, issue_date=timezone.localdate(), lines=lines)
    except pricing.PricingError as exc:
        problem = _("Some lines cannot be priced: %(reason)s") % {"reason": exc}
    return _finalize_errors(invoice, lines, document, problem)


@transaction.atomic
def invoice_finalize(*, invoice: Invoice, actor, issue_date: date | None = None) -> Invoice:
    """Number the draft, freeze what it prints and open it for payment, in one transaction.

    Everything that takes time (pricing, the snapshot, the logo copy) happens before the number is taken: the
    counter's row lock is held from number_take until this transaction commits, so it covers only the last
    few statements. The PDF is rendered after commit, by the invoice.finalized handler.
    """
    invoice = _locked_draft(invoice)
    issue_date = issue_date or timezone.localdate()
    lines = documents.invoice_lines(invoice)
    document, problem = None, ""
    try:
        summary = documents.invoice_summary(invoice, lines)
        document = documents.invoice_document(
            invoice, issue_date=issue_date, lines=lines, summary=summary, logo_path=documents.logo_freeze()
        )
    except pricing.PricingError as exc:
        problem = _("Some lines cannot be priced: %(reason)s") % {"reason": exc}
    errors = _finalize_errors(invoice, lines, document, problem)
    if document is not None and date.fromisoformat(document["due_date"]) < issue_date:
        errors.append(_("The due date is before the invoice date."))
    if errors:
        raise ValidationError(errors)
    tax_rates_lock(tax_rate_ids=[line.tax_rate_id for line in lines if line.tax_rate_id])
    total = Decimal(document["total"])
    credit_used = _finalize_book(invoice, total=total, issue_date=issue_date, actor=actor)
    now = timezone.now()
    number, sequence = number_take(key=NumberSeries.INVOICE)
    document["number"] = number
    # Nothing to pay (a fully discounted invoice, or one the customer's credit covered): settled when issued.
    paid = total - credit_used <= 0
    fields = {
        "status": InvoiceStatus.PAID if paid else InvoiceStatus.OPEN,
        "number": number,
        "sequence": sequence,
        "issue_date": issue_date,
        "due_date": date.fromisoformat(document["due_date"]),
        "snapshot": document,
        "total": total,
        "logo_path": document["logo_path"],
        "public_token": secrets.token_urlsafe(32),  # 256 random bits
        "payment_methods": document["payment_methods"],
        "finalized_at": now,
        "paid_at": now if paid else None,
        "updated_at": now,
    }
    if Invoice.objects.filter(pk=invoice.pk, status=InvoiceStatus.DRAFT).update(**fields) != 1:
        raise ValidationError(_("This invoice was finalized meanwhile."))
    for name, value in fields.items():  # no re-read: the counter lock is held until commit
        setattr(invoice, name, value)
    invoice_change_record(
        invoice,
        kind="finalized",
        actor=actor,
        event=events.INVOICE_FINALIZED,
        from_status=InvoiceStatus.DRAFT,
        to_status=invoice.status,
        total=document["total"],
        currency=invoice.currency,
    )
    if credit_used:
        invoice_event_add(invoice=invoice, kind="credit_applied", actor=actor, amount=f"{credit_used:f}")
    if paid:
        event_emit(name=events.INVOICE_PAID, payload={"id": invoice.pk, "number": invoice.number})
    return invoice


def _finalize_book(invoice: Invoice, *, total: Decimal, issue_date: date, actor) -> Decimal:
    """Book the invoice on its buyer's account and, where the tenant wants it, spend the buyer's credit in this
    currency on it. Runs before the number is taken, so the counter's lock is not held meanwhile. Returns the
    credit applied."""
    account = account_for_buyer(invoice)
    if account is None:  # _finalize_errors refuses an invoice without a buyer; this guards the ledger's constraint
        raise ValidationError(_("Choose who the invoice is for."))
    ledger_post(
        account=account,
        currency=invoice.currency,
        actor=actor,
        effective_on=issue_date,
        legs=[Leg(EntryKind.INVOICE_FINALIZED, total, invoice)],
    )
    if total <= 0 or not invoice_settings_get().credit_auto_apply:
        return Decimal(0)
    return credit_spend(account=account, invoice=invoice, up_to=total, actor=actor)


# --- the buyer and sending --------------------------------------------------------------------------------------------


def invoice_mark_viewed(*, invoice: Invoice) -> bool:
    """The buyer opened the hosted page. Only the first view is recorded (and emitted)."""
    with transaction.atomic():
        now = timezone.now()
        updated = (
            Invoice.objects.filter(pk=invoice.pk, first_viewed_at__isnull=True)
            .exclude(status=InvoiceStatus.DRAFT)
            .update(first_viewed_at=now)
        )
        if updated:
            invoice.first_viewed_at = now
            invoice_change_record(invoice, kind="viewed", actor=None, event=events.INVOICE_VIEWED)
        return bool(updated)


def invoice_recipients(invoice: Invoice) -> list[str]:
    return [c.email for c in invoice.contacts.order_by("last_name", "first_name", "id") if c.email]


@transaction.atomic
def invoice_send(*, invoice: Invoice, actor, recipients: list[str] | None = None) -> list[str]:
    """Email the invoice (link and PDF) to the buyer contacts; sending again is a resend."""
    from billing.services.invoice_emails import invoice_email_queue

    invoice = Invoice.objects.select_for_update().get(pk=invoice.pk)
    if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
        raise ValidationError(_("Only open or paid invoices can be sent."))
    to = recipients if recipients is not None else invoice_recipients(invoice)
    if not to:
        raise ValidationError(_("Add a contact with an email address to send the invoice to."))
    resend = invoice.sent_at is not None
    figures = invoice_figures(invoice)
    # What the buyer still owes: credit applied at finalization or a payment made before sending lowers it.
    received = figures.paid + figures.credited
    for address in to:
        invoice_email_queue(invoice=invoice, to=address, template="invoice", amount_due=figures.due, received=received)
    if not resend:
        invoice.sent_at = timezone.now()
        invoice.save(update_fields=["sent_at"])
    invoice_change_record(
        invoice, kind="resent" if resend else "sent", actor=actor, event=events.INVOICE_SENT, recipients=to
    )
    return to
