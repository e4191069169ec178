"""Every call to Exact runs from an outbox handler or a task outside any database transaction, so a slow Exact
never holds a lock: the whole path from a deal's stage change to the invoice in Exact, with the real outbox."""

import pytest
from django.db import connection

from billing.models import Invoice
from crm.services.records import deal_move_stage
from integrations.exact import http
from integrations.exact.services.receivables import receivables_pull
from tests.integrations.exact.conftest import connect, deal_make, settings_save, won_stage


@pytest.fixture
def watched():
    seen = []

    def hook(method, url):
        seen.append((method, url, connection.in_atomic_block))

    http.request_hooks.append(hook)
    yield seen
    http.request_hooks.remove(hook)


def test_every_exact_call_runs_outside_a_transaction(fake_exact, django_db_setup, live_tenant, eager_tasks, watched):
    from tests.billing.invoicing import seller_ready

    connect(fake_exact)
    seller_ready()
    deal = deal_make()
    settings_save(
        invoices_enabled=True,
        invoice_mode="processed",
        invoice_stages=[{"pipeline": deal.pipeline_id, "stage": won_stage(deal.pipeline).pk}],
    )
    watched.clear()
    # The stage change commits; the outbox hands the event to a worker (eager here), which runs the handlers.
    deal_move_stage(deal=deal, stage_id=won_stage(deal.pipeline).pk, actor=None)
    invoice = Invoice.objects.get(deal=deal)
    assert [r["YourRef"] for r in fake_exact.rows("salesinvoice/SalesInvoices")] == [invoice.number]
    fake_exact.receivable_pay(invoice.number)
    receivables_pull()
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    assert any("SalesInvoices" in url for _m, url, _a in watched)
    assert [call for call in watched if call[2]] == []
