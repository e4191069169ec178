"""The subscription record page: header and actions by state, details, items with their per-period amounts, the
upcoming invoice (the invoice document), past invoices with paid and due from the ledger, payments, the timeline;
the confirmation pages of each change with their exact amounts; permissions and another tenant's ids."""

from datetime import datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from billing.models import LineItem, Subscription, SubscriptionEvent
from billing.services.invoice_payments import invoice_record_payment
from billing.services.subscription_billing import subscriptions_bill_due
from commerce_hub.accounts.models import Role
from tests.billing.invoicing import form_key, key
from tests.billing.quote_builder_data import client_for, text_of
from tests.billing.subscribing import subscription_make

AMS = ZoneInfo("Europe/Amsterdam")


def billed_this_month(**kwargs) -> Subscription:
    """Monthly 100.00 + 21% VAT, started on the first of this month and billed for it."""
    today = timezone.localdate()
    first = today.replace(day=1)
    subscription = subscription_make(start=first, **kwargs)
    subscriptions_bill_due(
        now=datetime.combine(first, datetime.min.time(), AMS) + timedelta(hours=12), subscription_ids=[subscription.pk]
    )
    subscription.refresh_from_db()
    return subscription


@pytest.fixture
def finance(tenant_alpha):
    return client_for(Role.FINANCE)


@pytest.fixture
def viewer(tenant_alpha):
    return client_for(Role.READ_ONLY)


def url(subscription, suffix=""):
    return f"/billing/subscriptions/{subscription.pk}/{suffix}"


def test_the_record_page_shows_details_items_the_upcoming_invoice_invoices_payments_and_timeline(finance):
    subscription = billed_this_month(
        lines=(("Hosting", "2", "50.00", "BTW 21%", None), ("Support", "1", "30", None, None)), term_periods=12
    )
    invoice = subscription.invoices.get()
    response = finance.get(url(subscription))
    assert response.status_code == 200
    text = text_of(response)
    assert "Hosting BTW 21% 2 €50.00 €100.00" in text and "Support 1 €30.00 €30.00" in text
    assert "Per period, excluding VAT €130.00 Per period, VAT included €151.00" in text
    assert "Term 1 of 12 periods billed" in text
    assert "Invoice number Not issued yet" in text
    assert "Hosting 2 €50.00 21% €100.00 Support 1 €30.00 0% €30.00 Subtotal €130.00" in text
    page = response.context["page"]
    assert page.upcoming.total == D("151.00")
    assert page.upcoming.period_start == subscription.next_billing_date
    assert [(i.number, i.figures.due) for i in page.invoices] == [(invoice.number, D("151.00"))]
    assert "Change items" in text and "Pause" in text and "Cancel" in text


def test_a_payment_on_an_invoice_shows_as_paid_and_in_payments(finance):
    subscription = billed_this_month()
    invoice = subscription.invoices.get()
    invoice_record_payment(
        invoice=invoice, amount=D("121.00"), paid_on=timezone.localdate(), method="bank_transfer", actor=finance.user
    )
    page = finance.get(url(subscription)).context["page"]
    assert [(i.display_status, i.figures.paid, i.figures.due) for i in page.invoices] == [
        ("paid", D("121.00"), D("0.00"))
    ]
    assert [(p.amount, p.invoice_id) for p in page.payments] == [(D("121.00"), invoice.pk)]


def test_actions_follow_the_state(finance):
    subscription = billed_this_month()
    Subscription.objects.filter(pk=subscription.pk).update(status="paused")
    text = text_of(finance.get(url(subscription)))
    assert "Resume" in text and "Pause" not in text.replace("Paused", "")
    Subscription.objects.filter(pk=subscription.pk).update(status="canceled")
    text = text_of(finance.get(url(subscription)))
    assert "Change items" not in text and "Resume" not in text and "No invoice is coming" in text


def test_a_reader_sees_the_page_but_no_action_and_cannot_change_anything(viewer):
    subscription = billed_this_month()
    text = text_of(viewer.get(url(subscription)))
    assert "Change items" not in text and "Pause" not in text
    for suffix in ("pause/", "resume/", "cancel/", "cancel/undo/", "change/", "coupon/", "coupon/remove/"):
        assert viewer.get(url(subscription, suffix)).status_code == 403
        assert viewer.post(url(subscription, suffix), key()).status_code == 403
    assert Subscription.objects.get(pk=subscription.pk).status == "active"


def test_another_tenants_or_a_missing_subscription_is_not_found(finance, tenant_bravo):
    assert finance.get("/billing/subscriptions/999999/").status_code == 404
    assert finance.post("/billing/subscriptions/999999/pause/", key()).status_code == 404


def test_pausing_through_the_page_asks_first_and_acts_once(finance):
    subscription = billed_this_month()
    page = finance.get(url(subscription, "pause/"))
    assert page.status_code == 200 and "Nothing is billed while it is paused" in text_of(page)
    data = {"resume_on": "", "idempotency_key": form_key(page)}
    first = finance.post(url(subscription, "pause/"), data)
    again = finance.post(url(subscription, "pause/"), data)
    assert first.status_code == again.status_code == 302
    assert Subscription.objects.get(pk=subscription.pk).status == "paused"
    assert SubscriptionEvent.objects.filter(subscription=subscription, kind="paused").count() == 1


