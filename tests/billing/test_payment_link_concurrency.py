"""Never twice: two completions of one paid purchase at the same moment (the worker delivering invoice.paid twice)
create one subscription and one pair of emails; one form sent twice at once makes one purchase. Data is committed
in the live tenant, each thread has its own connection."""

from django.db import connection
from django.test import Client

from billing.models import Invoice, PaymentLinkPurchase, Subscription
from billing.services.invoice_payments import invoice_record_payment
from billing.services.payment_link_checkout import (
    BuyerDetails,
    payment_link_invoice_paid,
    payment_link_purchase_start,
)
from commerce_hub.events.models import OutgoingEmail
from tests.billing.payment_link_data import buyer_form, hosted_url, link_make
from tests.concurrency import in_threads


def test_two_completions_at_once_create_one_subscription(django_db_setup, live_tenant):
    link = link_make()
    purchase = payment_link_purchase_start(
        link=link, buyer=BuyerDetails(email="kari@fjordline.example", name="Kari Nordmann")
    )
    invoice = purchase.invoice
    invoice_record_payment(
        invoice=invoice, amount=invoice.total, paid_on=invoice.issue_date, method="bank_transfer", actor=None
    )

    def complete(_n):
        connection.set_tenant(live_tenant)  # as a worker runs: in the tenant, with its domain for the emails' links
        return payment_link_invoice_paid(invoice_id=invoice.pk)

    results = in_threads(4, complete)
    assert sorted(results) == [False, False, False, True]
    assert Subscription.objects.filter(source_purchase=purchase).count() == 1
    purchase.refresh_from_db()
    assert purchase.status == "paid"
    assert OutgoingEmail.objects.filter(subject__startswith="Your purchase of").count() == 1


def test_one_form_sent_twice_at_once_makes_one_purchase(django_db_setup, live_tenant):
    link = link_make()
    form = buyer_form()
    responses = in_threads(2, lambda _n: Client(HTTP_HOST="live.localhost").post(hosted_url(link), form))
    assert [r.status_code for r in responses] == [302, 302]
    (purchase,) = PaymentLinkPurchase.objects.filter(link=link)
    (invoice,) = Invoice.objects.all()
    assert purchase.invoice_id == invoice.pk
    assert {r["Location"] for r in responses} == {f"/payments/pay/{invoice.public_token}/"}
