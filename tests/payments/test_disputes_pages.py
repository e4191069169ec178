"""The seller answers a built-in dispute from the payment's page: accept it after a confirmation, or send evidence.
Each form runs once per key; people without the refund permission and other processors' disputes are refused."""

from decimal import Decimal

import pytest
from django.contrib.auth.context_processors import PermWrapper
from django.template.loader import render_to_string
from django.test import Client

from billing.selectors.receivables import invoice_figures
from payments.models import Dispute, DisputeStatus, PaymentEvent
from payments.processors.builtin import CARD_DISPUTED
from payments.services.processor_events import builtin_tick_apply
from tests.billing.invoicing import key
from tests.conftest import user_make
from tests.payments.paying import CARD, open_invoice, pay


@pytest.fixture
def disputed(tenant_alpha):
    """A 242.00 payment with the disputed test card, disputed by the built-in processor's clock."""
    invoice = open_invoice()
    payment = pay(invoice, data=CARD | {"number": CARD_DISPUTED})
    builtin_tick_apply()
    return Dispute.objects.select_related("payment").get(payment=payment), invoice


def _panel(payment, user):
    return render_to_string("payments/disputes/_panel.html", {"payment": payment, "perms": PermWrapper(user)})


def test_the_panel_shows_the_dispute_and_the_answers_to_people_who_may_answer(disputed, admin_user):
    dispute, _invoice = disputed
    html = _panel(dispute.payment, admin_user)
    assert "Needs response" in html and "€242.00" in html and "fraudulent" in html
    assert "Evidence due by" in html
    assert f'action="/payments/disputes/{dispute.pk}/evidence/"' in html
    assert f'href="/payments/disputes/{dispute.pk}/accept/"' in html

    viewer = _panel(dispute.payment, user_make("read_only"))
    assert "Needs response" in viewer and "/evidence/" not in viewer and "/accept/" not in viewer


def test_a_payment_without_disputes_shows_no_panel(tenant_alpha, admin_user):
    assert _panel(pay(open_invoice()), admin_user).strip() == ""


def test_accepting_asks_first_then_loses_the_dispute_once(disputed, admin_client):
    dispute, invoice = disputed
    page = admin_client.get(f"/payments/disputes/{dispute.pk}/accept/")
    assert page.status_code == 200
    assert "Accept this dispute?" in page.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.NEEDS_RESPONSE  # nothing happens on GET

    form = key()
    first = admin_client.post(f"/payments/disputes/{dispute.pk}/accept/", form)
    again = admin_client.post(f"/payments/disputes/{dispute.pk}/accept/", form)

    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.LOST
    assert invoice_figures(invoice).due == Decimal("242.00")  # charged back once
    assert PaymentEvent.objects.filter(payment=dispute.payment, kind="dispute_accepted").count() == 1


def test_accepting_without_a_form_key_does_nothing(disputed, admin_client):
    dispute, _invoice = disputed
    assert admin_client.post(f"/payments/disputes/{dispute.pk}/accept/").status_code == 400
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.NEEDS_RESPONSE


def test_evidence_puts_the_dispute_under_review(disputed, admin_client, admin_user):
    dispute, _invoice = disputed
    response = admin_client.post(
        f"/payments/disputes/{dispute.pk}/evidence/", key() | {"evidence": "Delivered on 2 March, signed for."}
    )
    assert response.status_code == 302
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.UNDER_REVIEW
    event = PaymentEvent.objects.get(payment=dispute.payment, kind="dispute_evidence_submitted")
    assert event.data["evidence"] == "Delivered on 2 March, signed for."
    assert "Evidence sent. The bank is reviewing it." in _panel(dispute.payment, admin_user)


def test_empty_or_oversized_evidence_is_refused_next_to_the_field(disputed, admin_client):
    dispute, _invoice = disputed
    empty = admin_client.post(f"/payments/disputes/{dispute.pk}/evidence/", key() | {"evidence": "  "})
    assert empty.status_code == 400
    assert "This field is required." in empty.content.decode()
    long = admin_client.post(f"/payments/disputes/{dispute.pk}/evidence/", key() | {"evidence": "x" * 5001})
    assert long.status_code == 400
    assert "Ensure this value has at most 5000 characters" in long.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.NEEDS_RESPONSE


def test_a_dispute_answered_already_is_not_answered_again(disputed, admin_client):
    dispute, invoice = disputed
    admin_client.post(f"/payments/disputes/{dispute.pk}/evidence/", key() | {"evidence": "Delivered."})

    response = admin_client.post(f"/payments/disputes/{dispute.pk}/accept/", key(), follow=True)

    assert "This dispute was answered already." in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.UNDER_REVIEW
    assert invoice_figures(invoice).due == 0


def test_people_without_the_refund_permission_cannot_answer(disputed):
    dispute, _invoice = disputed
    sales = Client(HTTP_HOST="alpha.localhost")
    sales.force_login(user_make("sales"))
    assert sales.get(f"/payments/disputes/{dispute.pk}/accept/").status_code == 403
    assert sales.post(f"/payments/disputes/{dispute.pk}/accept/", key()).status_code == 403
    assert sales.post(f"/payments/disputes/{dispute.pk}/evidence/", key() | {"evidence": "x"}).status_code == 403
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.NEEDS_RESPONSE


def test_an_unknown_dispute_is_a_404(admin_client):
    assert admin_client.get("/payments/disputes/999999/accept/").status_code == 404
    assert admin_client.post("/payments/disputes/999999/evidence/", key() | {"evidence": "x"}).status_code == 404


def test_a_stripe_dispute_is_answered_in_stripe(admin_client, admin_user):
    from payments.models import Payment, PaymentStatus
    from payments.processors.base import ProcessorEvent
    from payments.services.disputes import dispute_event_apply

    payment = Payment.objects.create(
        public_id="pay_stripe_1",
        attempt_key="stripe-attempt-1",
        amount=Decimal("100.00"),
        currency="EUR",
        method="card",
        processor="stripe",
        processor_reference="pi_123",
        status=PaymentStatus.SUCCEEDED,
    )
    data = {"payment_reference": "pi_123", "amount": "100.00", "currency": "EUR", "status": "needs_response"}
    dispute = dispute_event_apply(
        processor_key="stripe", event=ProcessorEvent(kind="dispute.opened", reference="dp_1", data=data)
    )

    assert "Answer this dispute in your processor's dashboard." in _panel(payment, admin_user)
    response = admin_client.post(f"/payments/disputes/{dispute.pk}/accept/", key(), follow=True)
    assert "Answer this dispute in your processor&#x27;s dashboard." in response.content.decode()
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.NEEDS_RESPONSE
