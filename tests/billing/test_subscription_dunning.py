"""Dunning, billing's side: what a failed automatic charge does to the invoice's case and the subscription, the retry
schedule counted from the first failure in the tenant's timezone, the last retry, and every way of settling the
invoice stopping the retries. The charges themselves (payments) are in tests/payments/test_subscription_dunning.py."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from billing import events
from billing.models import (
    DunningStatus,
    InvoiceDunning,
    InvoiceStatus,
    SubscriptionEvent,
    SubscriptionStatus,
)
from billing.services.invoice_payments import invoice_record_payment, invoice_void
from billing.services.subscription_dunning import dunning_charge_failed, dunning_claim_due, retry_at
from commerce_hub.events.models import OutboxEvent
from commerce_hub.organization.models import OrganizationProfile
from commerce_hub.organization.selectors import organization_profile_forget
from tests.billing.quote_paying import run_handlers
from tests.billing.subscription_dunning_data import (
    emails_to,
    settings_set,
    subscription_invoice_make,
    subscription_make,
)

FIRST = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # 10:30 in Amsterdam (the tenant's timezone)
KARI = "kari@fjordline.example"


def _fail(invoice, attempt, *, now, code="insufficient_funds", message="Insufficient funds."):
    return dunning_charge_failed(invoice_id=invoice.pk, attempt=attempt, code=code, message=message, now=now)


def test_a_failed_charge_makes_the_subscription_past_due_and_emails_the_buyer_the_link(tenant_alpha):
    settings_set()
    subscription = subscription_make()
    invoice = subscription_invoice_make(subscription)

    dunning = _fail(invoice, 1, now=FIRST)

    assert (dunning.status, dunning.failures, dunning.last_error) == ("active", 1, "Insufficient funds.")
    assert dunning.next_retry_at == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)  # exactly one day after
    subscription.refresh_from_db()
    assert (subscription.status, subscription.past_due_since) == (SubscriptionStatus.PAST_DUE, FIRST)
    assert len(subscription.public_token) == 43
    kinds = [e.kind for e in SubscriptionEvent.objects.filter(subscription=subscription)]
    assert kinds == ["charge_failed", "past_due"]
    (past_due,) = OutboxEvent.objects.filter(name=events.SUBSCRIPTION_PAST_DUE.name)
    assert past_due.payload == {"id": subscription.pk, "invoice_id": invoice.pk, "since": FIRST.isoformat()}
    (email,) = emails_to(KARI)
    assert email.subject == "Your payment for Hosting (monthly) failed"
    assert (
        f"We tried to charge €242.00 for your subscription Hosting (monthly) (invoice {invoice.number})" in email.text
    )
    assert "Reason: There was not enough money on the card or account." in email.text
    assert "We will try again on 2 December 2026." in email.text
    assert f"http://alpha.localhost:8000/payments/pay/subscription/{subscription.public_token}/" in email.text
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN


def test_retries_follow_the_schedule_counted_from_the_first_failure(tenant_alpha):
    settings_set(retry_days=(1, 3, 5, 7))
    invoice = subscription_invoice_make(subscription_make())
    _fail(invoice, 1, now=FIRST)
    # Each retry runs a little late; the schedule does not drift with it.
    expected = {2: FIRST + timedelta(days=3), 3: FIRST + timedelta(days=5), 4: FIRST + timedelta(days=7)}
    for attempt, retry in expected.items():
        dunning = _fail(invoice, attempt, now=FIRST + timedelta(days=attempt, hours=2))
        assert (dunning.failures, dunning.status, dunning.next_retry_at) == (attempt, "active", retry)


def test_a_retry_across_the_dst_change_keeps_the_tenants_wall_clock_time(tenant_alpha):
    settings_set(retry_days=(1, 3))
    invoice = subscription_invoice_make(subscription_make())
    first = datetime(2026, 10, 24, 8, 0, tzinfo=UTC)  # 10:00 CEST; the clocks go back on 25 October
    dunning = _fail(invoice, 1, now=first)
    assert dunning.next_retry_at == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)  # 10:00 CET
    OrganizationProfile.objects.filter(pk=1).update(timezone="Europe/Oslo")
    organization_profile_forget()
    assert retry_at(first_failure=first, days=3) == datetime(2026, 10, 27, 9, 0, tzinfo=UTC)


def test_the_same_attempt_reported_twice_counts_once_and_emails_once(tenant_alpha):
    settings_set()
    invoice = subscription_invoice_make(subscription_make())
    _fail(invoice, 1, now=FIRST)
    again = _fail(invoice, 1, now=FIRST + timedelta(minutes=5))
    assert (again.failures, again.next_retry_at) == (1, FIRST + timedelta(days=1))
    assert len(emails_to(KARI)) == 1
    assert OutboxEvent.objects.filter(name=events.SUBSCRIPTION_PAST_DUE.name).count() == 1


def test_after_the_last_retry_the_subscription_is_canceled_and_the_invoice_stays_open(tenant_alpha):
    settings_set(retry_days=(1, 3), after_final_retry="cancel")
    subscription = subscription_make()
    invoice = subscription_invoice_make(subscription)
    _fail(invoice, 1, now=FIRST)
    _fail(invoice, 2, now=FIRST + timedelta(days=1))
    last = FIRST + timedelta(days=3)

    dunning = _fail(invoice, 3, now=last, code="card_declined", message="The card was declined.")

    assert (dunning.status, dunning.failures, dunning.next_retry_at) == (DunningStatus.EXHAUSTED, 3, None)
    subscription.refresh_from_db()
    assert (subscription.status, subscription.cancel_reason, subscription.canceled_at) == ("canceled", "unpaid", last)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN  # still owed for the period the buyer had
    (canceled,) = OutboxEvent.objects.filter(name=events.SUBSCRIPTION_CANCELED.name)
    assert canceled.payload == {"id": subscription.pk, "reason": "unpaid", "invoice_id": invoice.pk}
    final = emails_to(KARI)[-1]
    assert final.subject == "Your subscription Hosting (monthly) was canceled: payment failed"
    assert "Reason: Your bank declined the charge." in final.text
    assert f"Invoice {invoice.number} is still open." in final.text
    assert dunning_claim_due(now=last + timedelta(days=30)) == []


def test_leave_open_keeps_the_subscription_past_due_with_no_more_retries(tenant_alpha):
    settings_set(retry_days=(1,), after_final_retry="leave_open")
    subscription = subscription_make()
    invoice = subscription_invoice_make(subscription)
    _fail(invoice, 1, now=FIRST)

    dunning = _fail(invoice, 2, now=FIRST + timedelta(days=1))

    assert (dunning.status, dunning.next_retry_at) == (DunningStatus.EXHAUSTED, None)
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE
    final = emails_to(KARI)[-1]
    assert final.subject == "Action needed: we could not collect the payment for Hosting (monthly)"
    assert "We will not try again automatically. The invoice stays open until it is paid." in final.text
    assert dunning_claim_due(now=FIRST + timedelta(days=30)) == []

    # Paid later after all: the case is recovered and the subscription active again.
    invoice_record_payment(
        invoice=invoice, amount=Decimal("242.00"), paid_on=FIRST.date(), method="bank_transfer", actor=None
    )
    run_handlers("billing.dunning_on_invoice_paid")
    dunning.refresh_from_db()
    subscription.refresh_from_db()
    assert (dunning.status, subscription.status) == (DunningStatus.RECOVERED, SubscriptionStatus.ACTIVE)


def test_paying_the_invoice_by_hand_recovers_the_case_and_stops_the_retries(tenant_alpha):
    settings_set()
    subscription = subscription_make()
    invoice = subscription_invoice_make(subscription)
    _fail(invoice, 1, now=FIRST)

    invoice_record_payment(
        invoice=invoice, amount=Decimal("242.00"), paid_on=FIRST.date(), method="bank_transfer", actor=None
    )
    assert run_handlers("billing.dunning_on_invoice_paid") == 1

    dunning = InvoiceDunning.objects.get(invoice=invoice)
    assert (dunning.status, dunning.next_retry_at) == (DunningStatus.RECOVERED, None)
    subscription.refresh_from_db()
    assert (subscription.status, subscription.past_due_since) == (SubscriptionStatus.ACTIVE, None)
    kinds = [e.kind for e in SubscriptionEvent.objects.filter(subscription=subscription)]
    assert kinds == ["charge_failed", "past_due", "recovered", "reactivated"]
    assert OutboxEvent.objects.filter(name=events.SUBSCRIPTION_RECOVERED.name, payload__id=subscription.pk).count() == 1
    assert dunning_claim_due(now=FIRST + timedelta(days=10)) == []


def test_a_case_whose_invoice_was_paid_before_its_handler_ran_is_closed_by_the_claim_not_retried(tenant_alpha):
    settings_set()
    subscription = subscription_make()
    invoice = subscription_invoice_make(subscription)
    _fail(invoice, 1, now=FIRST)
    invoice_record_payment(
        invoice=invoice, amount=Decimal("242.00"), paid_on=FIRST.date(), method="bank_transfer", actor=None
    )

    assert dunning_claim_due(now=FIRST + timedelta(days=1)) == []

    assert InvoiceDunning.objects.get(invoice=invoice).status == DunningStatus.RECOVERED
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE


def test_voiding_the_invoice_stops_the_case(tenant_alpha):
    settings_set()
    subscription = subscription_make()
    invoice = subscription_invoice_make(subscription)
    _fail(invoice, 1, now=FIRST)

    invoice_void(invoice=invoice, actor=None, reason="Goodwill")
    assert run_handlers("billing.dunning_on_invoice_voided") == 1

    assert InvoiceDunning.objects.get(invoice=invoice).status == DunningStatus.STOPPED
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE


def test_the_subscription_stays_past_due_while_another_invoice_is_still_open(tenant_alpha):
    settings_set()
    subscription = subscription_make()
    december = subscription_invoice_make(subscription)
    from datetime import date

    january = subscription_invoice_make(subscription, period_start=date(2027, 1, 1))
    _fail(december, 1, now=FIRST)
    _fail(january, 1, now=FIRST + timedelta(days=31))

    invoice_record_payment(
        invoice=december, amount=Decimal("242.00"), paid_on=FIRST.date(), method="bank_transfer", actor=None
    )
    run_handlers("billing.dunning_on_invoice_paid")

    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.PAST_DUE
    assert InvoiceDunning.objects.get(invoice=december).status == DunningStatus.RECOVERED


def test_a_claim_leases_the_due_cases_so_a_second_claim_takes_none(tenant_alpha):
    settings_set()
    invoice = subscription_invoice_make(subscription_make())
    _fail(invoice, 1, now=FIRST)
    due = FIRST + timedelta(days=1)

    assert dunning_claim_due(now=due - timedelta(seconds=1)) == []
    assert dunning_claim_due(now=due) == [invoice.pk]
    assert dunning_claim_due(now=due) == []
    assert InvoiceDunning.objects.get(invoice=invoice).next_retry_at == due + timedelta(hours=1)
