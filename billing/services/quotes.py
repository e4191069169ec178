"""Quote writes of the builder: a quote made from a deal (or together with a new deal), each builder step's changes,
the quote's lines copied back onto its deal, and deleting a draft.

Every service is one transaction that locks the quote's row first, then refuses a quote that is no longer editable
with the words of quote_status_message (it was published, or sent for approval, in another tab: the lock makes that
check see the other tab's commit). Each change leaves its traces through quote_change_record: the quote's timeline,
the audit log and, where billing.events declares one, the domain event.

Lines and one-time adjustments are edited by the shared line item editor (billing.services.line_items); the QUOTE
owner kind hands every such change to quote_lines_changed, inside the editor's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import editor, events, pricing
from billing.documents import invoice_settings_get
from billing.models import (
    DocumentAdjustment,
    Invoice,
    InvoiceStatus,
    LineItem,
    PaymentMethod,
    Quote,
    QuoteStatus,
    QuoteTemplate,
    SigningOrder,
)
from billing.selectors.quote_settings import quote_settings_get
from billing.services.invoices import ADJUSTMENT_COPY_FIELDS, LINE_COPY_FIELDS, invoice_create
from billing.services.quote_records import QuoteStateError, quote_change_record, quote_status_message
from commerce_hub.accounts.models import User
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events.services import event_emit
from commerce_hub.money import money_in_bounds
from commerce_hub.organization.selectors import organization_profile_get
from crm.models import Company, Contact, Deal, Pipeline

MAX_EXPIRY_DAYS = 3650  # a quote valid for more than ten years is a typo
MAX_CONTACTS = 20
MAX_COUNTERSIGNERS = 10
MAX_COMMENTS = 2000
MAX_TERMS = 20000

# The owner columns are left out on purpose: a copy belongs to the document it is copied onto. Foreign keys are
# copied by id, so copying a hundred lines reads no product or tax rate.
_LINE_COLUMNS = [LineItem._meta.get_field(name).attname for name in LINE_COPY_FIELDS]
_ADJUSTMENT_COLUMNS = [DocumentAdjustment._meta.get_field(name).attname for name in ADJUSTMENT_COPY_FIELDS]


# --- helpers ----------------------------------------------------------------------------------------------------------


def _default_template() -> QuoteTemplate | None:
    return QuoteTemplate.objects.filter(is_default=True, archived=False).first()


def _actor_user(actor) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None) else None


def _language(company: Company | None, contacts: list[Contact]) -> str:
    """The buyer's language: the company's, else the first contact's, else the seller's, else English."""
    valid = dict(settings.LANGUAGES)
    candidates = [company.language if company else "", *(c.language for c in contacts)]
    candidates.append(organization_profile_get().language)
    return next((code for code in candidates if code in valid), "en")


def _copy_lines(lines: list[LineItem], **owner) -> None:
    LineItem.objects.bulk_create(
        [LineItem(**owner, **{column: getattr(line, column) for column in _LINE_COLUMNS}) for line in lines]
    )


def _copy_adjustments(adjustments: list[DocumentAdjustment], **owner) -> None:
    DocumentAdjustment.objects.bulk_create(
        [DocumentAdjustment(**owner, **{c: getattr(a, c) for c in _ADJUSTMENT_COLUMNS}) for a in adjustments]
    )


def _rows(**owner) -> tuple[list[LineItem], list[DocumentAdjustment]]:
    lines = list(LineItem.objects.filter(**owner).select_related("tax_rate").order_by("position", "id"))
    adjustments = list(DocumentAdjustment.objects.filter(**owner).order_by("position", "id"))
    return lines, adjustments


def _priced_total(lines: list[LineItem], adjustments: list[DocumentAdjustment], currency: str) -> Decimal | None:
    """What the quote totals as priced by the engine; None while some line cannot be priced (the builder says
    which one, and publishing is refused until it is fixed)."""
    try:
        return editor.summary(lines, adjustments, currency=currency).total
    except pricing.PricingError:
        return None


def _locked_editable(quote: Quote) -> Quote:
    """The quote's row, locked, if the rep may still change it; QuoteStateError with the reason otherwise."""
    locked = Quote.objects.select_for_update().filter(pk=quote.pk).first()
    if locked is None:
        raise QuoteStateError(_("This quote no longer exists."))
    if not locked.is_editable:
        raise QuoteStateError(quote_status_message(locked))
    return locked


