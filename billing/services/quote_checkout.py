"""Payment on a quote: the buyer's checkout, and what happens once it is paid.

Checkout
    The buyer presses Pay on the hosted quote page. quote_checkout_start issues the quote's checkout invoice, once:
    under the quote's row lock, with the Quote.checkout_invoice one-to-one behind it, so a double click, a reload or
    two tabs all get the same invoice. It bills what is due at checkout: the first installment when the quote has a
    payment schedule; otherwise every one-time line and the first period of each recurring line whose billing starts
    at checkout, with the quote's one-time adjustments. Its buyer, language, payment methods and terms are the
    quote's; it is due today, finalized, and the buyer pays it through the payments app's checkout
    (billing.hosted.pay_url_for). Every amount is the server's: nothing the buyer posts is read.

After payment
    The checkout invoice becoming paid (billing.events.INVOICE_PAID, however it was paid: online, by credit, by
    hand) runs quote_checkout_complete once, in one transaction: the quote moves to paid; the other installments
    become invoices due on their dates, finalized and sent; the recurring lines become subscriptions; the deal moves
    to the stage the admin chose as won for its pipeline (through the CRM's stage service, so its history records
    the move); the buyer and the seller get a confirmation email (stored with the change, sent after commit). The
    quote's state is the guard: a second run finds it paid and does nothing, so nothing happens twice.

A quote that collects no payment creates its subscriptions when it is accepted or signed instead.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from billing import events, pricing
from billing.documents import invoice_settings_get
from billing.models import (
    Invoice,
    InvoiceStatus,
    LineItem,
    PaymentMethod,
    Quote,
    QuoteInstallment,
    QuotePublication,
    QuoteSettings,
    QuoteStatus,
    Subscription,
)
from billing.models.choices import Frequency
from billing.quote_payment_plan import (
    QuotePricing,
    checkout_plan,
    installment_invoice_lines,
    line_due_at_checkout,
    quote_checkout_problems,
    quote_installment_amounts,
    quote_payable_problem,
    quote_pricing,
)
from billing.services.invoice_emails import invoice_hosted_url
from billing.services.invoices import (
    DraftValues,
    invoice_create,
    invoice_finalize,
    invoice_recipients,
    invoice_send,
    invoice_update_draft,
)
from billing.services.quote_records import QuoteStateError, quote_change_record, quote_transition
from billing.services.subscriptions import subscription_email_rows, subscriptions_create_from_quote
from commerce_hub.mail import email_queue
from commerce_hub.organization.selectors import organization_profile_get
from commerce_hub.site_urls import current_tenant_url
from crm.models import Stage
from crm.services.records import deal_move_stage

MAX_COMMENTS = 2000  # what an invoice's comments hold


# --- issuing invoices -------------------------------------------------------------------------------------------------


def _payment_methods(quote: Quote) -> list[str]:
    methods = [m for m in quote.payment_methods or [] if m in PaymentMethod.values]
    return methods or list(invoice_settings_get().payment_methods)


def _comments(quote: Quote, text: str) -> str:
    terms = (quote.terms or "").strip()
    return (f"{text}\n\n{terms}" if terms else text)[:MAX_COMMENTS]


def _invoice_issue(
    quote: Quote, *, lines: list[LineItem], adjustments, due_date: date | None, comments: str
) -> Invoice:
    """A finalized invoice for the quote's buyer, in its currency and language, with copies of `lines` and
    `adjustments`, due on `due_date` (today when none). Runs in the caller's transaction."""
    contacts = list(quote.contacts.order_by("last_name", "first_name", "id"))
    invoice = invoice_create(
        actor=None,
        company=quote.company,
        contacts=contacts,
        deal=quote.deal,
        currency=quote.currency,
        language=quote.language,
        lines=lines,
        adjustments=adjustments,
        source_quote=quote,
    )
    today = timezone.localdate()
    invoice = invoice_update_draft(
        invoice=invoice,
        values=DraftValues(
            company=quote.company,
            contacts=contacts,
            currency=quote.currency,
            language=quote.language,
            payment_terms_days=0,
            # An installment whose date passed before the checkout was paid is due at once.
            custom_due_date=due_date if due_date and due_date > today else None,
            payment_methods=_payment_methods(quote),
            comments=comments,
        ),
        actor=None,
    )
    return invoice_finalize(invoice=invoice, actor=None)


