"""The payouts pages: balances and payouts, a payout's ledger rows summing to it, its CSV for bank reconciliation,
and "Pay out now" for the manual schedule."""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from commerce_hub.idempotency.web import FIELD
from payments.models import BalanceEntry, BalanceKind, PaymentSettings, Payout, PayoutSchedule
from payments.processors.base import ProcessorEvent
from payments.services.payouts import payout_event_apply, payouts_run
from tests.billing.invoicing import key
from tests.conftest import user_make
from tests.payments.paying import open_invoice, pay


def _client(role):
    client = Client(HTTP_HOST="alpha.localhost")
    client.force_login(user_make(role))
    return client


def _paid_out():
    """A 242.00 card payment paid out when it became available: (payout, payment, invoice)."""
    invoice = open_invoice()
    payment = pay(invoice)
    charge = BalanceEntry.objects.get(payment=payment, kind=BalanceKind.CHARGE)
    [payout] = payouts_run(today=charge.available_on, force=True)
    return payout, payment, invoice


def test_the_payouts_page_says_so_when_there_is_nothing_yet(admin_client):
    response = admin_client.get("/payments/payouts/")
    assert response.status_code == 200
    text = response.content.decode()
    assert "No payouts yet" in text
    assert "Paid out every day. Money becomes available for payout 2 days after it is collected." in text
    assert 'action="/payments/payouts/pay-now/"' not in text


def test_the_payouts_page_shows_balances_and_payouts(admin_client):
    today = timezone.localdate()
    BalanceEntry.objects.create(
        processor="builtin", currency="EUR", amount=Decimal("242.00"), kind="charge", available_on=today
    )
    BalanceEntry.objects.create(
        processor="builtin", currency="EUR", amount=Decimal("100.00"), kind="charge", available_on=today + timedelta(2)
    )
    [payout] = payouts_run(today=today)

    text = admin_client.get("/payments/payouts/").content.decode()

    assert "Available · EUR" in text and "Pending · EUR" in text
    assert "€0.00" in text and "€100.00" in text  # available after the payout, and pending
    assert f'href="/payments/payouts/{payout.pk}/"' in text
    assert "€242.00" in text
    assert "Paid out in the last 30 days" in text


def test_a_payout_lists_its_ledger_rows_and_their_total(admin_client):
    payout, payment, invoice = _paid_out()

    response = admin_client.get(f"/payments/payouts/{payout.pk}/")

    assert response.status_code == 200
    text = response.content.decode()
    assert "Payout of €238.36" in text
    assert text.count(f"{invoice.number} · Fjordline AS") == 2  # the charge and its fee
    assert "Processing fee" in text and "-€3.64" in text
    assert "€238.36" in text
    assert "Download CSV" in text


def test_the_csv_lists_every_row_of_the_payout(admin_client):
    payout, payment, invoice = _paid_out()
    day = timezone.localdate(BalanceEntry.objects.get(payment=payment, kind="charge").created_at).isoformat()
    available = payout.period_end.isoformat()

    response = admin_client.get(f"/payments/payouts/{payout.pk}/export/")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="payout-{payout.pk}-{payout.period_end:%Y%m%d}.csv"' in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    description = f"{invoice.number} · Fjordline AS"
    assert rows == [
        ["Payout", "Date", "Available on", "Type", "Payment", "Invoice", "Description", "Currency", "Amount"],
        [str(payout.pk), day, available, "Charge", payment.public_id, invoice.number, description, "EUR", "242.00"],
        [
            str(payout.pk),
            day,
            available,
            "Processing fee",
            payment.public_id,
            invoice.number,
            description,
            "EUR",
            "-3.64",
        ],
    ]
    assert sum(Decimal(r[8]) for r in rows[1:]) == payout.amount


def test_the_excel_csv_uses_semicolons_and_decimal_commas(admin_client):
    payout, _payment, _invoice = _paid_out()
    response = admin_client.get(f"/payments/payouts/{payout.pk}/export/?format=excel")
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert [r[8] for r in rows] == ["Amount", "242,00", "-3,64"]


def test_exporting_needs_the_export_permission(tenant_alpha):
    payout, _payment, _invoice = _paid_out()
    viewer = _client("read_only")
    assert viewer.get(f"/payments/payouts/{payout.pk}/").status_code == 200
    assert "Download CSV" not in viewer.get(f"/payments/payouts/{payout.pk}/").content.decode()
    assert viewer.get(f"/payments/payouts/{payout.pk}/export/").status_code == 403


def test_an_unknown_payout_is_a_404(admin_client):
    assert admin_client.get("/payments/payouts/999999/").status_code == 404
    assert admin_client.get("/payments/payouts/999999/export/").status_code == 404


def test_signed_out_visitors_are_sent_to_log_in(client_alpha):
    response = client_alpha.get("/payments/payouts/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_a_stripe_payout_is_shown_read_only(admin_client):
    event = ProcessorEvent(
        kind="payout.created",
        reference="po_1Nabc",
        data={"amount": "1520.40", "currency": "eur", "status": "in_transit", "arrival_date": "2026-03-05"},
    )
    payout = payout_event_apply(processor_key="stripe", event=event)

    text = admin_client.get(f"/payments/payouts/{payout.pk}/").content.decode()

    assert "po_1Nabc" in text and "In transit" in text
    assert "Stripe lists the transactions of its payouts in your Stripe dashboard." in text
    assert "Download CSV" not in text


@pytest.fixture
def manual(tenant_alpha):
    PaymentSettings.objects.update_or_create(pk=1, defaults={"payout_schedule": PayoutSchedule.MANUAL})


def test_an_admin_pays_out_now_once_per_form(admin_client, manual):
    BalanceEntry.objects.create(
        processor="builtin", currency="EUR", amount=Decimal("80.00"), kind="charge", available_on=timezone.localdate()
    )
    assert 'action="/payments/payouts/pay-now/"' in admin_client.get("/payments/payouts/").content.decode()
    form = key()

    first = admin_client.post("/payments/payouts/pay-now/", form)
    again = admin_client.post("/payments/payouts/pay-now/", form)

    payout = Payout.objects.get()
    assert payout.amount == Decimal("80.00")
    assert first["Location"] == again["Location"] == f"/payments/payouts/{payout.pk}/"


def test_pay_out_now_needs_a_form_key_and_something_to_pay(admin_client, manual):
    assert admin_client.post("/payments/payouts/pay-now/").status_code == 400
    response = admin_client.post("/payments/payouts/pay-now/", key(), follow=True)
    assert "Nothing is available to pay out." in response.content.decode()
    assert not Payout.objects.exists()


def test_only_admins_pay_out_by_hand(manual):
    BalanceEntry.objects.create(
        processor="builtin", currency="EUR", amount=Decimal("80.00"), kind="charge", available_on=timezone.localdate()
    )
    finance = _client("finance")
    assert 'action="/payments/payouts/pay-now/"' not in finance.get("/payments/payouts/").content.decode()
    assert finance.post("/payments/payouts/pay-now/", {FIELD: key()[FIELD]}).status_code == 403
    assert not Payout.objects.exists()
