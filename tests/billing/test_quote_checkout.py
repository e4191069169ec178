"""Payment on a quote: the buyer presses Pay on the hosted quote page, pays the checkout invoice by card through the
payments app's real checkout (built-in processor, test card), and the paid checkout completes the quote once:
installment invoices issued and sent, subscriptions started on their dates, the deal moved to its won stage, and one
confirmation email each for the buyer and the seller."""

from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError
from django.db import connection
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.utils import timezone

from billing import events
from billing.models import (
    Invoice,
    InvoiceStatus,
    LineItem,
    Quote,
    QuoteEvent,
    QuoteInstallment,
    QuotePublication,
    QuoteSettings,
    QuoteStatus,
    Subscription,
    SubscriptionStatus,
)
from billing.quote_checkout_handlers import quote_checkout_paid
from billing.quote_hosted_actions import quote_hosted_actions
from billing.quote_payment_plan import quote_checkout_problems
from billing.selectors.receivables import invoice_figures
from billing.services.invoice_payments import invoice_record_payment
from billing.services.quote_checkout import quote_checkout_release, quote_subscriptions_on_acceptance
from billing.services.quote_publishing import quote_publish, quote_unpublish
from billing.services.quote_schedule import InstallmentInput, quote_schedule_set
from commerce_hub.accounts.models import Role
from commerce_hub.events.models import OutboxEvent
from crm.models import DealStageChange
from payments.models import Payment, PaymentStatus
from tests.billing.quote_paying import emails_named, line, pay_url, quote_make, run_handlers, sign_all
from tests.conftest import user_make
from tests.payments.checkout_helpers import buyer, pay_card, post

HANDLER = "billing.quote_checkout_paid"
HOSTING = line("Hosting", "1", "50.00", frequency="monthly")  # 60.50 a month with VAT, from checkout
SUPPORT_LATER = line("Support", "1", "100.00", frequency="monthly", start="delay_months", delay=3)


def _won_stage(quote):
    stage = quote.deal.pipeline.stages.get(kind="won")
    QuoteSettings.objects.update_or_create(pk=1, defaults={"won_stages": {str(quote.deal.pipeline_id): stage.pk}})
    return stage


def _press_pay(publication, client=None, **data):
    return (client or buyer()).post(pay_url(publication), data)


def _checkout_invoice(quote) -> Invoice:
    quote.refresh_from_db()
    return Invoice.objects.get(pk=quote.checkout_invoice_id)


def _pay_by_card(publication) -> Invoice:
    response = _press_pay(publication)
    assert response.status_code == 302, response.content.decode()[:500]
    invoice = _checkout_invoice(publication.quote)
    assert response["Location"] == f"/payments/pay/{invoice.public_token}/"
    paid = pay_card(buyer(), invoice)
    assert paid.status_code == 302
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    return invoice


# --- the whole journey ------------------------------------------------------------------------------------------------