def test_a_resume_date_in_the_past_is_an_error_next_to_the_field(finance):
    subscription = billed_this_month()
    response = finance.post(url(subscription, "pause/"), {"resume_on": "2020-01-01", **key()})
    assert response.status_code == 400
    assert "Choose a day after today" in text_of(response)


def test_the_cancel_page_shows_the_exact_credit_and_cancels_with_it(finance):
    subscription = billed_this_month()
    today = timezone.localdate()
    start, end = subscription.current_period_start, subscription.current_period_end
    left, days = (end - today).days + 1, (end - start).days + 1
    page = finance.get(url(subscription, "cancel/"))
    credit = page.context["credit_preview"].credit.total
    from billing import editor
    from billing.proration import proration

    line = LineItem.objects.get(subscription=subscription)
    expected = proration(
        old=[("Hosting", editor.line_input(line))], new=[], period_start=start, period_end=end, on=today, currency="EUR"
    ).credit.total
    assert credit == expected and credit > 0
    assert f"{left} of {days} days" in text_of(page)
    response = finance.post(
        url(subscription, "cancel/"),
        {
            "when": "now",
            "credit": "on",
            "reason": "Closed",
            "expected_credit": str(credit),
            "idempotency_key": form_key(page),
        },
    )
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.status == "canceled"
    assert SubscriptionEvent.objects.get(subscription=subscription, kind="canceled").data["credit"] == f"{credit:f}"


def test_cancel_at_the_end_of_the_period_and_undo(finance):
    subscription = billed_this_month()
    page = finance.get(url(subscription, "cancel/"))
    finance.post(url(subscription, "cancel/"), {"when": "period_end", "reason": "", "idempotency_key": form_key(page)})
    assert Subscription.objects.get(pk=subscription.pk).cancel_at_period_end
    assert "Don't cancel" in text_of(finance.get(url(subscription)))
    finance.post(url(subscription, "cancel/undo/"), key())
    assert not Subscription.objects.get(pk=subscription.pk).cancel_at_period_end


def test_changing_items_previews_exact_amounts_then_applies_them(finance):
    subscription = billed_this_month()
    line = LineItem.objects.get(subscription=subscription)
    form = {
        f"quantity_{line.pk}": "3",
        f"unit_price_{line.pk}": "100",
        "add-TOTAL_FORMS": "1",
        "add-INITIAL_FORMS": "0",
        "add-MIN_NUM_FORMS": "0",
        "add-MAX_NUM_FORMS": "50",
    }
    page = finance.get(url(subscription, "change/"))
    preview = finance.post(url(subscription, "change/"), {**form, "preview": "1", "idempotency_key": form_key(page)})
    assert preview.status_code == 200
    shown = preview.context["preview"]
    assert shown.new_summary.total == D("363.00")
    assert "Invoiced now" in text_of(preview)
    confirm = {
        **form,
        "confirm": "1",
        "expected_credit": str(shown.credit),
        "expected_charge": str(shown.charge),
        "idempotency_key": form_key(preview),
    }
    done = finance.post(url(subscription, "change/"), confirm)
    again = finance.post(url(subscription, "change/"), confirm)
    assert done.status_code == again.status_code == 302
    assert LineItem.objects.get(pk=line.pk).quantity == 3
    assert SubscriptionEvent.objects.filter(subscription=subscription, kind="changed").count() == 1
    assert subscription.invoices.filter(period_start__isnull=True).count() == (1 if shown.charge > 0 else 0)


def test_bad_item_input_is_shown_next_to_the_field(finance):
    subscription = billed_this_month()
    line = LineItem.objects.get(subscription=subscription)
    response = finance.post(
        url(subscription, "change/"),
        {
            f"quantity_{line.pk}": "99999999",
            f"unit_price_{line.pk}": "-5",
            "add-TOTAL_FORMS": "1",
            "add-INITIAL_FORMS": "0",
            "add-MIN_NUM_FORMS": "0",
            "add-MAX_NUM_FORMS": "50",
            "add-0-product": "987654",
            "add-0-quantity": "1",
            "preview": "1",
            **key(),
        },
    )
    assert response.status_code == 400
    text = text_of(response)
    assert "Select a valid choice" in text


def test_simulate_time_shows_only_in_test_mode_for_admins_and_bills_the_periods_on_the_way(tenant_alpha, monkeypatch):
    from billing.services import subscription_clock

    admin = client_for(Role.ADMIN)
    subscription = billed_this_month()
    monkeypatch.setattr(subscription_clock, "_test_mode", lambda: False)  # live payments
    assert "Simulate time" not in text_of(admin.get(url(subscription)))
    assert admin.get(url(subscription, "simulate/")).status_code == 403
    monkeypatch.setattr(subscription_clock, "_test_mode", lambda: True)
    assert "Simulate time" in text_of(admin.get(url(subscription)))
    assert client_for(Role.FINANCE).get(url(subscription, "simulate/")).status_code == 403
    target = subscription.current_period_end + timedelta(days=40)
    response = admin.post(url(subscription, "simulate/"), {"to": target.isoformat(), **key()})
    assert response.status_code == 302
    subscription.refresh_from_db()
    assert subscription.invoices.count() == 3  # this month's, and the two that came due on the way
    assert subscription.test_clock is not None
