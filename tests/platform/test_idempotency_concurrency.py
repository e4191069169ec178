"""Fifty identical submissions of a form at the same moment (a double click, a retrying proxy, tabs) act once.

Each request runs in its own thread with its own database connection against committed data (the live tenant).
The first request's claim of the key holds the unique index until it commits; the others wait on it, then answer
with the stored result.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.models import (
    CreditNote,
    EntryKind,
    Invoice,
    InvoiceEvent,
    InvoicePayment,
    NumberSeries,
    ReceivableEntry,
)
from billing.selectors.receivables import account_for_buyer
from billing.services.invoice_payments import invoice_record_payment
from billing.services.receivables import customer_credit_add
from commerce_hub.accounts.models import Role
from commerce_hub.events.models import OutgoingEmail
from commerce_hub.idempotency.models import IdempotencyKey
from commerce_hub.idempotency.services import idempotency_key_claim, idempotency_key_complete, key_new
from tests.billing.invoicing import draft_make, finalized_make, seller_ready
from tests.conftest import user_make

REQUESTS = 50


def _post_at_once(url: str, data: dict) -> list[tuple[int, str]]:
    """POST the same form REQUESTS times at once, each from its own thread and connection."""
    login = Client(HTTP_HOST="live.localhost")
    login.force_login(user_make(Role.ADMIN))
    session = login.cookies[settings.SESSION_COOKIE_NAME].value
    start = threading.Barrier(REQUESTS)

    def post(_n):
        client = Client(HTTP_HOST="live.localhost")
        client.cookies[settings.SESSION_COOKIE_NAME] = session
        try:
            start.wait(30)
            response = client.post(url, data)
            return response.status_code, response.get("Location", "")
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=REQUESTS) as pool:
        return list(pool.map(post, range(REQUESTS)))


def _assert_every_answer_is_the_invoice_page(answers, invoice_pk: int):
    assert answers == [(302, f"/billing/invoices/{invoice_pk}/")] * REQUESTS


def _assert_one_key_done():
    assert list(IdempotencyKey.objects.values_list("status", flat=True)) == ["done"]


@pytest.fixture
def live(django_db_setup, live_tenant):
    seller_ready()
    return live_tenant


def test_fifty_finalize_submissions_take_one_number(live):
    draft = draft_make()
    answers = _post_at_once(f"/billing/invoices/{draft.pk}/finalize/", {"idempotency_key": key_new()})
    _assert_every_answer_is_the_invoice_page(answers, draft.pk)
    assert Invoice.objects.get(pk=draft.pk).number == "INV-1001"
    assert NumberSeries.objects.get(key="invoice").next_number == 1002
    assert InvoiceEvent.objects.filter(invoice=draft, kind="finalized").count() == 1
    assert ReceivableEntry.objects.filter(invoice=draft, kind=EntryKind.INVOICE_FINALIZED).count() == 1
    _assert_one_key_done()


def test_fifty_send_submissions_send_one_email(live):
    invoice = finalized_make()
    email = invoice.contacts.get().email
    answers = _post_at_once(f"/billing/invoices/{invoice.pk}/send/", {"to": [email], "idempotency_key": key_new()})
    _assert_every_answer_is_the_invoice_page(answers, invoice.pk)
    assert OutgoingEmail.objects.filter(to=email).count() == 1
    assert InvoiceEvent.objects.filter(invoice=invoice, kind__in=["sent", "resent"]).count() == 1
    _assert_one_key_done()


def test_fifty_payment_submissions_record_one_payment(live):
    invoice = finalized_make()
    data = {"amount": "100.00", "paid_on": timezone.localdate().isoformat(), "method": "bank_transfer"}
    answers = _post_at_once(f"/billing/invoices/{invoice.pk}/payments/new/", data | {"idempotency_key": key_new()})
    _assert_every_answer_is_the_invoice_page(answers, invoice.pk)
    assert list(InvoicePayment.objects.values_list("amount", flat=True)) == [Decimal("100.00")]
    assert ReceivableEntry.objects.filter(kind=EntryKind.PAYMENT_RECEIVED).count() == 1
    _assert_one_key_done()


def test_fifty_credit_note_submissions_issue_one_credit_note(live):
    invoice = finalized_make()
    data = {"mode": "parts", "line_0": "1", "reason": "One day less", "idempotency_key": key_new()}
    answers = _post_at_once(f"/billing/invoices/{invoice.pk}/credit-notes/new/", data)
    _assert_every_answer_is_the_invoice_page(answers, invoice.pk)
    assert list(CreditNote.objects.values_list("number", flat=True)) == ["CN-1001"]
    assert ReceivableEntry.objects.filter(kind=EntryKind.CREDIT_NOTE_ISSUED).count() == 1
    _assert_one_key_done()


def test_fifty_void_submissions_void_once(live):
    invoice = finalized_make()
    answers = _post_at_once(f"/billing/invoices/{invoice.pk}/void/", {"reason": "Twice", "idempotency_key": key_new()})
    _assert_every_answer_is_the_invoice_page(answers, invoice.pk)
    assert InvoiceEvent.objects.filter(invoice=invoice, kind="voided").count() == 1
    assert ReceivableEntry.objects.filter(invoice=invoice, kind=EntryKind.VOIDED).count() == 1
    _assert_one_key_done()


def test_fifty_uncollectible_submissions_write_off_once(live):
    invoice = finalized_make()
    answers = _post_at_once(f"/billing/invoices/{invoice.pk}/uncollectible/", {"idempotency_key": key_new()})
    _assert_every_answer_is_the_invoice_page(answers, invoice.pk)
    assert InvoiceEvent.objects.filter(invoice=invoice, kind="uncollectible").count() == 1
    assert ReceivableEntry.objects.filter(invoice=invoice, kind=EntryKind.WRITTEN_OFF).count() == 1
    _assert_one_key_done()


def test_fifty_reverse_submissions_reverse_the_payment_once(live):
    invoice = finalized_make()
    payment = invoice_record_payment(
        invoice=invoice, amount=Decimal("50.00"), paid_on=timezone.localdate(), method="bank_transfer", actor=None
    )
    data = {"reason": "Booked on the wrong invoice", "idempotency_key": key_new()}
    answers = _post_at_once(f"/billing/payments/{payment.pk}/reverse/", data)
    _assert_every_answer_is_the_invoice_page(answers, invoice.pk)
    assert InvoiceEvent.objects.filter(invoice=invoice, kind="payment_reversed").count() == 1
    entries = ReceivableEntry.objects.filter(payment=payment)
    # One opposite entry for each of the payment's three (received, applied to the invoice, moved from credit).
    assert entries.filter(kind=EntryKind.PAYMENT_REVERSED).count() == 3
    assert entries.exclude(kind=EntryKind.PAYMENT_REVERSED).count() == 3
    _assert_one_key_done()


def test_fifty_apply_credit_submissions_apply_it_once(live):
    invoice = finalized_make()
    account = account_for_buyer(invoice)
    customer_credit_add(account=account, currency="EUR", amount=Decimal("10.00"), reason="Goodwill", actor=None)
    answers = _post_at_once(f"/billing/invoices/{invoice.pk}/apply-credit/", {"idempotency_key": key_new()})
    _assert_every_answer_is_the_invoice_page(answers, invoice.pk)
    assert InvoiceEvent.objects.filter(invoice=invoice, kind="credit_applied").count() == 1
    _assert_one_key_done()


def test_fifty_customer_credit_submissions_add_it_once(live):
    invoice = finalized_make()
    data = {"amount": "25", "currency": "EUR", "reason": "Goodwill", "idempotency_key": key_new()}
    answers = _post_at_once(f"/billing/credit/company/{invoice.company_id}/new/", data)
    assert answers == [(302, f"/crm/companies/{invoice.company_id}/")] * REQUESTS
    assert ReceivableEntry.objects.filter(kind=EntryKind.CREDIT_ADDED).count() == 1
    _assert_one_key_done()


# --- the claim itself -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("first_commits", [True, False])
def test_a_second_claim_waits_for_the_first_then_replays_it_or_takes_over(live, first_commits):
    claimed, release = threading.Event(), threading.Event()

    class _RollBack(Exception):
        pass

    def first():
        try:
            with schema_context("t_live"), transaction.atomic():
                claim = idempotency_key_claim(scope="test.wait", key="k", fingerprint="a" * 64)
                claimed.set()
                release.wait(10)
                if not first_commits:
                    raise _RollBack
                idempotency_key_complete(row=claim.row, status=302, location="/done/")
        except _RollBack:
            pass
        finally:
            connection.close()

    def second():
        try:
            with schema_context("t_live"), transaction.atomic():
                claim = idempotency_key_claim(scope="test.wait", key="k", fingerprint="a" * 64)
                if claim.first:
                    idempotency_key_complete(row=claim.row, status=302, location="/second/")
                return claim.first, claim.row.response_location
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        holder = pool.submit(first)
        assert claimed.wait(10)
        waiting = pool.submit(second)
        time.sleep(0.5)
        assert not waiting.done()  # blocked on the unique index while the first transaction is open
        release.set()
        holder.result(10)
        outcome = waiting.result(10)
    assert outcome == ((False, "/done/") if first_commits else (True, "/second/"))