def test_paying_by_card_completes_the_quote_with_its_subscriptions_stage_and_emails(tenant_alpha):
    owner = user_make(Role.SALES, email="sales@alpha.example", full_name="Sara Sales")
    quote, publication = quote_make(lines=(line("Implementation", "2", "500.00"), HOSTING, SUPPORT_LATER), owner=owner)
    won = _won_stage(quote)
    today = timezone.localdate()

    invoice = _pay_by_card(publication)

    # What was due at checkout: the one-time lines and the first month of hosting; support starts later.
    assert [(li.name, li.frequency) for li in LineItem.objects.filter(invoice=invoice).order_by("position")] == [
        ("Implementation", "one_time"),
        ("Hosting", "monthly"),
    ]
    assert (invoice.total, invoice.currency, invoice.source_quote_id) == (Decimal("1270.50"), "EUR", quote.pk)
    assert invoice.issue_date == invoice.due_date == today
    (payment,) = Payment.objects.filter(invoice=invoice)
    assert (payment.status, payment.amount) == (PaymentStatus.SUCCEEDED, Decimal("1270.50"))

    assert run_handlers(HANDLER) == 1
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PAID and quote.paid_at is not None
    assert OutboxEvent.objects.filter(name=events.QUOTE_PAID.name, payload__id=quote.pk).count() == 1

    hosting, support = Subscription.objects.filter(source_quote=quote).order_by("start_date")
    assert (hosting.status, hosting.frequency, hosting.start_date) == (SubscriptionStatus.ACTIVE, "monthly", today)
    assert (hosting.current_period_start, hosting.current_period_end) == (
        today,
        today + relativedelta(months=1) - timedelta(days=1),
    )
    assert hosting.next_billing_date == today + relativedelta(months=1)  # the first month was paid at checkout
    # The checkout saved the card, so later periods are charged to it automatically.
    assert (hosting.company_id, hosting.deal_id, hosting.collection_method) == (
        quote.company_id,
        quote.deal_id,
        "charge_automatically",
    )
    assert hosting.payment_method_ref == payment.saved_method.processor_reference != ""
    assert [li.name for li in hosting.line_items.all()] == ["Hosting"]
    assert (support.status, support.start_date) == (SubscriptionStatus.SCHEDULED, today + relativedelta(months=3))
    assert support.next_billing_date == support.start_date and support.current_period_start is None
    created = OutboxEvent.objects.filter(name=events.SUBSCRIPTION_CREATED.name).order_by("pk")
    assert [e.payload["id"] for e in created] == [hosting.pk, support.pk]

    quote.deal.refresh_from_db()
    assert quote.deal.stage_id == won.pk
    change = DealStageChange.objects.filter(deal=quote.deal).latest("changed_at", "id")
    assert change.to_stage_id == won.pk

    buyer_email, seller_email = emails_named("is paid", "Quote Q-1001 paid")
    assert buyer_email.to == "kari@fjordline.example"
    assert buyer_email.subject == "Quote Q-1001 from Alpha Handel B.V. is paid"
    assert "we received your payment of €1,270.50 for quote Q-1001" in buyer_email.text
    assert "Fjordline rollout (monthly): €60.50 (Monthly)" in buyer_email.text
    assert seller_email.to == "sales@alpha.example"
    assert seller_email.subject == "Quote Q-1001 paid: €1,270.50 from Fjordline AS"
    assert "Support" not in seller_email.subject


def test_the_checkout_invoice_bills_the_quote_discount_and_the_buyer_sees_the_same_amount(tenant_alpha):
    quote, publication = quote_make(
        lines=(line("Implementation", "2", "500.00"), HOSTING),
        adjustments=(("discount", "Launch discount", "10", None),),
    )
    ((template, action),) = quote_hosted_actions(quote, publication)
    assert template == "billing/quotes/_pay_action.html"
    # 1,050.00 less 10% is 945.00, plus 21% VAT: 1,143.45.
    assert (action["state"], action["amount"]) == ("pay", Decimal("1143.45"))
    page = render_to_string(template, {"action": action}, request=RequestFactory().get("/"))
    assert "Pay €1,143.45" in page and f'action="{pay_url(publication)}"' in page

    invoice = _pay_by_card(publication)
    assert invoice.total == Decimal("1143.45")
    assert invoice.snapshot["adjustments"][0]["label"] == "Launch discount"


def test_the_hosted_quote_page_offers_pay_and_then_says_it_was_paid(tenant_alpha):
    quote, publication = quote_make()
    page = buyer().get(f"/billing/q/{publication.token}/").content.decode()
    assert f'action="{pay_url(publication)}"' in page and "Pay €1,210.00" in page
    invoice = _pay_by_card(publication)
    run_handlers(HANDLER)
    page = buyer().get(f"/billing/q/{publication.token}/").content.decode()
    assert "Paid. Thank you!" in page and f"/billing/i/{invoice.public_token}/" in page
    assert pay_url(publication) not in page


# --- paying once ------------------------------------------------------------------------------------------------------


