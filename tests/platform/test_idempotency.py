"""Idempotency keys: the first request with a key acts and its answer is stored; the same form again gets that
answer without acting; the same key with other values, or no key at all, is refused with a clear message; a request
that fails after claiming its key leaves nothing behind and can be sent again; keys go after 24 hours."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from billing.models import CreditNote, EntryKind, Invoice, InvoicePayment, InvoiceStatus, ReceivableEntry
from billing.selectors.receivables import account_for_buyer, credit_available, invoice_figures
from billing.services.invoice_payments import invoice_record_payment
from billing.services.receivables import customer_credit_add
from commerce_hub.events.models import OutgoingEmail
from commerce_hub.idempotency.errors import KeyInProgress, KeyMissing, KeyReused
from commerce_hub.idempotency.models import IdempotencyKey
from commerce_hub.idempotency.services import (
    idempotency_fingerprint,
    idempotency_key_claim,
    idempotency_key_complete,
    idempotent_call,
    key_new,
)
from commerce_hub.idempotency.tasks import prune
from commerce_hub.idempotency.web import FIELD
from tests.billing.invoicing import draft_make, finalized_make, form_key, key, seller_ready

MISSING = "This form was sent without its one-time key, so nothing was done."
REUSED = "This form was already submitted with other values, so nothing was done."
REPLAYED = "That was already done; nothing was repeated."


@pytest.fixture
def seller(tenant_alpha):
    return seller_ready()


# --- fingerprints -----------------------------------------------------------------------------------------------------


def test_a_fingerprint_ignores_the_order_of_values_and_trailing_zeros():
    first = idempotency_fingerprint(
        params={"amount": Decimal("10.00"), "paid_on": date(2026, 11, 30), "to": {"b@x.example", "a@x.example"}},
        target="billing.invoice:7",
        user_id=3,
    )
    second = idempotency_fingerprint(
        params={"to": ["a@x.example", "b@x.example"], "paid_on": "2026-11-30", "amount": Decimal("10")},
        target="billing.invoice:7",
        user_id=3,
    )
    assert first == second
    assert len(first) == 64


@pytest.mark.parametrize(
    "change",
    [
        {"params": {"amount": Decimal("10.01")}},
        {"target": "billing.invoice:8"},
        {"user_id": 4},
        {"params": {"amount": Decimal("10"), "reference": "TRX-1"}},
    ],
)
def test_a_fingerprint_changes_with_the_values_the_target_or_the_user(change):
    base = {"params": {"amount": Decimal("10")}, "target": "billing.invoice:7", "user_id": 3}
    assert idempotency_fingerprint(**base) != idempotency_fingerprint(**(base | change))


# --- claims -----------------------------------------------------------------------------------------------------------


def test_the_first_claim_acts_and_the_second_gets_the_stored_result(tenant_alpha):
    with transaction.atomic():
        first = idempotency_key_claim(scope="test.act", key="k-1", fingerprint="f" * 64)
        assert first.first
        idempotency_key_complete(row=first.row, status=302, location="/billing/invoices/7/")
    with transaction.atomic():
        again = idempotency_key_claim(scope="test.act", key="k-1", fingerprint="f" * 64)
    assert not again.first
    assert (again.row.status, again.row.response_status, again.row.response_location) == (
        "done",
        302,
        "/billing/invoices/7/",
    )
    # Keys are unique per action: the same key for another action is a claim of its own.
    with transaction.atomic():
        assert idempotency_key_claim(scope="test.other", key="k-1", fingerprint="e" * 64).first


def test_the_same_key_with_other_parameters_is_refused(tenant_alpha):
    with transaction.atomic():
        claim = idempotency_key_claim(scope="test.act", key="k-2", fingerprint="a" * 64)
        idempotency_key_complete(row=claim.row, status=302, location="/x/")
    with pytest.raises(KeyReused), transaction.atomic():
        idempotency_key_claim(scope="test.act", key="k-2", fingerprint="b" * 64)


def test_a_key_claimed_and_committed_without_its_outcome_is_still_in_progress(tenant_alpha):
    with transaction.atomic():
        idempotency_key_claim(scope="test.act", key="k-3", fingerprint="a" * 64)
    with pytest.raises(KeyInProgress), transaction.atomic():
        idempotency_key_claim(scope="test.act", key="k-3", fingerprint="a" * 64)


@pytest.mark.parametrize("bad", ["", "has space", "x" * 256, "naïve"])
def test_a_key_must_be_1_to_255_visible_ascii_characters(tenant_alpha, bad):
    with pytest.raises(KeyMissing), transaction.atomic():
        idempotency_key_claim(scope="test.act", key=bad, fingerprint="a" * 64)


def test_a_claim_is_only_taken_inside_the_transaction_of_the_write(live_tenant):
    with pytest.raises(RuntimeError, match="inside the transaction"):
        idempotency_key_claim(scope="test.act", key="k-4", fingerprint="a" * 64)


def test_idempotent_call_acts_once_and_replays_its_stored_result(tenant_alpha):
    calls = []

    def action():
        calls.append(1)
        return {"payment_id": 41}

    first = idempotent_call(scope="webhook.test", key="evt_1", params={"type": "charge"}, action=action)
    again = idempotent_call(scope="webhook.test", key="evt_1", params={"type": "charge"}, action=action)
    assert (first, again, len(calls)) == (({"payment_id": 41}, False), ({"payment_id": 41}, True), 1)
    with pytest.raises(KeyReused):
        idempotent_call(scope="webhook.test", key="evt_1", params={"type": "refund"}, action=action)


def test_an_error_inside_the_write_rolls_the_claim_back_with_it(tenant_alpha):
    def failing():
        raise RuntimeError("the processor hung up")

    with pytest.raises(RuntimeError):
        idempotent_call(scope="webhook.test", key="evt_2", action=failing)
    assert not IdempotencyKey.objects.filter(key="evt_2").exists()
    assert idempotent_call(scope="webhook.test", key="evt_2", action=lambda: {"ok": True}) == ({"ok": True}, False)


# --- pruning ----------------------------------------------------------------------------------------------------------


def test_keys_older_than_24_hours_are_pruned(tenant_alpha):
    now = timezone.now()
    for name, age in [
        ("old", timedelta(hours=24, minutes=1)),
        ("older", timedelta(days=3)),
        ("young", timedelta(hours=23)),
    ]:
        IdempotencyKey.objects.create(scope="test.act", key=name, fingerprint="a" * 64, created_at=now - age)
    assert prune() == 2
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["young"]


def test_the_beat_job_prunes_every_tenant(tenant_alpha, eager_tasks):
    from django.db import connection

    from commerce_hub.idempotency.tasks import prune_all_tenants

    IdempotencyKey.objects.create(
        scope="test.act", key="stale", fingerprint="a" * 64, created_at=timezone.now() - timedelta(days=2)
    )
    assert prune_all_tenants() == 3  # alpha, bravo and live, each in its own schema
    connection.set_tenant(tenant_alpha)
    assert not IdempotencyKey.objects.exists()


def test_pruning_runs_hourly_for_every_tenant():
    from commerce_hub.celery import app
    from commerce_hub.registry import registered_beat

    entry = registered_beat()["idempotency-prune-all-tenants"]
    assert (entry["task"], entry["schedule"]) == ("commerce_hub.idempotency.prune_all_tenants", 3600.0)
    assert "commerce_hub.idempotency.prune_all_tenants" in app.tasks


# --- the invoice actions ----------------------------------------------------------------------------------------------


def _open_invoice():
    return finalized_make()


def _paid_invoice(admin_user):
    invoice = finalized_make()
    invoice_record_payment(
        invoice=invoice, amount=Decimal("50.00"), paid_on=timezone.localdate(), method="bank_transfer", actor=admin_user
    )
    return invoice


def _with_credit(admin_user):
    invoice = finalized_make()
    customer_credit_add(
        account=account_for_buyer(invoice), currency="EUR", amount=Decimal("20"), reason="Goodwill", actor=admin_user
    )
    return invoice


# (name, make the object, its URL, the form data, what it did: a number that goes from 0 to 1)
ACTIONS = {
    "finalize": (
        lambda user: draft_make(),
        lambda obj: f"/billing/invoices/{obj.pk}/finalize/",
        {},
        lambda obj: Invoice.objects.filter(pk=obj.pk, status=InvoiceStatus.OPEN).count(),
    ),
    "send": (
        lambda user: _open_invoice(),
        lambda obj: f"/billing/invoices/{obj.pk}/send/",
        lambda obj: {"to": [obj.contacts.get().email]},
        lambda obj: OutgoingEmail.objects.filter(to=obj.contacts.get().email).count(),
    ),
    "payment": (
        lambda user: _open_invoice(),
        lambda obj: f"/billing/invoices/{obj.pk}/payments/new/",
        {"amount": "100.00", "paid_on": "2026-11-30", "method": "bank_transfer"},
        lambda obj: InvoicePayment.objects.filter(invoice=obj).count(),
    ),
    "credit note": (
        lambda user: _open_invoice(),
        lambda obj: f"/billing/invoices/{obj.pk}/credit-notes/new/",
        {"mode": "parts", "line_0": "1"},
        lambda obj: CreditNote.objects.filter(invoice=obj).count(),
    ),
    "void": (
        lambda user: _open_invoice(),
        lambda obj: f"/billing/invoices/{obj.pk}/void/",
        {"reason": "Duplicate"},
        lambda obj: ReceivableEntry.objects.filter(invoice=obj, kind=EntryKind.VOIDED).count(),
    ),
    "uncollectible": (
        lambda user: _open_invoice(),
        lambda obj: f"/billing/invoices/{obj.pk}/uncollectible/",
        {},
        lambda obj: ReceivableEntry.objects.filter(invoice=obj, kind=EntryKind.WRITTEN_OFF).count(),
    ),
    "reverse payment": (
        lambda user: _paid_invoice(user).payments.get(),
        lambda obj: f"/billing/payments/{obj.pk}/reverse/",
        {"reason": "Booked on the wrong invoice"},
        lambda obj: int(ReceivableEntry.objects.filter(payment=obj, kind=EntryKind.PAYMENT_REVERSED).exists()),
    ),
    "apply credit": (
        lambda user: _with_credit(user),
        lambda obj: f"/billing/invoices/{obj.pk}/apply-credit/",
        {},
        lambda obj: ReceivableEntry.objects.filter(invoice=obj, kind=EntryKind.CREDIT_APPLIED).count(),
    ),
    "customer credit": (
        lambda user: _open_invoice().company,
        lambda obj: f"/billing/credit/company/{obj.pk}/new/",
        {"amount": "25", "currency": "EUR", "reason": "Goodwill"},
        lambda obj: ReceivableEntry.objects.filter(company=obj, kind=EntryKind.CREDIT_ADDED).count(),
    ),
}


def _data(spec, obj) -> dict:
    data = spec[2]
    return dict(data(obj) if callable(data) else data)


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_refuses_a_request_without_a_key_and_does_nothing(seller, admin_client, admin_user, action):
    make, url, _data_, effect = ACTIONS[action]
    obj = make(admin_user)
    response = admin_client.post(url(obj), _data(ACTIONS[action], obj))
    assert response.status_code == 400
    body = response.content.decode()
    assert MISSING in body
    assert "Reload the form" in body
    assert effect(obj) == 0
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize("action", ACTIONS)
def test_every_action_acts_once_for_a_form_sent_twice(seller, admin_client, admin_user, action):
    make, url, _data_, effect = ACTIONS[action]
    obj = make(admin_user)
    data = _data(ACTIONS[action], obj) | key()
    first = admin_client.post(url(obj), data)
    assert first.status_code == 302
    again = admin_client.post(url(obj), data)
    assert (again.status_code, again["Location"]) == (302, first["Location"])
    assert effect(obj) == 1
    assert IdempotencyKey.objects.get().status == "done"


def test_a_replay_says_nothing_was_repeated(seller, admin_client):
    invoice = finalized_make()
    data = {"amount": "100.00", "paid_on": "2026-11-30", "method": "bank_transfer", **key()}
    admin_client.post(f"/billing/invoices/{invoice.pk}/payments/new/", data)
    again = admin_client.post(f"/billing/invoices/{invoice.pk}/payments/new/", data, follow=True)
    assert REPLAYED in again.content.decode()


def test_the_same_key_with_another_amount_is_refused(seller, admin_client):
    invoice = finalized_make()
    url = f"/billing/invoices/{invoice.pk}/payments/new/"
    data = {"amount": "100.00", "paid_on": "2026-11-30", "method": "bank_transfer", **key()}
    assert admin_client.post(url, data).status_code == 302
    other = admin_client.post(url, data | {"amount": "50.00"})
    assert other.status_code == 422
    assert REUSED in other.content.decode()
    assert f'href="{url}"' in other.content.decode()  # the reload link opens a fresh form
    assert list(InvoicePayment.objects.filter(invoice=invoice).values_list("amount", flat=True)) == [Decimal("100.00")]


def test_the_same_key_from_another_user_is_refused(seller, admin_client):
    from django.test import Client

    from tests.conftest import user_make

    invoice = finalized_make()
    url = f"/billing/invoices/{invoice.pk}/payments/new/"
    data = {"amount": "100.00", "paid_on": "2026-11-30", "method": "bank_transfer", **key()}
    assert admin_client.post(url, data).status_code == 302
    colleague = Client(HTTP_HOST="alpha.localhost")
    colleague.force_login(user_make("finance"))
    assert colleague.post(url, data).status_code == 422
    assert InvoicePayment.objects.filter(invoice=invoice).count() == 1


def test_a_request_refused_after_its_claim_can_be_sent_again_with_the_same_key(seller, admin_client):
    invoice = finalized_make()
    url = f"/billing/invoices/{invoice.pk}/payments/new/"
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    data = {"amount": "100.00", "paid_on": tomorrow, "method": "bank_transfer", **key()}
    refused = admin_client.post(url, data)  # the service refuses a future date, after the key was claimed
    assert refused.status_code == 400
    assert "The payment date cannot be in the future." in refused.content.decode()
    assert not IdempotencyKey.objects.exists()
    fixed = admin_client.post(url, data | {"paid_on": timezone.localdate().isoformat()})
    assert fixed.status_code == 302
    assert InvoicePayment.objects.filter(invoice=invoice).count() == 1


def test_a_crash_inside_the_write_leaves_no_key_and_the_same_request_succeeds_later(seller, admin_client, monkeypatch):
    from billing.services import invoice_payments

    invoice = finalized_make()
    url = f"/billing/invoices/{invoice.pk}/payments/new/"
    data = {"amount": "100.00", "paid_on": "2026-11-30", "method": "bank_transfer", **key()}
    record = invoice_payments.invoice_change_record

    def crash(*args, **kwargs):
        raise ConnectionResetError("worker lost halfway through the write")

    monkeypatch.setattr(invoice_payments, "invoice_change_record", crash)
    with pytest.raises(ConnectionResetError):
        admin_client.post(url, data)
    assert not IdempotencyKey.objects.exists()
    assert not InvoicePayment.objects.filter(invoice=invoice).exists()
    monkeypatch.setattr(invoice_payments, "invoice_change_record", record)
    assert admin_client.post(url, data).status_code == 302
    assert invoice_figures(invoice).paid == Decimal("100.00")
    assert IdempotencyKey.objects.get().status == "done"


def test_a_finalize_that_cannot_go_through_keeps_the_draft_and_its_key_free(seller, admin_client):
    draft = draft_make(lines=())
    url = f"/billing/invoices/{draft.pk}/finalize/"
    submit = key()
    refused = admin_client.post(url, submit, follow=True)
    assert "Add at least one line item." in refused.content.decode()
    assert not IdempotencyKey.objects.exists()
    assert Invoice.objects.get(pk=draft.pk).status == InvoiceStatus.DRAFT


def test_each_rendering_of_a_form_carries_a_fresh_key(seller, admin_client):
    invoice = finalized_make()
    url = f"/billing/invoices/{invoice.pk}/payments/new/"
    first, second = form_key(admin_client.get(url)), form_key(admin_client.get(url))
    assert first != second and len(first) == 32
    # A form rendered again after an error carries a fresh key too.
    bad = admin_client.post(url, {"amount": "x", "paid_on": "2026-11-30", "method": "bank_transfer", FIELD: first})
    assert form_key(bad) not in (first, second)


def test_an_htmx_request_without_a_key_gets_the_message_on_the_page(seller, admin_client):
    invoice = finalized_make()
    response = admin_client.post(f"/billing/invoices/{invoice.pk}/uncollectible/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert (response["HX-Retarget"], response["HX-Reswap"]) == ("#main", "afterbegin")
    assert MISSING in response.content.decode()
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.OPEN


def test_a_json_client_without_a_key_gets_a_json_error(seller, admin_client):
    invoice = finalized_make()
    response = admin_client.post(f"/billing/invoices/{invoice.pk}/uncollectible/", HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_missing"


def test_the_key_may_come_in_the_idempotency_key_header(seller, admin_client):
    invoice = finalized_make()
    url = f"/billing/invoices/{invoice.pk}/uncollectible/"
    assert admin_client.post(url, HTTP_IDEMPOTENCY_KEY=key_new()).status_code == 302
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.UNCOLLECTIBLE


def test_apply_credit_without_a_key_links_back_to_the_invoice(seller, admin_client, admin_user):
    invoice = _with_credit(admin_user)
    response = admin_client.post(f"/billing/invoices/{invoice.pk}/apply-credit/")
    assert response.status_code == 400
    assert f'href="/billing/invoices/{invoice.pk}/"' in response.content.decode()
    assert credit_available(account_for_buyer(invoice), "EUR") == Decimal("20")


def test_an_htmx_replay_sends_the_browser_to_the_first_answer(seller, admin_client):
    invoice = finalized_make()
    url = f"/billing/invoices/{invoice.pk}/uncollectible/"
    submit = key()
    assert admin_client.post(url, submit, HTTP_HX_REQUEST="true").status_code == 302
    again = admin_client.post(url, submit, HTTP_HX_REQUEST="true")
    assert again["HX-Redirect"] == f"/billing/invoices/{invoice.pk}/"


def test_a_view_that_forgets_to_store_its_answer_writes_nothing(tenant_alpha):
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from commerce_hub.idempotency.web import idempotent

    request = RequestFactory().post("/x/", key())
    request.user = AnonymousUser()
    with pytest.raises(RuntimeError, match="claim.done"), idempotent(request, scope="test.forgot"):
        IdempotencyKey.objects.create(scope="test.write", key="the write", fingerprint="a" * 64)
    assert not IdempotencyKey.objects.exists()
