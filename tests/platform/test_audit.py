import pytest
from django.db import DatabaseError, transaction

from commerce_hub.accounts.models import AuditEntry
from commerce_hub.accounts.services.audit import audit_record


def test_audit_rows_cannot_be_changed_or_deleted_even_in_sql(tenant_alpha, admin_user):
    entry = audit_record(actor=admin_user, action="settings.profile_updated", object_type="x", object_id="1")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action="forged")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(RuntimeError):
        entry.save()
    assert AuditEntry.objects.get(pk=entry.pk).action == "settings.profile_updated"


def test_requests_record_request_id_and_ip(admin_client, admin_user):
    response = admin_client.post(
        "/settings/company/",
        {
            "legal_name": "Alpha Handel B.V.",
            "country": "NL",
            "vat_number": "NL162275869B01",
            "registration_number": "30276498",
            "default_currency": "EUR",
            "timezone": "Europe/Amsterdam",
            "language": "nl",
        },
        REMOTE_ADDR="192.0.2.44",
        HTTP_X_REQUEST_ID="req-1234567890",
    )
    assert response.status_code == 302
    assert response["X-Request-ID"] == "req-1234567890"
    entry = AuditEntry.objects.get(action="settings.profile_updated")
    assert (entry.actor, entry.actor_email, entry.ip_address, entry.request_id) == (
        admin_user,
        admin_user.email,
        "192.0.2.44",
        "req-1234567890",
    )
    assert entry.before["language"] == "en" and entry.after["language"] == "nl"
    assert entry.after["vat_number"] == "NL162275869B01"


def test_audit_page_filters_by_action_actor_and_date(admin_client, admin_user):
    audit_record(actor=admin_user, action="user.role_changed", object_repr="Lars")
    audit_record(actor=None, action="auth.locked_out", object_repr="mallory@example.com")
    page = admin_client.get("/settings/audit/?action=auth.")
    rows = page.context["page"].rows
    assert [r.action for r in rows] == ["auth.locked_out"]
    page = admin_client.get(f"/settings/audit/?actor={admin_user.email.upper()}")
    assert [r.action for r in page.context["page"].rows] == ["user.role_changed"]
    page = admin_client.get("/settings/audit/?since=2001-01-01&until=2001-12-31")
    assert page.context["page"].rows == []
    assert "No audit entries match" in page.content.decode()