def test_pressing_pay_twice_issues_one_checkout_invoice(tenant_alpha):
    quote, publication = quote_make()
    first, second = _press_pay(publication), _press_pay(publication, client=Client(HTTP_HOST="alpha.localhost"))
    invoice = _checkout_invoice(quote)
    assert first["Location"] == second["Location"] == f"/payments/pay/{invoice.public_token}/"
    assert Invoice.objects.filter(source_quote=quote).count() == 1
    assert QuoteEvent.objects.filter(quote=quote, kind="checkout_started").count() == 1


def test_a_forged_amount_posted_is_ignored(tenant_alpha):
    quote, publication = quote_make()
    response = _press_pay(publication, amount="1.00", total="1.00", installment="0.01")
    assert response.status_code == 302
    invoice = _checkout_invoice(quote)
    assert invoice.total == Decimal("1210.00")
    # The payments checkout charges the invoice's own balance too, whatever the form says.
    post(
        buyer(),
        invoice,
        "card",
        {"name": "Kari", "number": "4242 4242 4242 4242", "expiry": "12/30", "cvc": "123", "amount": "1.00"},
    )
    (payment,) = Payment.objects.filter(invoice=invoice)
    assert payment.amount == Decimal("1210.00")


def test_paying_twice_after_the_quote_is_paid_changes_nothing(tenant_alpha):
    quote, publication = quote_make()
    invoice = _pay_by_card(publication)
    run_handlers(HANDLER)
    response = _press_pay(publication)
    assert response.status_code == 409
    assert "This quote has been paid. Thank you!" in response.content.decode()
    assert Invoice.objects.filter(source_quote=quote).count() == 1
    assert Payment.objects.filter(invoice=invoice).count() == 1


def test_emails_and_invoices_happen_once_even_when_the_handler_runs_again(tenant_alpha):
    owner = user_make(Role.SALES, email="sales@alpha.example")
    quote, publication = quote_make(owner=owner, status=QuoteStatus.DRAFT)
    quote_schedule_set(
        quote=quote,
        installments=[
            InstallmentInput("Deposit", percent=Decimal("50")),
            InstallmentInput("Balance", percent=Decimal("50"), due_date=timezone.localdate() + timedelta(days=30)),
        ],
        actor=owner,
    )
    Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.PUBLISHED)
    invoice = _pay_by_card(publication)
    run_handlers(HANDLER)
    # A worker that died after the effect but before recording it runs the handler again; a refund-and-repay emits
    # invoice.paid again: neither does anything twice.
    event = OutboxEvent.objects.filter(name=events.INVOICE_PAID.name, payload__id=invoice.pk).latest("pk")
    quote_checkout_paid(event, delivery_id=0)
    quote_checkout_paid(event, delivery_id=0)
    assert len(emails_named("is paid", "Quote Q-1001 paid")) == 2  # one for the buyer, one for the seller
    assert Invoice.objects.filter(source_quote=quote).count() == 2
    assert len(emails_named("Invoice INV-1002")) == 1  # the balance's invoice, sent once
    assert QuoteEvent.objects.filter(quote=quote, kind="paid").count() == 1


# --- installments -----------------------------------------------------------------------------------------------------