@transaction.atomic
def quote_checkout_start(*, quote: Quote, publication: QuotePublication) -> Invoice:
    """The quote's checkout invoice, issued now if it has none (see the module's docstring). Raises QuoteStateError
    when the buyer cannot pay this publication now, ValidationError when the invoice cannot be issued."""
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    problem = quote_payable_problem(quote, publication)
    if problem:
        raise QuoteStateError(problem)
    if quote.checkout_invoice_id:
        # The lock makes a second click wait for the first one's commit, and then find its invoice here.
        invoice = Invoice.objects.get(pk=quote.checkout_invoice_id)
        issued_for_older = publication.published_at and invoice.created_at < publication.published_at
        if not (issued_for_older and invoice.status == InvoiceStatus.OPEN):
            return invoice
        # Issued for a revision the quote was republished from (and not paid): it bills the old content.
        _release(quote, invoice, actor=None)
    # Installment dates that passed since publishing do not stop the buyer: those invoices are due at once.
    problems = quote_checkout_problems(quote, dates=False)
    if problems:
        raise ValidationError(problems)
    try:
        plan = checkout_plan(quote)
    except pricing.PricingError as exc:
        raise ValidationError(_("This quote cannot be priced: %(reason)s") % {"reason": exc}) from exc
    with override(quote.language):
        text = _("Payment at checkout for quote %(number)s: %(title)s") % {"number": quote.number, "title": quote.title}
    invoice = _invoice_issue(
        quote, lines=plan.lines, adjustments=plan.adjustments, due_date=None, comments=_comments(quote, text)
    )
    if invoice.total != plan.total:
        # The engine priced the invoice differently from the plan: never bill an amount the buyer was not shown.
        raise ValidationError(_("The amount due at checkout changed while it was being billed; try again."))
    Quote.objects.filter(pk=quote.pk, checkout_invoice__isnull=True).update(checkout_invoice=invoice)
    quote.checkout_invoice = invoice
    if plan.installment is not None:
        QuoteInstallment.objects.filter(pk=plan.installment.pk, invoice__isnull=True).update(invoice=invoice)
    quote_change_record(quote, kind="checkout_started", actor=None, invoice_id=invoice.pk, number=invoice.number)
    return invoice


# --- after payment ----------------------------------------------------------------------------------------------------


def _local_date(moment: datetime | None) -> date:
    return timezone.localdate(moment) if moment else timezone.localdate()


def _installment_invoices(quote: Quote, priced: QuotePricing) -> list[tuple[QuoteInstallment, Invoice]]:
    """The invoices of the installments after the first, issued and sent now (each once: an installment with an
    invoice keeps it)."""
    stored = list(QuoteInstallment.objects.filter(quote=quote).order_by("position", "id"))
    if len(stored) < 2:
        return []
    amounts = quote_installment_amounts(quote, priced=priced)
    issued = []
    for installment, amount in zip(stored[1:], amounts[1:], strict=True):
        if installment.invoice_id:
            continue
        lines = installment_invoice_lines(quote, amount=amount, name=installment.name, priced=priced)
        with override(quote.language):
            text = _("%(name)s of quote %(number)s: %(title)s") % {
                "name": installment.name,
                "number": quote.number,
                "title": quote.title,
            }
        invoice = _invoice_issue(
            quote, lines=lines, adjustments=[], due_date=installment.due_date, comments=_comments(quote, text)
        )
        QuoteInstallment.objects.filter(pk=installment.pk, invoice__isnull=True).update(invoice=invoice)
        if invoice_recipients(invoice):
            invoice_send(invoice=invoice, actor=None)
        else:
            quote_change_record(quote, kind="installment_not_sent", actor=None, invoice_id=invoice.pk)
        issued.append((installment, invoice))
    return issued


def _won_stage(quote: Quote) -> Stage | None:
    settings = QuoteSettings.objects.filter(pk=1).first()
    if settings is None or not quote.deal_id:
        return None
    stage_id = (settings.won_stages or {}).get(str(quote.deal.pipeline_id))
    if not stage_id:
        return None
    return Stage.objects.filter(pk=stage_id, pipeline_id=quote.deal.pipeline_id).first()


def _deal_to_won_stage(quote: Quote) -> None:
    stage = _won_stage(quote)
    if stage is None or stage.pk == quote.deal.stage_id:
        return
    try:
        with transaction.atomic():
            deal_move_stage(deal=quote.deal, stage_id=stage.pk, actor=None)
    except ValidationError:
        # The stage left the pipeline since the admin chose it: the payment stands, the deal stays where it is.
        quote_change_record(quote, kind="deal_stage_not_moved", actor=None, stage_id=stage.pk)


def _record_url(quote: Quote) -> str:
    for name, args in (("billing:quote_detail", [quote.pk]), ("crm:deal_detail", [quote.deal_id])):
        try:
            return current_tenant_url(reverse(name, args=args))
        except NoReverseMatch:
            continue
    return ""


def _confirmation_emails(
    quote: Quote,
    *,
    invoice: Invoice,
    installments: list[tuple[QuoteInstallment, Invoice]],
    subscriptions: list[Subscription],
) -> None:
    """The buyer's contacts and the seller (the quote's sender) each get one confirmation, stored with the change and
    sent after commit."""
    profile = organization_profile_get()
    context = {
        "quote": quote,
        "invoice": invoice,
        "amount": invoice.total,
        "currency": invoice.currency,
        "seller_name": profile.legal_name,
        "buyer_name": (invoice.snapshot or {}).get("buyer", {}).get("name", ""),
        "invoice_url": invoice_hosted_url(invoice),
        "installments": [{"name": installment.name, "invoice": issued} for installment, issued in installments],
        "subscriptions": subscription_email_rows(subscriptions),
    }
    for address in dict.fromkeys(email.lower() for email in invoice_recipients(invoice)):
        email_queue(
            to=address,
            name="quote-paid-buyer",
            language=quote.language,
            context=context,
            reply_to=invoice_settings_get().email,
        )
    owner = quote.owner
    if owner is not None and owner.is_active and owner.email:
        email_queue(
            to=owner.email,
            name="quote-paid-seller",
            language=owner.language,
            context={**context, "record_url": _record_url(quote), "deal": quote.deal},
        )


