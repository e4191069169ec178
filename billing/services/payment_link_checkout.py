"""Buying through a payment link: the buyer's purchase, and what happens once it is paid.

Purchase
    The buyer sends the link's form (email, name, company, quantity, and the billing address and phone when the link
    collects them). payment_link_purchase_start, in one transaction under the link's row lock (so a link deactivated
    meanwhile takes nothing): finds the contact by email (case-insensitive; the unique index on lower(email) settles
    two first purchases at once) or creates it; finds the company by the name typed, the contact's company or the
    email's domain (never a free mail provider's), or creates it from the name typed; records the purchase; and
    issues its invoice: every one-time line and the first period of each recurring line (none of the recurring
    lines during a trial), each quantity multiplied by the buyer's, due today, finalized, in the link's language and
    payment methods. The buyer then pays it through the payments app's checkout (billing.hosted.pay_url_for). Every
    amount is the server's: the pricing engine prices the link again, and the invoice must come to the same total.
    The form's idempotency key makes a double submit one purchase.

After payment
    The invoice becoming paid (billing.events.INVOICE_PAID, however it was paid) runs
    payment_link_purchase_complete, in one transaction under the purchase's row lock: the purchase becomes paid, its
    recurring lines become subscriptions (one per billing frequency: a unique constraint, so a second run creates
    nothing), payment_link.purchased is emitted, and the buyer and the seller each get one confirmation (stored with
    the change, sent after commit). The purchase's state is the guard: a second run finds it paid and does nothing.
    A purchase with nothing to pay today (a trial of recurring lines only) completes when it is made.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from billing import editor, events, pricing
from billing.billing_calendar import period_bounds
from billing.documents import invoice_settings_get
from billing.models import (
    CollectionMethod,
    Invoice,
    InvoiceStatus,
    LineItem,
    PaymentLink,
    PaymentLinkPurchase,
    Subscription,
    SubscriptionEvent,
    SubscriptionStatus,
)
from billing.models.choices import Frequency
from billing.models.payment_links import PurchaseStatus
from billing.selectors.payment_links import (
    LinkPricing,
    payment_link_lines,
    payment_link_pricing,
    scaled_lines,
    trial_end_for,
)
from billing.services.invoice_emails import invoice_hosted_url
from billing.services.invoices import (
    LINE_COPY_FIELDS,
    DraftValues,
    invoice_create,
    invoice_finalize,
    invoice_update_draft,
)
from billing.services.subscriptions import (
    subscription_email_rows,
    subscription_saved_payment_method,
    subscription_term_periods,
)
from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events.services import event_emit
from commerce_hub.mail import email_queue
from commerce_hub.money import quantize
from commerce_hub.organization.models import COUNTRY_CHOICES
from commerce_hub.organization.selectors import organization_profile_get
from commerce_hub.site_urls import current_tenant_url
from crm import events as crm_events
from crm.models import Company, Contact

MAX_COMMENTS = 2000
# Addresses at these domains belong to people, not to a company: the domain never names the buyer's company.
FREE_MAIL_DOMAINS = frozenset(
    {
        "aol.com",
        "gmail.com",
        "googlemail.com",
        "gmx.de",
        "gmx.net",
        "hotmail.com",
        "hotmail.no",
        "icloud.com",
        "kpnmail.nl",
        "live.com",
        "live.nl",
        "me.com",
        "msn.com",
        "online.no",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "yahoo.com",
        "ziggo.nl",
    }
)
ADDRESS_FIELDS = ("line1", "line2", "postal_code", "city", "country")


class PaymentLinkInactive(Exception):
    """The link was deactivated: it takes no purchase."""


@dataclass
class BuyerDetails:
    email: str
    name: str
    company_name: str = ""
    phone: str = ""
    billing_address: dict = field(default_factory=dict)
    quantity: int = 1


# --- the purchase -----------------------------------------------------------------------------------------------------


def _buyer_errors(link: PaymentLink, buyer: BuyerDetails) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    try:
        validate_email(buyer.email)
    except ValidationError:
        errors["email"] = [_("Enter a valid email address.")]
    if not buyer.name.strip():
        errors["name"] = [_("Enter your name.")]
    if link.adjustable_quantity:
        if not link.min_quantity <= buyer.quantity <= link.max_quantity:
            errors["quantity"] = [
                _("Choose a quantity from %(min)d to %(max)d.") % {"min": link.min_quantity, "max": link.max_quantity}
            ]
    elif buyer.quantity != 1:
        errors["quantity"] = [_("This link sells a quantity of 1.")]
    if link.collect_phone and not buyer.phone.strip():
        errors["phone"] = [_("Enter your phone number.")]
    if link.collect_billing_address:
        address = buyer.billing_address
        for name, message in (
            ("line1", _("Enter the street address.")),
            ("postal_code", _("Enter the postal code.")),
            ("city", _("Enter the city.")),
        ):
            if not str(address.get(name, "")).strip():
                errors[name] = [message]
        if address.get("country") not in dict(COUNTRY_CHOICES):
            errors["country"] = [_("Choose the country.")]
    return errors


def _names(full_name: str) -> tuple[str, str]:
    parts = full_name.strip().rsplit(" ", 1)
    first = parts[0][:100]
    return (first, parts[1][:100]) if len(parts) == 2 else (first, "")


def _domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower()


def _company_for(link: PaymentLink, buyer: BuyerDetails, contact: Contact | None) -> Company | None:
    name = buyer.company_name.strip()[:200]
    if name:
        found = Company.objects.filter(name__iexact=name).order_by("id").first()
        if found is not None:
            return found
    elif contact is not None and contact.company_id:
        return contact.company
    domain = _domain(buyer.email)
    if domain and domain not in FREE_MAIL_DOMAINS:
        found = Company.objects.filter(domain__iexact=domain).order_by("id").first()
        if found is not None:
            return found
    if not name:
        return None
    address = buyer.billing_address if link.collect_billing_address else {}
    company = Company(
        name=name,
        domain=domain if domain not in FREE_MAIL_DOMAINS else "",
        address_line1=" ".join(str(address.get(k, "")).strip() for k in ("line1", "line2")).strip()[:200],
        postal_code=str(address.get("postal_code", "")).strip()[:20],
        city=str(address.get("city", "")).strip()[:100],
        phone=buyer.phone.strip()[:40],
        language=link.language,
        currency=link.currency if len(link.currency) == 3 else "EUR",
        lifecycle_stage="customer",
    )
    if address.get("country") in dict(COUNTRY_CHOICES):
        company.country = address["country"]
    company.created_at = company.updated_at = timezone.now()
    company.save()
    event_emit(name=crm_events.RECORD_CREATED["company"], payload={"id": company.pk})
    return company


def _contact_for(link: PaymentLink, buyer: BuyerDetails) -> tuple[Contact | None, bool]:
    contact = Contact.objects.select_related("company").filter(email__iexact=buyer.email).order_by("id").first()
    return contact, contact is None


def _contact_create(link: PaymentLink, buyer: BuyerDetails, company: Company | None) -> Contact:
    first, last = _names(buyer.name)
    try:
        with transaction.atomic():
            contact = Contact(
                first_name=first,
                last_name=last,
                email=buyer.email.strip(),
                phone=buyer.phone.strip()[:40],
                company=company,
                language=link.language,
                lifecycle_stage="customer",
            )
            contact.created_at = contact.updated_at = timezone.now()
            contact.save()
    except IntegrityError:
        # Another purchase created the contact with this email a moment ago (crm_contact_email_ci_unique).
        return Contact.objects.get(email__iexact=buyer.email)
    event_emit(name=crm_events.RECORD_CREATED["contact"], payload={"id": contact.pk})
    return contact


def _invoice_issue(
    link: PaymentLink, purchase: PaymentLinkPurchase, priced: LinkPricing, *, company, contact
) -> Invoice:
    invoice = invoice_create(
        actor=None,
        company=company,
        contacts=[contact],
        currency=link.currency,
        language=link.language,
        lines=priced.lines_today,
        adjustments=priced.adjustments,
    )
    with override(link.language):
        comments = _("Bought through payment link %(name)s.") % {"name": link.name}
        if priced.trial_days:
            comments += " " + _("Recurring charges start after a free trial of %(days)d days.") % {
                "days": priced.trial_days
            }
    invoice = invoice_update_draft(
        invoice=invoice,
        values=DraftValues(
            company=company,
            contacts=[contact],
            currency=link.currency,
            language=link.language,
            payment_terms_days=0,
            payment_methods=list(link.payment_methods),
            comments=comments[:MAX_COMMENTS],
        ),
        actor=None,
    )
    invoice = invoice_finalize(invoice=invoice, actor=None)
    if invoice.total != priced.total_today:
        # The engine priced the invoice differently from the page: never bill an amount the buyer was not shown.
        raise ValidationError(_("The amount changed while it was being billed; try again."))
    return invoice


def payment_link_purchase_start(*, link: PaymentLink, buyer: BuyerDetails) -> PaymentLinkPurchase:
    """The buyer's purchase and its finalized invoice (see the module's docstring). Raises PaymentLinkInactive for
    a deactivated link, ValidationError (keyed by form field, or general) for anything the buyer must change."""
    with transaction.atomic():
        link = PaymentLink.objects.select_for_update().get(pk=link.pk)
        if not link.active:
            raise PaymentLinkInactive
        errors = _buyer_errors(link, buyer)
        if errors:
            raise ValidationError(errors)
        lines = payment_link_lines(link)
        if not lines:
            raise ValidationError(_("There is nothing to buy through this link yet."))
        try:
            priced = payment_link_pricing(link, quantity=buyer.quantity, lines=lines)
        except pricing.PricingError as exc:
            raise ValidationError({"quantity": [_("That quantity comes to more than can be billed at once.")]}) from exc
        if priced.today is not None and priced.today.total < 0:
            raise ValidationError(_("This link cannot be bought now."))
        contact, new_contact = _contact_for(link, buyer)
        company = _company_for(link, buyer, contact)
        if new_contact:
            contact = _contact_create(link, buyer, company)
        elif company is not None and contact.company_id is None:
            Contact.objects.filter(pk=contact.pk, company__isnull=True).update(company=company)
        address = buyer.billing_address if link.collect_billing_address else {}
        purchase = PaymentLinkPurchase.objects.create(
            public_id=secrets.token_urlsafe(16),  # 128 random bits
            link=link,
            email=buyer.email.strip(),
            name=buyer.name.strip()[:200],
            company_name=buyer.company_name.strip()[:200],
            phone=buyer.phone.strip()[:40] if link.collect_phone else "",
            billing_address={k: str(address.get(k, "")).strip()[:200] for k in ADDRESS_FIELDS} if address else {},
            quantity=buyer.quantity,
            language=link.language,
            company=company,
            contact=contact,
        )
        if priced.lines_today:
            invoice = _invoice_issue(link, purchase, priced, company=company, contact=contact)
            PaymentLinkPurchase.objects.filter(pk=purchase.pk).update(invoice=invoice)
            purchase.invoice = invoice
    if purchase.invoice is None or purchase.invoice.status == InvoiceStatus.PAID:
        # Nothing to pay online: a trial of recurring lines only, or the buyer's credit covered the invoice.
        payment_link_purchase_complete(purchase=purchase)
        purchase.refresh_from_db()
    return purchase


# --- after payment ----------------------------------------------------------------------------------------------------


def _subscription_lines(purchase: PaymentLinkPurchase, invoice: Invoice | None) -> list[LineItem]:
    """The recurring lines the subscriptions bill: the invoice's copies (what the buyer paid for the first period),
    or during a trial the link's lines with the buyer's quantity."""
    if invoice is not None:
        lines = LineItem.objects.filter(invoice=invoice).select_related("tax_rate").order_by("position", "id")
        recurring = [line for line in lines if line.frequency != Frequency.ONE_TIME]
        if recurring:
            return recurring
    return [
        line
        for line in scaled_lines(payment_link_lines(purchase.link), purchase.quantity)
        if line.frequency != Frequency.ONE_TIME
    ]


def _subscription_name(link: PaymentLink, frequency: str) -> str:
    with override(link.language):
        label = str(Frequency(frequency).label)
        return (_("%(title)s (%(frequency)s)") % {"title": link.name, "frequency": label.lower()})[:200]


def _subscriptions_create(
    purchase: PaymentLinkPurchase, *, paid_on: date, invoice: Invoice | None
) -> list[Subscription]:
    """One subscription per billing frequency of the purchase's recurring lines, once (billing_sub_once_per_purchase).
    Without a trial the purchase paid period 0, so the next bill is one period later; with one, period 0 starts on
    the trial's end, which is also the first billing date."""
    link = purchase.link
    lines = _subscription_lines(purchase, invoice)
    trial_end = trial_end_for(link, paid_on)
    method_ref = subscription_saved_payment_method(None, invoice)[:64]
    terms = invoice_settings_get().payment_terms_days
    created = []
    for frequency in Frequency.values:
        group = [line for line in lines if line.frequency == frequency]
        if not group:
            continue
        if trial_end is None:
            anchor = paid_on
            period_start, period_end = period_bounds(start=anchor, frequency=frequency, index=0)
            next_billing, next_index = period_end + timedelta(days=1), 1
        else:
            anchor = trial_end
            period_start = period_end = None
            next_billing, next_index = trial_end, 0
        summary = editor.summary(group, [], currency=link.currency)
        try:
            with transaction.atomic():
                subscription = Subscription.objects.create(
                    status=SubscriptionStatus.ACTIVE,
                    name=_subscription_name(link, frequency),
                    currency=link.currency,
                    frequency=frequency,
                    company=purchase.company,
                    contact=purchase.contact,
                    source_purchase=purchase,
                    start_date=paid_on,
                    billing_anchor=anchor,
                    anchor_day=anchor.day,
                    next_period_index=next_index,
                    periods_billed=next_index,
                    current_period_start=period_start,
                    current_period_end=period_end,
                    next_billing_date=next_billing,
                    term_periods=subscription_term_periods(group, frequency),
                    collection_method=(
                        CollectionMethod.CHARGE_AUTOMATICALLY if method_ref else CollectionMethod.SEND_INVOICE
                    ),
                    payment_method_ref=method_ref,
                    payment_terms_days=terms,
                    trial_end=trial_end,
                    mrr=summary.mrr,
                )
        except IntegrityError:
            continue  # created by an earlier run (billing_sub_once_per_purchase)
        LineItem.objects.bulk_create(
            [
                LineItem(subscription=subscription, **{name: getattr(line, name) for name in LINE_COPY_FIELDS})
                for line in group
            ]
        )
        SubscriptionEvent.objects.create(
            subscription=subscription,
            kind="created",
            to_status=subscription.status,
            data={"payment_link": link.pk, "purchase": purchase.public_id, "invoice_id": getattr(invoice, "pk", None)},
        )
        audit_record(
            actor=None,
            action="subscription.created",
            obj=subscription,
            object_repr=subscription.name,
            after={"payment_link": link.name, "frequency": frequency, "start_date": paid_on.isoformat()},
        )
        event_emit(
            name=events.SUBSCRIPTION_CREATED,
            payload={"id": subscription.pk, "frequency": frequency, "start_date": paid_on.isoformat()},
        )
        created.append(subscription)
    return created