def test_installments_become_invoices_with_exact_amounts_and_due_dates_summing_to_the_total(tenant_alpha):
    today = timezone.localdate()
    quote, publication = quote_make(
        lines=(line("Implementation", "1", "1000.00"), line("Training", "1", "333.33", "BTW 9%")),
        adjustments=(("fee", "Travel", None, "25.00"),),
        status=QuoteStatus.DRAFT,
    )
    # 1,000.00 + 210.00 VAT, 333.33 + 30.00 VAT, and a travel fee of 25.00 outside VAT: 1,598.33.
    quote_schedule_set(
        quote=quote,
        installments=[
            InstallmentInput("Deposit", percent=Decimal("30")),
            InstallmentInput("Delivery", amount=Decimal("800.00"), due_date=today + timedelta(days=30)),
            InstallmentInput("Acceptance", percent=Decimal("19.9478"), due_date=today + timedelta(days=60)),
        ],
        actor=None,
    )
    Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.PUBLISHED)

    checkout = _pay_by_card(publication)
    run_handlers(HANDLER)

    installments = list(QuoteInstallment.objects.filter(quote=quote).select_related("invoice").order_by("position"))
    invoices = [i.invoice for i in installments]
    assert invoices[0] == checkout
    assert [(inv.total, inv.due_date, inv.status) for inv in invoices] == [
        (Decimal("479.50"), today, "paid"),
        (Decimal("800.00"), today + timedelta(days=30), "open"),
        (Decimal("318.83"), today + timedelta(days=60), "open"),
    ]
    assert sum(inv.total for inv in invoices) == Decimal("1598.33")
    # Each installment invoice bills the quote's VAT split: a line per rate and one for the fee outside VAT.
    delivery = invoices[1].snapshot
    assert [(row["name"], row["net"], row["tax_rate"]) for row in delivery["lines"]] == [
        ("Delivery of quote Q-1001 (BTW 21%)", "500.52", "21.00"),
        ("Delivery of quote Q-1001 (BTW 9%)", "166.84", "9.00"),
        ("Delivery of quote Q-1001 (fees and taxes outside VAT)", "12.51", "0"),
    ]
    # 800.00 split pro rata to 1,210.00 | 363.33 | 25.00: 605.63 | 181.86 | 12.51, each a net and its own VAT.
    assert [(g["rate"], g["base"], g["vat"]) for g in delivery["vat_groups"]] == [
        ("21.00", "500.52", "105.11"),
        ("9.00", "166.84", "15.02"),
        ("0", "12.51", "0.00"),
    ]
    # Sent to the buyer automatically.
    assert all(inv.sent_at is not None for inv in invoices[1:])
    assert [e.to for e in emails_named("Invoice INV-1002", "Invoice INV-1003")] == ["kari@fjordline.example"] * 2


# --- who may pay, and when --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, message",
    [
        ({"payment_enabled": False}, "This quote is not paid online."),
        ({"status": QuoteStatus.EXPIRED}, "This quote has expired."),
        ({"status": QuoteStatus.DECLINED}, "This quote cannot be paid in its current state."),
        ({"expires_on": timezone.localdate() - timedelta(days=1)}, "This quote has expired."),
        ({"signature_required": True}, "Everyone must sign the quote before it can be paid."),
    ],
)
def test_pay_is_refused_with_a_reason_and_issues_nothing(tenant_alpha, change, message):
    quote, publication = quote_make()
    Quote.objects.filter(pk=quote.pk).update(**change)
    response = _press_pay(publication)
    assert response.status_code == 409
    assert message in response.content.decode()
    assert response["Cache-Control"] == "no-store" and response["Referrer-Policy"] == "no-referrer"
    assert not Invoice.objects.filter(source_quote=quote).exists()


def test_a_signed_quote_can_be_paid_and_a_replaced_revision_cannot(tenant_alpha):
    quote, publication = quote_make(signature_required=True)
    ((_template, action),) = quote_hosted_actions(quote, publication)
    assert (action["state"], action["message"]) == ("sign_first", "Everyone must sign the quote before it can be paid.")
    sign_all(publication)
    quote.refresh_from_db()
    assert quote_hosted_actions(quote, publication)[0][1]["state"] == "pay"
    assert _press_pay(publication).status_code == 302

    other, old = quote_make(number="Q-1002", email="ola@fjordline.example")
    old.replaced_at = timezone.now()
    old.save(update_fields=["replaced_at"])
    response = _press_pay(old)
    assert response.status_code == 409
    assert "This version of the quote was replaced by a newer one." in response.content.decode()


