"""Refunds from a payment's record page: the form, the confirmation step, the booking the person chose (balance
reopened, credit note), inline errors that write nothing, who may refund, and double submits."""

import re
from decimal import Decimal

import pytest
from django.core import mail

from billing.models import CreditNote
from billing.selectors.receivables import invoice_figures
from commerce_hub.accounts.models import Role
from commerce_hub.events.models import OutboxEvent
from commerce_hub.events.services import event_deliver
from commerce_hub.idempotency.models import IdempotencyKey
from commerce_hub.mail import email_deliver
from payments.models import Payment, Refund, RefundMode
from tests.conftest import user_make
from tests.payments.paying import open_invoice, pay

KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


@pytest.fixture
def paid(tenant_alpha):
    """A card payment of 242.00 (fee 3.64) that paid its invoice in full."""
    invoice = open_invoice()
    return pay(invoice), invoice


def _url(payment: Payment) -> str:
    return f"/payments/{payment.pk}/refund/"


def _form(amount="42.00", mode=RefundMode.REOPEN, reason="requested_by_customer", note="") -> dict:
    return {"amount": amount, "mode": mode, "reason": reason, "note": note}


def _review(client, payment, **fields):
    """Step one: the form checked, the confirmation shown with a fresh one-time key."""
    response = client.post(_url(payment), _form(**fields))
    assert response.status_code == 200, response.content.decode()[:2000]
    return response, KEY.search(response.content.decode()).group(1)


def _confirm(client, payment, key, **fields):
    return client.post(_url(payment), _form(**fields) | {"confirm": "1", "idempotency_key": key})


def test_partial_refund_through_the_page_reopens_the_balance(admin_client, paid, admin_user):
    payment, invoice = paid
    page = admin_client.get(f"/payments/{payment.pk}/").content.decode()
    assert 'name="amount" value="242.00"' in page  # the refundable amount, ready for a full refund
    assert "The money goes back and the invoice owes that amount again." in page

    review, key = _review(admin_client, payment)
    html = review.content.decode()
    assert "Refund €42.00?" in html
    assert f"€42.00 goes back to Visa •••• 4242. Invoice {invoice.number} owes €42.00 again." in " ".join(html.split())
    assert "<dt>Left to refund afterwards</dt><dd>€200.00</dd>" in html
    assert not Refund.objects.exists()  # nothing moves before the confirmation

    response = _confirm(admin_client, payment, key)
    assert response.status_code == 302 and response["Location"] == f"/payments/{payment.pk}/"
    refund = Refund.objects.get()
    assert (refund.amount, refund.mode, refund.status, refund.created_by) == (
        Decimal("42.00"),
        "reopen",
        "succeeded",
        admin_user,
    )
    figures = invoice_figures(invoice)
    assert (figures.paid, figures.due, figures.status) == (Decimal("200.00"), Decimal("42.00"), "partially_paid")

    page = admin_client.get(response["Location"]).content.decode()
    assert "€42.00 refunded." in page
    assert "<dt>Refunded</dt><dd>€42.00</dd>" in page
    assert "<dt>Refundable</dt><dd>€200.00</dd>" in page
    assert "total €242.00, due €42.00" in page
    assert "Balance reopened" in page and "Requested by the customer" in page
    assert "Refund of €42.00 requested" in page and "€42.00 refunded; the invoice owes it again" in page
    assert '<span class="badge">Partially refunded</span>' in page


def test_credit_note_refund_keeps_the_invoice_paid_and_shows_the_note(admin_client, paid):
    payment, invoice = paid
    _review_response, key = _review(admin_client, payment, amount="121.00", mode=RefundMode.CREDIT_NOTE)
    assert _confirm(admin_client, payment, key, amount="121.00", mode=RefundMode.CREDIT_NOTE).status_code == 302
    note = CreditNote.objects.get(invoice=invoice)
    assert note.total == Decimal("121.00")
    assert invoice_figures(invoice).due == Decimal("0")
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    page = admin_client.get(f"/payments/{payment.pk}/").content.decode()
    assert f"Credit note {note.number}" in page
    assert "€121.00 refunded with a credit note" in page