def _record_url(link: PaymentLink) -> str:
    try:
        return current_tenant_url(reverse("billing:payment_link_detail", args=[link.pk]))
    except NoReverseMatch:
        return ""


def _seller_addresses(link: PaymentLink) -> list[tuple[str, str]]:
    """Who hears about a purchase, with their language: the link's creator, else the invoices' reply-to address."""
    creator = link.created_by
    if creator is not None and creator.is_active and creator.email:
        return [(creator.email, creator.language)]
    billing_email = invoice_settings_get().email
    return [(billing_email, link.language)] if billing_email else []


def _confirmation_emails(
    purchase: PaymentLinkPurchase, *, invoice: Invoice | None, subscriptions: list[Subscription]
) -> None:
    link = purchase.link
    profile = organization_profile_get()
    items = []
    if invoice is not None:
        items = [
            {"name": line.name, "quantity": line.quantity, "frequency": line.frequency}
            for line in LineItem.objects.filter(invoice=invoice).order_by("position", "id")
        ]
    context = {
        "link": link,
        "purchase": purchase,
        "invoice": invoice,
        "amount": invoice.total if invoice is not None else 0,
        "currency": link.currency,
        "items": items,
        "seller_name": profile.legal_name,
        "buyer_name": purchase.name,
        "company_name": purchase.company.name if purchase.company_id else "",
        "invoice_url": invoice_hosted_url(invoice) if invoice is not None and invoice.public_token else "",
        "subscriptions": subscription_email_rows(subscriptions),
    }
    email_queue(
        to=purchase.email,
        name="payment-link-buyer",
        language=link.language,
        context=context,
        reply_to=invoice_settings_get().email,
    )
    for address, language in _seller_addresses(link):
        email_queue(
            to=address,
            name="payment-link-seller",
            language=language,
            context={**context, "record_url": _record_url(link)},
        )