def test_another_tenants_quote_and_unknown_tokens_are_not_found(tenant_alpha, tenant_bravo):
    connection.set_tenant(tenant_bravo)
    try:
        bravo_quote, bravo_publication = quote_make()
    finally:
        connection.set_tenant(tenant_alpha)
    assert buyer().post(pay_url(bravo_publication)).status_code == 404  # alpha's site knows no such token
    assert buyer().post("/billing/q/not-a-token/checkout/").status_code == 404
    assert buyer().post(f"/billing/q/{'x' * 43}/checkout/").status_code == 404
    assert buyer().post(f"/billing/q/{'x' * 65}/checkout/").status_code == 404
    assert buyer().get(pay_url(bravo_publication)).status_code == 405
    connection.set_tenant(tenant_bravo)
    assert not Invoice.objects.filter(source_quote=bravo_quote).exists()


# --- other ways to pay, and quotes without payment --------------------------------------------------------------------


def test_a_checkout_invoice_paid_by_hand_completes_the_quote_too(tenant_alpha, admin_user):
    quote, publication = quote_make(lines=(line("Implementation", "2", "500.00"), HOSTING))
    _press_pay(publication)
    invoice = _checkout_invoice(quote)
    invoice_record_payment(
        invoice=invoice, amount=invoice.total, paid_on=timezone.localdate(), method="bank_transfer", actor=admin_user
    )
    run_handlers(HANDLER)
    quote.refresh_from_db()
    assert quote.status == QuoteStatus.PAID
    assert Subscription.objects.filter(source_quote=quote).count() == 1
    assert invoice_figures(invoice).paid == Decimal("1270.50")


def test_a_quote_without_payment_starts_its_subscriptions_when_signed(tenant_alpha):
    quote, publication = quote_make(lines=(HOSTING, SUPPORT_LATER), payment_enabled=False)
    sign_all(publication)
    quote.refresh_from_db()
    today = timezone.localdate()
    assert [
        (s.start_date, s.next_billing_date, s.collection_method) for s in quote_subscriptions_on_acceptance(quote=quote)
    ] == [
        (today, today, "send_invoice"),  # nothing was paid: the first month is billed on the start date
        (today + relativedelta(months=3), today + relativedelta(months=3), "send_invoice"),
    ]
    assert quote_subscriptions_on_acceptance(quote=quote) == []  # signed and accepted: still one set
    assert Subscription.objects.filter(source_quote=quote).count() == 2
    assert not Invoice.objects.filter(source_quote=quote).exists()


def test_publishing_needs_a_line_due_at_checkout_when_others_start_later(tenant_alpha):
    quote, _publication = quote_make(lines=(SUPPORT_LATER,), status=QuoteStatus.DRAFT)
    assert quote_checkout_problems(quote) == ["At least one line must be due at checkout when others start later."]
    with pytest.raises(ValidationError) as refused:
        quote_publish(quote=quote, actor=None, notify=False)
    assert "At least one line must be due at checkout when others start later." in refused.value.messages
    Quote.objects.filter(pk=quote.pk).update(payment_enabled=False)
    quote.refresh_from_db()
    assert quote_checkout_problems(quote) == []


def test_revising_a_quote_voids_its_unpaid_checkout_invoice(tenant_alpha, admin_user):
    quote, publication = quote_make()
    _press_pay(publication)
    invoice = _checkout_invoice(quote)
    quote_unpublish(quote=quote, actor=admin_user)  # the rep edits the quote: a new revision to come
    invoice.refresh_from_db()
    quote.refresh_from_db()
    assert (invoice.status, quote.checkout_invoice_id, quote.status) == (InvoiceStatus.VOID, None, QuoteStatus.DRAFT)
    assert quote_checkout_release(quote=quote, actor=admin_user) is None  # nothing left to release


# --- what the rep sees ------------------------------------------------------------------------------------------------


def test_the_deal_company_and_contact_pages_show_the_subscriptions(tenant_alpha, admin_client):
    quote, publication = quote_make(lines=(line("Implementation", "2", "500.00"), HOSTING, SUPPORT_LATER))
    _pay_by_card(publication)
    run_handlers(HANDLER)
    today = timezone.localdate()
    contact = quote.contacts.get()
    for url in (f"/crm/deals/{quote.deal_id}/", f"/crm/companies/{quote.company_id}/", f"/crm/contacts/{contact.pk}/"):
        page = admin_client.get(url).content.decode()
        panel = page[page.index('id="subscriptions-panel"') :]
        panel = panel[: panel.index("</section>")]
        assert "Fjordline rollout (monthly)" in panel
        assert "Active" in panel and "Scheduled" in panel
        assert "€60.50" in panel and "€121.00" in panel and "per period" in panel
        next_day = today + relativedelta(months=1)
        next_bill = f"{next_day.day} {next_day:%b %Y}"  # English dates are day-first: 4 Jan 2027
        assert f"next bill {next_bill}" in panel