def _save_edit(quote: Quote, *, step: str, changed: list[str], m2m: list[str] = (), actor) -> Quote:
    """Write the changed columns and leave one timeline entry naming what changed; nothing when nothing did (a
    step saved as it was, Next pressed twice)."""
    if not changed and not m2m:
        return quote
    quote.updated_at = timezone.now()
    quote.save(update_fields=[*changed, "updated_at"])
    names = sorted(name.removesuffix("_id") for name in [*changed, *m2m] if name != "total")
    quote_change_record(quote, kind="edited", actor=actor, step=step, fields=names)
    return quote


def _assign(quote: Quote, **values) -> list[str]:
    changed = [name for name, value in values.items() if getattr(quote, name) != value]
    for name in changed:
        setattr(quote, name, values[name])
    return changed


def _add(errors: dict[str, list[str]], key: str, message: str) -> None:
    errors.setdefault(key, []).append(message)


# --- creating ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def quote_create_from_deal(*, deal: Deal, actor) -> Quote:
    """A draft quote for the deal: its company, its contacts as the buyer contacts, copies of its line items and
    one-time adjustments, in its currency; the deal's name as the title, valid for the settings' number of days, with
    the default template and the settings' defaults for signatures and payment."""
    deal = Deal.objects.select_for_update(of=("self",)).select_related("company", "owner").get(pk=deal.pk)
    # The deal's row lock makes the copy consistent with a colleague saving the deal's lines at the same moment.
    lines, adjustments = _rows(deal=deal)
    currency = editor.owner_for("deal", deal).currency
    if any(line.currency != currency for line in lines):
        raise ValidationError(
            _("Some of the deal's line items are not in its currency (%(currency)s). Fix them on the deal first.")
            % {"currency": currency}
        )
    quote_settings = quote_settings_get()
    template = _default_template()
    contacts = list(deal.contacts.order_by("last_name", "first_name", "id"))
    owner = deal.owner if deal.owner_id and deal.owner.is_active else _actor_user(actor)
    quote = Quote.objects.create(
        title=deal.name[:200],
        expires_on=timezone.localdate() + timedelta(days=min(quote_settings.expiry_days, MAX_EXPIRY_DAYS)),
        language=_language(deal.company, contacts),
        currency=currency,
        template=template,
        deal=deal,
        company=deal.company,
        owner=owner,
        signature_required=quote_settings.signature_required,
        payment_enabled=quote_settings.payment_enabled,
        payment_methods=list(invoice_settings_get().payment_methods),
        total=_priced_total(lines, adjustments, currency),
        created_by=_actor_user(actor),
    )
    quote.contacts.set(contacts)
    _copy_lines(lines, quote=quote)
    _copy_adjustments(adjustments, quote=quote)
    quote_change_record(
        quote,
        kind="created",
        actor=actor,
        event=events.QUOTE_CREATED,
        to_status=QuoteStatus.DRAFT,
        deal_id=deal.pk,
    )
    return quote


def _first_stage():
    pipeline = Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.order_by("position", "id").first()
    return pipeline.stages.order_by("position", "id").first() if pipeline else None