def quote_checkout_complete(*, invoice: Invoice) -> Quote | None:
    """Everything a paid checkout sets in motion (see the module's docstring), once. Returns the quote when it
    moved to paid now; None when `invoice` is no quote's checkout invoice, is not paid (anymore), or the quote was
    paid already."""
    with transaction.atomic():
        quote = (
            Quote.objects.select_for_update(of=("self",))
            .select_related("deal", "owner")
            .filter(checkout_invoice_id=invoice.pk)
            .first()
        )
        if quote is None or quote.status == QuoteStatus.PAID:
            return None
        invoice = Invoice.objects.get(pk=invoice.pk)
        if invoice.status != InvoiceStatus.PAID:
            return None
        paid_on = _local_date(invoice.paid_at)
        # Money received is never refused: the invoice was issued while the quote could be paid, so its payment
        # completes the quote even if the quote expired while the buyer was at the checkout.
        quote = quote_transition(
            quote,
            to=QuoteStatus.PAID,
            allowed_from=[status for status in QuoteStatus.values if status != QuoteStatus.PAID],
            actor=None,
            kind="paid",
            event=events.QUOTE_PAID,
            fields={"paid_at": invoice.paid_at or timezone.now()},
            invoice_id=invoice.pk,
        )
        priced = quote_pricing(quote)
        installments = _installment_invoices(quote, priced)
        billed = {
            line.pk
            for line in priced.lines
            if line.frequency != Frequency.ONE_TIME and line_due_at_checkout(line, checkout=invoice.issue_date)
        }
        subscriptions = subscriptions_create_from_quote(
            quote=quote, start=paid_on, paid_line_ids=billed, invoice=invoice, today=timezone.localdate()
        )
        if subscriptions:
            quote_change_record(
                quote, kind="subscriptions_created", actor=None, subscriptions=[s.pk for s in subscriptions]
            )
        _deal_to_won_stage(quote)
        _confirmation_emails(quote, invoice=invoice, installments=installments, subscriptions=subscriptions)
    return quote


def quote_subscriptions_on_acceptance(*, quote: Quote) -> list[Subscription]:
    """A quote that collects no payment starts its subscriptions when it is accepted or signed (whichever came
    first), collected by sending invoices. Once: a quote with subscriptions gets no more."""
    with transaction.atomic():
        quote = Quote.objects.select_for_update().filter(pk=quote.pk).first()
        if quote is None or quote.payment_enabled:
            return []
        if quote.status not in (QuoteStatus.SIGNED, QuoteStatus.ACCEPTED):
            return []
        if Subscription.objects.filter(source_quote=quote).exists():
            return []
        moments = [moment for moment in (quote.signed_at, quote.accepted_at) if moment]
        if not moments:
            return []
        subscriptions = subscriptions_create_from_quote(
            quote=quote, start=_local_date(min(moments)), today=timezone.localdate()
        )
        if subscriptions:
            quote_change_record(
                quote, kind="subscriptions_created", actor=None, subscriptions=[s.pk for s in subscriptions]
            )
        return subscriptions


@transaction.atomic
def quote_checkout_release(*, quote: Quote, actor) -> Invoice | None:
    """When a quote is unpublished into a new revision: its checkout invoice, issued and not paid, is voided and
    unlinked, so the next revision's checkout bills the new content. Refused once the buyer paid anything on it.
    Returns the voided invoice (None when there was nothing to release). The checkout also releases an invoice
    older than the publication the buyer pays (quote_checkout_start), so a revision never bills the old content."""
    quote = Quote.objects.select_for_update().get(pk=quote.pk)
    if not quote.checkout_invoice_id:
        return None
    invoice = Invoice.objects.get(pk=quote.checkout_invoice_id)
    _release(quote, invoice, actor=actor)
    return invoice


def _release(quote: Quote, invoice: Invoice, *, actor) -> None:
    from billing.services.invoice_payments import invoice_void

    if invoice.status != InvoiceStatus.OPEN:
        raise QuoteStateError(
            _("The buyer has paid invoice %(number)s for this quote; it can no longer change.")
            % {"number": invoice.number}
        )
    with override(quote.language):
        reason = _("Quote %(number)s was revised.") % {"number": quote.number}
    invoice_void(invoice=invoice, actor=actor, reason=reason)
    Quote.objects.filter(pk=quote.pk).update(checkout_invoice=None)
    QuoteInstallment.objects.filter(quote=quote, invoice=invoice).update(invoice=None)
    quote.checkout_invoice = None
    quote_change_record(quote, kind="checkout_released", actor=actor, invoice_id=invoice.pk)
