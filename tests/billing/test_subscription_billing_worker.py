"""The hourly billing run on a real Celery worker and the real broker: the all-tenants task fans out, the tenant's
task bills its due subscription, and after commit the invoice is emailed with its PDF."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tenants.utils import schema_context

from billing.models import Invoice, Subscription
from billing.subscription_tasks import subscriptions_bill_due_all_tenants
from commerce_hub.events.models import OutgoingEmail
from tests.billing.subscribing import subscription_make
from tests.platform.test_celery_worker import WORKER_MAIL, celery_worker  # noqa: F401 - the worker process fixture

pytestmark = pytest.mark.celery_worker


def _wait_for(check, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("the worker did not get there in time")


def test_the_hourly_task_bills_due_subscriptions_and_emails_the_invoices(celery_worker, live_tenant):  # noqa: F811
    today = timezone.localdate()
    subscription = subscription_make(start=today - timedelta(days=40))
    with schema_context("public"):
        subscriptions_bill_due_all_tenants.delay()
    invoices = _wait_for(
        lambda: (
            list(Invoice.objects.filter(subscription=subscription))
            if Invoice.objects.filter(subscription=subscription).count() >= 2
            else None
        )
    )
    assert sorted(i.number for i in invoices) == ["INV-1001", "INV-1002"]
    subscription.refresh_from_db()
    assert subscription.periods_billed == 2 and subscription.next_billing_date > today
    sent = _wait_for(lambda: OutgoingEmail.objects.filter(sent_at__isnull=False).count() >= 2)
    assert sent
    subjects = sorted(OutgoingEmail.objects.values_list("subject", flat=True))
    assert subjects == ["Invoice INV-1001 from Alpha Handel B.V.", "Invoice INV-1002 from Alpha Handel B.V."]
    assert Subscription.objects.get(pk=subscription.pk).invoices.filter(sent_at__isnull=False).count() == 2