def test_a_full_refund_marks_the_payment_refunded_and_hides_the_form(admin_client, paid):
    payment, invoice = paid
    _response, key = _review(admin_client, payment, amount="242.00")
    _confirm(admin_client, payment, key, amount="242.00")
    page = admin_client.get(f"/payments/{payment.pk}/").content.decode()
    assert '<span class="badge badge-muted">Refunded</span>' in page
    assert "Review refund" not in page
    assert invoice_figures(invoice).due == Decimal("242.00")
    index = admin_client.get("/payments/?view=refunded")
    assert [r.pk for r in index.context["page"].rows] == [payment.pk]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("242.01", "At most €242.00 is left to refund."),
        ("1e9999", "Enter an amount below 1,000,000,000,000."),
        ("-5", "Enter an amount above zero."),
        ("0", "Enter an amount above zero."),
        ("abc", "“abc” is not a number."),
        ("12.345", "Use at most the currency&#x27;s decimals."),
        ("NaN", "“NaN” is not a number."),
        ("", "This field is required."),
        ("9" * 60, "That number is too long."),
    ],
)
def test_bad_amounts_are_inline_errors_and_nothing_is_written(admin_client, paid, amount, message):
    payment, invoice = paid
    for data in (_form(amount=amount), _form(amount=amount) | {"confirm": "1", "idempotency_key": "k" * 32}):
        response = admin_client.post(_url(payment), data)
        assert response.status_code == 400
        html = response.content.decode()
        assert f'<small class="field-error" id="id_amount_error">{message}</small>' in html
    assert not Refund.objects.exists()
    assert not IdempotencyKey.objects.filter(scope="payment.refund").exists()
    assert invoice_figures(invoice).due == Decimal("0")


def test_more_than_is_left_after_earlier_refunds_is_refused_with_what_is_left(admin_client, paid):
    payment, _invoice = paid
    _response, key = _review(admin_client, payment, amount="200.00")
    _confirm(admin_client, payment, key, amount="200.00")
    response = admin_client.post(_url(payment), _form(amount="50.00"))
    assert response.status_code == 400
    assert "At most €42.00 is left to refund." in response.content.decode()
    assert Refund.objects.count() == 1


def test_the_service_refusal_under_the_lock_is_shown_on_the_form_and_frees_the_key(admin_client, paid, monkeypatch):
    """The form's check reads what is refundable without the lock; the service checks again under it. When a
    refund made meanwhile leaves too little, the service's refusal comes back on the form and the key can be reused."""
    payment, _invoice = paid
    _response, key = _review(admin_client, payment, amount="100.00")
    monkeypatch.setattr("payments.views.records.payment_refundable", lambda p: Decimal("242.00"))
    Refund.objects.create(
        public_id="re_meanwhile", payment=payment, amount=Decimal("200.00"), currency="EUR", mode="reopen"
    )
    response = _confirm(admin_client, payment, key, amount="100.00")
    assert response.status_code == 400
    assert "is left to refund." in response.content.decode()
    assert Refund.objects.count() == 1
    assert not IdempotencyKey.objects.filter(scope="payment.refund", key=key).exists()


def test_sales_cannot_see_the_form_nor_refund(client_alpha, paid):
    payment, _invoice = paid
    client_alpha.force_login(user_make(Role.SALES))
    page = client_alpha.get(f"/payments/{payment.pk}/")
    assert page.status_code == 200
    assert "Review refund" not in page.content.decode()
    assert client_alpha.get(_url(payment)).status_code == 403
    response = client_alpha.post(_url(payment), _form() | {"confirm": "1", "idempotency_key": "k" * 32})
    assert response.status_code == 403
    assert not Refund.objects.exists()
    client_alpha.force_login(user_make(Role.FINANCE))
    assert "Review refund" in client_alpha.get(f"/payments/{payment.pk}/").content.decode()


def test_double_submit_of_the_confirmed_form_refunds_once(admin_client, paid):
    payment, invoice = paid
    _response, key = _review(admin_client, payment)
    first = _confirm(admin_client, payment, key)
    again = _confirm(admin_client, payment, key)
    assert first.status_code == again.status_code == 302
    assert again["Location"] == first["Location"]
    assert Refund.objects.count() == 1
    assert invoice_figures(invoice).due == Decimal("42.00")
    assert "That was already done; nothing was repeated." in admin_client.get(again["Location"]).content.decode()
    # The same key with another amount is refused, and nothing moves.
    other = _confirm(admin_client, payment, key, amount="10.00")
    assert other.status_code == 422
    assert Refund.objects.count() == 1
    # A post without its key is refused before anything runs.
    assert admin_client.post(_url(payment), _form() | {"confirm": "1"}).status_code == 400
    assert Refund.objects.count() == 1