def test_the_payment_section_shows_the_schedule_its_invoices_and_the_subscriptions(
    tenant_alpha, admin_user, admin_client
):
    from billing.selectors.quote_payment import quote_payment_section

    quote, publication = quote_make(status=QuoteStatus.DRAFT)
    due = timezone.localdate() + timedelta(days=30)
    quote_schedule_set(
        quote=quote,
        installments=[
            InstallmentInput("Deposit", percent=Decimal("25")),
            InstallmentInput("Balance", percent=Decimal("75"), due_date=due),
        ],
        actor=admin_user,
    )
    section = quote_payment_section(quote)
    assert [(row.installment.name, row.amount, row.invoice) for row in section.installments] == [
        ("Deposit", Decimal("302.50"), None),
        ("Balance", Decimal("907.50"), None),
    ]
    assert section.problems == []
    Quote.objects.filter(pk=quote.pk).update(status=QuoteStatus.PUBLISHED)
    checkout = _pay_by_card(publication)
    run_handlers(HANDLER)
    quote.refresh_from_db()
    section = quote_payment_section(quote)
    assert section.checkout_invoice.pk == checkout.pk and section.checkout_invoice.display_status == "paid"
    assert [(row.invoice.number, row.invoice.display_status) for row in section.installments] == [
        ("INV-1001", "paid"),
        ("INV-1002", "open"),
    ]
    page = admin_client.get(f"/billing/quotes/{quote.pk}/").content.decode()
    payment = page[page.index('id="quote-payment"') :]
    payment = payment[: payment.index("</section>")]
    assert "Deposit" in payment and "€302.50" in payment and "€907.50" in payment
    assert "INV-1002" in payment and "Checkout invoice" in payment and "INV-1001" in payment


def test_two_buyers_pressing_pay_at_the_same_moment_get_one_checkout_invoice(django_db_setup, live_tenant):
    from tests.concurrency import in_threads

    quote, publication = quote_make()
    responses = in_threads(2, lambda _n: Client(HTTP_HOST="live.localhost").post(pay_url(publication)))
    (invoice,) = Invoice.objects.filter(source_quote=quote)
    assert [r.status_code for r in responses] == [302, 302]
    assert {r["Location"] for r in responses} == {f"/payments/pay/{invoice.public_token}/"}
    quote.refresh_from_db()
    assert quote.checkout_invoice_id == invoice.pk


def test_a_checkout_invoice_of_an_older_revision_is_voided_when_the_new_one_is_paid(tenant_alpha):
    quote, old = quote_make()
    _press_pay(old)
    stale = _checkout_invoice(quote)
    # The rep unpublished, raised the price and published revision 2 (the publishing feature's writes).
    old.replaced_at = timezone.now()
    old.save(update_fields=["replaced_at"])
    quote.line_items.update(unit_price=Decimal("600.00"))
    new = QuotePublication.objects.create(
        quote=quote, revision=2, token="r2-" + "a" * 40, snapshot=old.snapshot, pdf_path="q2.pdf", pdf_sha256="1" * 64
    )
    Quote.objects.filter(pk=quote.pk).update(publication=new, revision=2)
    assert _press_pay(old).status_code == 409  # the old link pays nothing
    response = _press_pay(new)
    fresh = _checkout_invoice(quote)
    assert response["Location"] == f"/payments/pay/{fresh.public_token}/"
    stale.refresh_from_db()
    assert (stale.status, fresh.total) == (InvoiceStatus.VOID, Decimal("1452.00"))
