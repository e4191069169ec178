"""Retries that really run at once: two retry jobs (each its own connection, committed data, tasks run as the worker
runs them) make one payment attempt for a due invoice, and two collectors handed the same invoice at the same moment
charge its attempt once."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from billing.models import DunningStatus, InvoiceDunning, InvoiceStatus
from billing.selectors.receivables import invoice_figures
from billing.services.subscription_dunning import dunning_charge_failed, dunning_retries_run
from commerce_hub.tenancy.models import Tenant
from payments.models import Payment, PaymentStatus, SimulatedObject
from payments.processors.builtin import CARD_INSUFFICIENT_FUNDS, CARD_SUCCESS
from payments.services.subscription_charges import subscription_invoices_retry
from tests.billing.subscription_dunning_data import settings_set, subscription_invoice_make, subscription_make
from tests.concurrency import in_threads
from tests.payments.test_subscription_dunning import card_saved


def _as_live_tenant(fn):
    """fn in the live tenant itself (emails link to its domain), not just its schema."""

    def run(_n):
        connection.set_tenant(Tenant.objects.get(schema_name="t_live"))
        return fn()

    return run


def _due_case(number: str):
    """A subscription invoice whose first charge failed two days ago: its first retry is due."""
    settings_set()
    saved = card_saved(number, key=f"setup-{number}")
    subscription = subscription_make(method_ref=saved.processor_reference)
    invoice = subscription_invoice_make(subscription)
    dunning_charge_failed(
        invoice_id=invoice.pk, attempt=1, code="insufficient_funds", now=timezone.now() - timedelta(days=2)
    )
    return invoice


def test_two_retry_jobs_at_once_make_one_payment_attempt(django_db_setup, live_tenant, eager_tasks):
    invoice = _due_case(CARD_SUCCESS)

    handed = in_threads(2, _as_live_tenant(dunning_retries_run))

    assert sorted(handed) == [0, 1]
    (payment,) = Payment.objects.filter(invoice=invoice)
    assert payment.attempt_key == f"subscription-invoice-{invoice.pk}-try-2"
    assert payment.status == PaymentStatus.SUCCEEDED
    assert SimulatedObject.objects.filter(kind="payment").count() == 1
    invoice.refresh_from_db()
    assert (invoice.status, invoice_figures(invoice).paid) == (InvoiceStatus.PAID, Decimal("242.00"))
    assert InvoiceDunning.objects.get(invoice=invoice).status == DunningStatus.RECOVERED


@pytest.mark.parametrize("number", [CARD_SUCCESS, CARD_INSUFFICIENT_FUNDS])
def test_two_collectors_handed_the_same_invoice_at_once_charge_its_attempt_once(
    django_db_setup, live_tenant, eager_tasks, number
):
    invoice = _due_case(number)

    in_threads(3, _as_live_tenant(lambda: subscription_invoices_retry(invoice_ids=[invoice.pk])))

    assert Payment.objects.filter(invoice=invoice).count() == 1
    assert SimulatedObject.objects.filter(kind="payment").count() <= 1  # a declined card leaves no charge
    assert Payment.objects.filter(invoice=invoice, status=PaymentStatus.SUCCEEDED).count() == (
        1 if number == CARD_SUCCESS else 0
    )
    dunning = InvoiceDunning.objects.get(invoice=invoice)
    assert dunning.failures == (1 if number == CARD_SUCCESS else 2)