def test_htmx_swaps_the_panel_through_both_steps(admin_client, paid):
    payment, _invoice = paid
    htmx = {"HTTP_HX_REQUEST": "true"}
    errors = admin_client.post(_url(payment), _form(amount="500"), **htmx)
    assert errors.status_code == 200  # htmx swaps 2xx only
    html = errors.content.decode()
    assert html.startswith('<div id="refund-panel">') and "At most €242.00 is left to refund." in html
    review = admin_client.post(_url(payment), _form(), **htmx).content.decode()
    assert review.startswith('<div id="refund-panel">') and "Refund €42.00?" in review
    back = admin_client.post(_url(payment), _form(note="Box damaged") | {"edit": "1"}, **htmx).content.decode()
    assert 'value="42.00"' in back and "Box damaged</textarea>" in back and "Review refund" in back
    key = KEY.search(review).group(1)
    done = admin_client.post(_url(payment), _form() | {"confirm": "1", "idempotency_key": key}, **htmx)
    assert done["HX-Redirect"] == f"/payments/{payment.pk}/"
    assert Refund.objects.get().amount == Decimal("42.00")


def test_a_payment_that_has_not_succeeded_cannot_be_refunded(admin_client, tenant_alpha):
    from payments.processors.builtin import CARD_DECLINED

    declined = pay(open_invoice(), data={"number": CARD_DECLINED, "cvc": "1"})
    response = admin_client.post(_url(declined), _form())
    assert response.status_code == 302
    assert "Only a succeeded payment can be refunded." in admin_client.get(response["Location"]).content.decode()
    assert not Refund.objects.exists()


def test_the_buyer_is_told_once_when_the_refund_succeeded(admin_client, paid, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    payment, invoice = paid
    _response, key = _review(admin_client, payment)
    _confirm(admin_client, payment, key)
    event = OutboxEvent.objects.get(name="refund.succeeded")
    event_deliver(event_id=event.pk)
    event_deliver(event_id=event.pk)  # delivered again: nothing more
    from commerce_hub.events.models import OutgoingEmail

    email = OutgoingEmail.objects.get(subject__contains="refunded")
    assert email.to == "kari@fjordline.example"
    assert email.subject == "Alpha Handel B.V. refunded €42.00"
    assert email_deliver(email_id=email.pk) is True
    body = " ".join(mail.outbox[0].body.split())
    assert f"We have refunded €42.00 of your payment of €242.00 for invoice {invoice.number}" in body
    assert "The money goes back to Visa •••• 4242. It usually arrives within 5 to 10 business days" in body
    page = admin_client.get(f"/payments/{payment.pk}/").content.decode()
    assert "Refund notice emailed to kari@fjordline.example" in page


def test_customer_credit_is_refunded_to_the_payment_it_came_from(admin_client, paid):
    from billing.selectors.receivables import credit_available, invoice_account
    from billing.services.credit_notes import LineCredit, credit_note_create

    payment, invoice = paid
    page = admin_client.get(f"/payments/{payment.pk}/").content.decode()
    assert "Refund the customer&#x27;s credit" not in page  # no credit, no such choice
    # A credit note on the paid invoice leaves the customer 121.00 of credit (1 x 100.00 + 21% VAT).
    credit_note_create(invoice=invoice, actor=None, lines=[LineCredit(index=0, quantity=Decimal("1"))])
    account = invoice_account(invoice)
    assert credit_available(account, "EUR") == Decimal("121.00")
    page = admin_client.get(f"/payments/{payment.pk}/").content.decode()
    assert "Refund the customer&#x27;s credit" in page
    assert "Pays back credit the customer holds (an overpayment, say); the invoice stays as it is." in page

    too_much = admin_client.post(_url(payment), _form(amount="150.00", mode=RefundMode.CREDIT))
    assert too_much.status_code == 400
    assert "The customer has €121.00 of credit to refund." in too_much.content.decode()
    _response, key = _review(admin_client, payment, amount="121.00", mode=RefundMode.CREDIT)
    assert _confirm(admin_client, payment, key, amount="121.00", mode=RefundMode.CREDIT).status_code == 302
    refund = Refund.objects.get()
    assert (refund.mode, refund.status, refund.amount) == ("credit", "succeeded", Decimal("121.00"))
    assert credit_available(account, "EUR") == Decimal("0")
    assert invoice_figures(invoice).due == Decimal("0")
    assert "€121.00 of customer credit refunded" in admin_client.get(f"/payments/{payment.pk}/").content.decode()
