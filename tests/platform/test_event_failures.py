"""What failed is never dropped silently: failed emails end as failed and wait on the admin page with a retry
button, and every admin gets one email a day listing the deliveries and emails that failed."""

from datetime import date, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from commerce_hub.accounts.models import AuditEntry, Role
from commerce_hub.events.backoff import MAX_ATTEMPTS
from commerce_hub.events.digest import failure_digest_send
from commerce_hub.events.mail import STOPPED_ERROR, emails_abandoned_fail
from commerce_hub.events.models import Delivery, FailureDigest, OutboxEvent, OutgoingEmail
from commerce_hub.events.tasks import failure_digest_tenant, sweep_tenant
from commerce_hub.mail import email_deliver, email_queue, email_send
from tests.conftest import user_make

TODAY = date(2026, 12, 4)


def _queue(to="lars@alpha.example") -> OutgoingEmail:
    from types import SimpleNamespace

    context = {"user": SimpleNamespace(full_name="Lars"), "protocol": "http", "domain": "alpha.localhost"}
    with mock.patch.object(email_send, "apply_async"):
        return email_queue(to=to, name="password-reset", context={**context, "uid": "MQ", "token": "abc"})


def _failed_delivery(error="ValueError: bad mapping", hours_ago=1) -> Delivery:
    event = OutboxEvent.objects.create(name="invoice.finalized", payload={"id": 1, "number": "INV-1001"})
    return Delivery.objects.create(
        event=event,
        handler="integrations.exact_sync",
        status=Delivery.Status.FAILED,
        attempts=MAX_ATTEMPTS,
        last_error=error,
        failed_at=timezone.now() - timedelta(hours=hours_ago),
    )


def test_an_email_that_keeps_failing_ends_as_failed(tenant_alpha, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    email = _queue()
    OutgoingEmail.objects.filter(pk=email.pk).update(attempts=MAX_ATTEMPTS - 1)
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=ConnectionRefusedError("smtp down")):
        assert email_deliver(email_id=email.pk) is False
    email.refresh_from_db()
    assert (email.attempts, email.sent_at) == (MAX_ATTEMPTS, None)
    assert email.last_error == "ConnectionRefusedError: smtp down"
    assert email.failed_at is not None
    OutgoingEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now() - timedelta(hours=1))
    assert sweep_tenant.run() == 0  # failed: the sweep leaves it to an admin
    assert mail.outbox == []


def test_an_email_whose_worker_died_on_the_last_attempt_is_marked_failed(tenant_alpha):
    email = _queue()
    OutgoingEmail.objects.filter(pk=email.pk).update(
        attempts=MAX_ATTEMPTS, next_attempt_at=timezone.now() - timedelta(seconds=1)
    )
    assert emails_abandoned_fail() == 1
    email.refresh_from_db()
    assert (email.last_error, email.sent_at) == (STOPPED_ERROR, None)
    assert email.failed_at is not None


def test_a_failed_email_shows_on_the_page_and_its_retry_sends_it(admin_client, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    email = _queue()
    OutgoingEmail.objects.filter(pk=email.pk).update(
        attempts=MAX_ATTEMPTS, failed_at=timezone.now(), last_error="SMTPRecipientsRefused: mailbox full"
    )
    deliveries_page = admin_client.get("/settings/events/").content.decode()
    assert "Some emails could not be sent." in deliveries_page
    page = admin_client.get("/settings/events/emails/").content.decode()
    assert "SMTPRecipientsRefused: mailbox full" in page and "lars@alpha.example" in page
    assert f'action="/settings/events/emails/{email.pk}/retry/"' in page and "data-confirm=" in page

    sent = []
    with mock.patch.object(email_send, "apply_async", lambda *a, **kw: sent.append(a)):
        response = admin_client.post(f"/settings/events/emails/{email.pk}/retry/")
    assert response.status_code == 302 and response["Location"] == "/settings/events/emails/"
    email.refresh_from_db()
    assert (email.attempts, email.failed_at) == (0, None)
    assert AuditEntry.objects.filter(action="email.retried").count() == 1
    assert email_deliver(email_id=email.pk) is True
    assert mail.outbox[0].to == ["lars@alpha.example"]
    assert "Some emails could not be sent." not in admin_client.get("/settings/events/").content.decode()


def test_the_daily_digest_lists_what_failed_and_is_sent_once_per_day(tenant_alpha, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    admin = user_make(Role.ADMIN, email="anna@alpha.example", full_name="Anna Admin")
    user_make(Role.ADMIN, email="gone@alpha.example", is_active=False)
    user_make(Role.SALES, email="sam@alpha.example")
    _failed_delivery()
    _failed_delivery(error="old failure", hours_ago=30)  # listed yesterday, not again
    failed = _queue(to="buyer@customer.example")
    OutgoingEmail.objects.filter(pk=failed.pk).update(failed_at=timezone.now(), last_error="SMTP 550")

    with mock.patch.object(email_send, "apply_async"):
        assert failure_digest_send(today=TODAY) == 1
        assert failure_digest_send(today=TODAY) == 0  # beat fired twice: still one email
    digests = OutgoingEmail.objects.filter(subject__contains="failed in the last day")
    assert list(digests.values_list("to", flat=True)) == [admin.email]
    digest = digests.get()
    assert digest.subject == "2 deliveries failed in the last day"
    assert "invoice.finalized → integrations.exact_sync: ValueError: bad mapping" in digest.text
    assert "buyer@customer.example: SMTP 550" in digest.text
    assert "old failure" not in digest.text
    assert "alpha.localhost" in digest.text and "/settings/events/?status=failed" in digest.text
    row = FailureDigest.objects.get()
    assert (row.day, row.deliveries, row.emails, row.recipients) == (TODAY, 1, 1, 1)
    # The next day is a new digest.
    with mock.patch.object(email_send, "apply_async"):
        assert failure_digest_send(today=TODAY + timedelta(days=1)) == 1


def test_no_digest_when_nothing_failed(tenant_alpha):
    user_make(Role.ADMIN)
    _failed_delivery(hours_ago=30)
    assert failure_digest_send(today=TODAY) == 0
    assert not FailureDigest.objects.exists()


def test_the_digest_task_runs_in_the_tenant(tenant_alpha):
    user_make(Role.ADMIN)
    _failed_delivery()
    with mock.patch.object(email_send, "apply_async"):
        assert failure_digest_tenant.run() == 1
        assert failure_digest_tenant.run() == 0


def test_the_digest_job_is_on_the_beat_schedule():
    from celery.schedules import crontab

    from commerce_hub.registry import registered_beat

    job = registered_beat()["events-failure-digest-all-tenants"]
    assert job["task"] == "commerce_hub.events.failure_digest_send"
    assert job["schedule"] == crontab(minute=0, hour=6)


@pytest.mark.parametrize("status", ["failed", "waiting", "sent", "bogus"])
def test_the_email_page_opens_for_every_status(admin_client, status):
    _queue()
    assert admin_client.get(f"/settings/events/emails/?status={status}").status_code == 200