@transaction.atomic
def quote_create_new_deal(
    *, name: str, company: Company | None = None, contact: Contact | None = None, currency: str, actor
) -> Quote:
    """A quote from scratch: a new deal (named `name`, in the default pipeline's first stage, for the company and
    the contact) and its quote, in one transaction."""
    from crm.services.associations import deal_contact_add
    from crm.services.records import record_create

    name = (name or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        _add(errors, "name", _("This field is required."))
    elif len(name) > 200:
        _add(errors, "name", _("Use at most %(count)d characters.") % {"count": 200})
    if company is None and contact is None:
        _add(errors, "company", _("Choose who the quote is for: a company or a contact."))
    if currency not in settings.CURRENCIES:
        _add(errors, "currency", _("Choose one of the listed currencies."))
    stage = _first_stage()
    if stage is None:
        _add(
            errors,
            NON_FIELD_ERRORS,
            _("There is no deal pipeline with a stage to put the new deal in. Ask an admin to add one."),
        )
    if errors:
        raise ValidationError(errors)
    if company is None and contact.company_id:
        company = contact.company
    data = {"name": name, "stage": str(stage.pk), "amount_currency": currency}
    if company is not None:
        data["company"] = str(company.pk)
    if _actor_user(actor) is not None:
        data["owner"] = str(actor.pk)
    deal = record_create(object_type="deal", data=data, actor=actor)
    if contact is not None:
        deal_contact_add(deal=deal, contact=contact, actor=actor)
    return quote_create_from_deal(deal=deal, actor=actor)


# --- the builder's steps ----------------------------------------------------------------------------------------------


@dataclass
class QuoteDetails:
    title: str
    expires_on: date | None
    language: str
    currency: str
    template_id: int | None = None


@transaction.atomic
def quote_update_details(*, quote: Quote, values: QuoteDetails, actor) -> Quote:
    """Title, expiration date, language, currency and template. The currency changes only while nothing is priced
    in the old one (no lines, no fixed-amount adjustments)."""
    locked = _locked_editable(quote)
    errors: dict[str, list[str]] = {}
    title = (values.title or "").strip()
    if not title:
        _add(errors, "title", _("This field is required."))
    elif len(title) > 200:
        _add(errors, "title", _("Use at most %(count)d characters.") % {"count": 200})
    today = timezone.localdate()
    if values.expires_on is None:
        _add(errors, "expires_on", _("This field is required."))
    elif values.expires_on < today:
        _add(errors, "expires_on", _("The expiration date cannot be in the past."))
    elif values.expires_on > today + timedelta(days=MAX_EXPIRY_DAYS):
        _add(errors, "expires_on", _("Choose an expiration date within ten years."))
    if values.language not in dict(settings.LANGUAGES):
        _add(errors, "language", _("Choose one of the listed languages."))
    if values.currency not in settings.CURRENCIES:
        _add(errors, "currency", _("Choose one of the listed currencies."))
    elif values.currency != locked.currency:
        if LineItem.objects.filter(quote=locked).exists():
            _add(
                errors,
                "currency",
                _("Remove the line items first: they are priced in %(currency)s.") % {"currency": locked.currency},
            )
        elif DocumentAdjustment.objects.filter(quote=locked, amount__isnull=False).exists():
            _add(
                errors,
                "currency",
                _("Remove the fixed-amount discounts, fees and taxes first: they are in %(currency)s.")
                % {"currency": locked.currency},
            )
    template_id = values.template_id
    # An archived template stays on the quotes that use it, but no other quote can pick it.
    picked = template_id not in (None, locked.template_id)
    if picked and not QuoteTemplate.objects.filter(pk=template_id, archived=False).exists():
        _add(errors, "template", _("Choose one of the listed templates."))
    if errors:
        raise ValidationError(errors)
    changed = _assign(
        locked,
        title=title,
        expires_on=values.expires_on,
        language=values.language,
        currency=values.currency,
        template_id=template_id,
    )
    if "currency" in changed:
        lines, adjustments = _rows(quote=locked)
        locked.total = _priced_total(lines, adjustments, locked.currency)
        changed.append("total")
    return _save_edit(locked, step="details", changed=changed, actor=actor)


@transaction.atomic
def quote_update_parties(
    *, quote: Quote, company: Company | None, contacts: list[Contact], owner: User | None, actor
) -> Quote:
    """The buyer (a company and the contacts who receive and sign the quote) and the sender (the rep whose name
    the quote carries)."""
    locked = _locked_editable(quote)
    contacts = list(dict.fromkeys(contacts))
    errors: dict[str, list[str]] = {}
    if len(contacts) > MAX_CONTACTS:
        _add(errors, "contacts", _("Choose at most %(count)d contacts.") % {"count": MAX_CONTACTS})
    if owner is not None and not owner.is_active:
        _add(errors, "owner", _("%(name)s can no longer sign in; choose an active user.") % {"name": owner})
    if errors:
        raise ValidationError(errors)
    changed = _assign(locked, company_id=company.pk if company else None, owner_id=owner.pk if owner else None)
    m2m = []
    if set(locked.contacts.values_list("pk", flat=True)) != {c.pk for c in contacts}:
        locked.contacts.set(contacts)
        m2m.append("contacts")
    return _save_edit(locked, step="parties", changed=changed, m2m=m2m, actor=actor)


@dataclass
class QuoteOptions:
    signature_required: bool
    countersigners: list[User] = field(default_factory=list)
    signing_order: str = SigningOrder.ANY
    payment_enabled: bool = False
    payment_methods: list[str] = field(default_factory=list)


@transaction.atomic
def quote_update_options(*, quote: Quote, values: QuoteOptions, actor) -> Quote:
    """Who signs (the buyer contacts, and colleagues who countersign) and in which order, and whether the buyer
    pays through the quote, with which methods."""
    locked = _locked_editable(quote)
    countersigners = list(dict.fromkeys(values.countersigners))
    methods = list(dict.fromkeys(values.payment_methods))
    errors: dict[str, list[str]] = {}
    if values.signing_order not in SigningOrder.values:
        _add(errors, "signing_order", _("Choose in which order the quote is signed."))
    if len(countersigners) > MAX_COUNTERSIGNERS:
        _add(errors, "countersigners", _("Choose at most %(count)d countersigners.") % {"count": MAX_COUNTERSIGNERS})
    inactive = [str(user) for user in countersigners if not user.is_active]
    if inactive:
        _add(
            errors,
            "countersigners",
            _("%(names)s can no longer sign in; choose active users.") % {"names": ", ".join(inactive)},
        )
    if any(method not in PaymentMethod.values for method in methods):
        _add(errors, "payment_methods", _("Choose from the listed payment methods."))
    elif values.payment_enabled and not methods:
        _add(errors, "payment_methods", _("Accept at least one payment method, or do not collect payment."))
    if errors:
        raise ValidationError(errors)
    changed = _assign(
        locked,
        signature_required=values.signature_required,
        signing_order=values.signing_order,
        payment_enabled=values.payment_enabled,
        payment_methods=methods,
    )
    m2m = []
    if list(locked.countersigners.order_by("pk").values_list("pk", flat=True)) != sorted(u.pk for u in countersigners):
        locked.countersigners.set(countersigners)
        m2m.append("countersigners")
    return _save_edit(locked, step="options", changed=changed, m2m=m2m, actor=actor)


@transaction.atomic
def quote_update_terms(*, quote: Quote, comments: str, terms: str, actor) -> Quote:
    """The note to the buyer and the terms printed under the lines (empty: the template's terms)."""
    locked = _locked_editable(quote)
    comments, terms = (comments or "").strip(), (terms or "").strip()
    errors: dict[str, list[str]] = {}
    if len(comments) > MAX_COMMENTS:
        _add(errors, "comments", _("Keep comments under %(count)s characters.") % {"count": f"{MAX_COMMENTS:,}"})
    if len(terms) > MAX_TERMS:
        _add(errors, "terms", _("Keep the terms under %(count)s characters.") % {"count": f"{MAX_TERMS:,}"})
    if errors:
        raise ValidationError(errors)
    changed = _assign(locked, comments=comments, terms=terms)
    return _save_edit(locked, step="terms", changed=changed, actor=actor)


# --- lines: the quote reprices itself and its deal follows ----------------------------------------------------------


def quote_lines_changed(*, quote: Quote, actor) -> None:
    """After any change of the quote's lines or one-time adjustments (the line item editor calls this inside its
    transaction, holding the quote's row lock): the quote's total is priced again, and the deal's lines and
    adjustments become copies of the quote's, with the deal amount following them (their total contract value,
    as the deal's own editor proposes it; a total the engine cannot compute leaves the amount as it was)."""
    from crm.services.records import record_update

    locked = Quote.objects.select_for_update().get(pk=quote.pk)
    lines, adjustments = _rows(quote=locked)
    Quote.objects.filter(pk=locked.pk).update(
        total=_priced_total(lines, adjustments, locked.currency), updated_at=timezone.now()
    )
    # Lock order: the quote, then its deal. The deal's own editor locks only the deal, so no cycle.
    deal = Deal.objects.select_for_update().get(pk=locked.deal_id)
    LineItem.objects.filter(deal=deal).delete()
    DocumentAdjustment.objects.filter(deal=deal).delete()
    _copy_lines(lines, deal=deal)
    _copy_adjustments(adjustments, deal=deal)
    event_emit(name=events.DEAL_LINE_ITEMS_CHANGED, payload={"id": deal.pk})
    if not lines:
        return
    try:
        amount = editor.deal_amount_from_lines(lines, currency=locked.currency)
    except pricing.PricingError:
        return
    if amount < 0 or not money_in_bounds(amount):
        return
    current = deal.amount.amount if deal.amount is not None else None
    if current != amount or str(deal.amount_currency or "") != locked.currency:
        record_update(record=deal, changes={"amount": amount, "amount_currency": locked.currency}, actor=actor)


# --- deleting ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def quote_delete(*, quote: Quote, actor) -> None:
    """A draft that was never published goes with its lines and timeline; anything a buyer has seen stays."""
    locked = Quote.objects.select_for_update().filter(pk=quote.pk).first()
    if locked is None:
        raise QuoteStateError(_("This quote no longer exists."))
    if locked.revision or locked.publication_id:
        raise QuoteStateError(_("Quote %(number)s has been published, so it is kept.") % {"number": locked})
    if locked.status != QuoteStatus.DRAFT:
        raise QuoteStateError(_("Only a draft quote can be deleted."))
    audit_record(actor=_actor_user(actor), action="quote.deleted", obj=locked, object_repr=str(locked))
    try:
        with transaction.atomic():
            locked.delete()
    except ProtectedError as exc:  # an invoice or subscription made from it
        raise QuoteStateError(
            _("Quote %(number)s has invoices or subscriptions made from it, so it is kept.") % {"number": locked}
        ) from exc


# --- converting -------------------------------------------------------------------------------------------------------

# A quote the buyer has seen can be invoiced: signed or accepted, or still open (agreed outside the page). A paid
# quote was invoiced by its checkout; a declined or expired one was not agreed.
CONVERTIBLE = (QuoteStatus.PUBLISHED, QuoteStatus.VIEWED, QuoteStatus.SIGNED, QuoteStatus.ACCEPTED)


@transaction.atomic
def quote_convert_to_invoice(*, quote: Quote, actor) -> Invoice:
    """A draft invoice with copies of the quote's buyer, lines, one-time adjustments and terms, in its currency and
    language, linked to it (Invoice.source_quote). Once: while an invoice made this way is not void, converting
    again is refused with its number, so a double click or a second colleague never bills the quote twice."""
    locked = Quote.objects.select_for_update(of=("self",)).select_related("deal", "company").get(pk=quote.pk)
    if locked.status not in CONVERTIBLE:
        if locked.status == QuoteStatus.PAID:
            raise QuoteStateError(_("Quote %(number)s was invoiced when it was paid.") % {"number": locked})
        raise QuoteStateError(quote_status_message(locked))
    existing = (
        Invoice.objects.filter(source_quote=locked, checkout_for_quote__isnull=True, quote_installment__isnull=True)
        .exclude(status=InvoiceStatus.VOID)
        .order_by("id")
        .first()
    )
    if existing is not None:
        raise QuoteStateError(
            _("Quote %(number)s was already converted to invoice %(invoice)s.")
            % {"number": locked, "invoice": existing.number or _("draft %(id)s") % {"id": existing.pk}}
        )
    lines, adjustments = _rows(quote=locked)
    invoice = invoice_create(
        actor=actor,
        company=locked.company,
        contacts=list(locked.contacts.order_by("last_name", "first_name", "id")),
        deal=locked.deal,
        currency=locked.currency,
        language=locked.language,
        lines=lines,
        adjustments=adjustments,
        source_quote=locked,
    )
    invoice.payment_methods = list(locked.payment_methods) or invoice.payment_methods
    invoice.comments = "\n\n".join(text for text in (locked.comments.strip(), locked.terms.strip()) if text)
    invoice.save(update_fields=["payment_methods", "comments"])
    quote_change_record(locked, kind="converted", actor=actor, event=events.QUOTE_CONVERTED, invoice_id=invoice.pk)
    return invoice
