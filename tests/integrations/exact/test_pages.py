"""The sync log (filters, keyset pages, retry), the deal's Exact panel with its manual push."""

from django.urls import reverse

from integrations.exact.services import sync
from integrations.models import SyncLog
from tests.integrations.exact.conftest import company_make
from tests.integrations.exact.test_sync import _configure_invoices


def test_the_sync_log_lists_operations_with_request_and_answer(exact, admin_client):
    company = company_make("Logged BV")
    sync.company_push(company_id=company.pk)
    page = admin_client.get("/integrations/exact/log/").content.decode()
    assert "account_upsert" in page
    assert "Logged BV" in page  # the request body
    assert "Succeeded (201)" in page


def test_the_sync_log_filters_and_pages(exact, admin_client):
    for n in range(55):
        SyncLog.objects.create(operation="account_upsert", status="ok", kind="company", object_id=n)
    SyncLog.objects.create(operation="invoice_create", status="failed", kind="invoice", object_id=1, error="Boom")
    failed = admin_client.get("/integrations/exact/log/?status=failed").content.decode()
    assert "Boom" in failed and "account_upsert" not in failed
    first = admin_client.get("/integrations/exact/log/")
    assert first.content.decode().count("<tr>") == 51  # header + 50 rows
    cursor = first.context["page"].next_cursor
    second = admin_client.get("/integrations/exact/log/", {"after": cursor})
    assert second.content.decode().count("<tr>") == 7  # header + the last 6


def test_retry_sends_the_record_again(exact, admin_client, eager_tasks):
    company = company_make("Retry BV")
    entry = SyncLog.objects.create(operation="account_upsert", status="failed", kind="company", object_id=company.pk)
    response = admin_client.post(f"/integrations/exact/log/{entry.pk}/retry/")
    assert response.status_code == 302
    # Enqueued on commit: the test's transaction never commits, so run what it would have run.
    from integrations.exact.services.retry import push_again

    push_again(kind="company", object_id=company.pk)
    assert [r["Name"] for r in exact.rows("crm/Accounts")] == ["Retry BV"]


def test_retry_of_an_unknown_entry_is_404(admin_client):
    assert admin_client.post("/integrations/exact/log/999999/retry/").status_code == 404


def test_the_deal_panel_shows_the_state_and_pushes(exact, admin_client):
    deal = _configure_invoices()
    page = admin_client.get(reverse("crm:deal_detail", args=[deal.pk])).content.decode()
    assert "Not in Exact yet." in page
    assert "Create invoice in Exact" in page
    response = admin_client.post(f"/integrations/exact/deals/{deal.pk}/push/")
    assert response.status_code == 302
    sync.deal_invoice_push(deal_id=deal.pk)
    page = admin_client.get(reverse("crm:deal_detail", args=[deal.pk])).content.decode()
    assert "Invoice in Exact since" in page
    assert "Create invoice in Exact" not in page


def test_another_tenants_deal_cannot_be_pushed(exact, admin_client):
    assert admin_client.post("/integrations/exact/deals/999999/push/").status_code == 404