def payment_link_purchase_complete(*, purchase: PaymentLinkPurchase) -> bool:
    """Everything a paid purchase sets in motion (see the module's docstring), once. True when it completed now;
    False when its invoice is not paid (anymore) or it was completed already."""
    with transaction.atomic():
        purchase = (
            PaymentLinkPurchase.objects.select_for_update(of=("self",))
            .select_related("link", "link__created_by", "company", "contact")
            .filter(pk=purchase.pk)
            .first()
        )
        if purchase is None or purchase.status == PurchaseStatus.PAID:
            return False
        invoice = Invoice.objects.filter(pk=purchase.invoice_id).first() if purchase.invoice_id else None
        if invoice is not None and invoice.status != InvoiceStatus.PAID:
            return False
        paid_at = (invoice.paid_at if invoice is not None else None) or timezone.now()
        # Money received is never refused: a purchase expired by deactivating its link completes when it is paid.
        PaymentLinkPurchase.objects.filter(pk=purchase.pk).exclude(status=PurchaseStatus.PAID).update(
            status=PurchaseStatus.PAID, paid_at=paid_at
        )
        purchase.status, purchase.paid_at = PurchaseStatus.PAID, paid_at
        subscriptions = _subscriptions_create(purchase, paid_on=timezone.localdate(paid_at), invoice=invoice)
        event_emit(
            name=events.PAYMENT_LINK_PURCHASED,
            payload={
                "id": purchase.link_id,
                "purchase_id": purchase.pk,
                "invoice_id": getattr(invoice, "pk", None),
                "amount": f"{quantize(invoice.total, invoice.currency):f}" if invoice is not None else "0",
                "currency": purchase.link.currency,
                "contact_id": purchase.contact_id,
                "company_id": purchase.company_id,
            },
        )
        _confirmation_emails(purchase, invoice=invoice, subscriptions=subscriptions)
    return True


def payment_link_invoice_paid(*, invoice_id: int) -> bool:
    """A paid invoice that is a purchase's completes the purchase (the INVOICE_PAID handler)."""
    purchase = PaymentLinkPurchase.objects.filter(invoice_id=invoice_id).first()
    if purchase is None:
        return False
    return payment_link_purchase_complete(purchase=purchase)


def payment_link_after_payment_url(invoice: Invoice) -> str:
    """Where the buyer continues once a purchase's invoice is paid online: the link's thank-you page (which sends
    them on to the link's redirect URL when it has one). Registered with billing.hosted for the payments checkout."""
    purchase = PaymentLinkPurchase.objects.select_related("link").filter(invoice_id=invoice.pk).first()
    if purchase is None:
        return ""
    return reverse("billing:payment_link_done", args=[purchase.link.public_token, purchase.public_id])
