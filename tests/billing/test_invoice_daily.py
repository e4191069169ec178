"""The hourly invoice job: beat fans it out to every tenant, and in a tenant it flags overdue invoices, sends
reminders and invoices late fees."""

from datetime import timedelta
from unittest import mock

from django.db import connection
from django.utils import timezone

from billing import tasks
from billing.models import Invoice
from billing.services.invoices import invoice_finalize
from tests.billing.invoicing import draft_make, seller_ready


def test_the_hourly_job_sends_one_message_per_tenant_never_public(db):
    connection.set_schema_to_public()
    seen = []
    with mock.patch.object(tasks.invoices_daily, "delay", side_effect=lambda: seen.append(connection.schema_name)):
        count = tasks.invoices_daily_all_tenants.run()
    assert count == len(seen)
    assert {"t_alpha", "t_bravo", "t_live"} <= set(seen)
    assert "public" not in seen and connection.schema_name == "public"


def test_in_a_tenant_it_flags_what_became_overdue(tenant_alpha):
    seller_ready()
    invoice = invoice_finalize(
        invoice=draft_make(), actor=None, issue_date=timezone.localdate() - timedelta(days=30)
    )  # due 16 days ago
    tasks.invoices_daily.run()
    assert Invoice.objects.get(pk=invoice.pk).overdue_at is not None
