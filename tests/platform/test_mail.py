from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from commerce_hub.events.models import OutgoingEmail
from commerce_hub.events.tasks import sweep_tenant
from commerce_hub.mail import email_deliver, email_queue, email_send

CONTEXT = {"user": None, "protocol": "http", "domain": "alpha.localhost", "uid": "MQ", "token": "abc-123"}


def _queue():
    from types import SimpleNamespace

    user = SimpleNamespace(full_name="Lars Haugen")
    return email_queue(to="lars@alpha.example", name="password-reset", context={**CONTEXT, "user": user})


def test_an_email_is_stored_with_the_change_and_sent_once_after_commit(
    tenant_alpha, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    sent = []
    with mock.patch.object(email_send, "apply_async", lambda *a, **kw: sent.append(a)):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            email = _queue()
            assert sent == []  # nothing leaves before commit
        assert sent == [((email.pk,), {})]
    assert OutgoingEmail.objects.get().sent_at is None
    assert email_deliver(email_id=email.pk) is True
    assert email_deliver(email_id=email.pk) is False  # a second delivery of the task sends nothing
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["lars@alpha.example"]
    assert "/password-reset/MQ/abc-123/" in mail.outbox[0].body
    stored = OutgoingEmail.objects.get()
    # The link does not outlive the email: only who, what and when stay.
    assert (stored.text, stored.html, stored.subject) == ("", "", "Reset your Commerce Hub password")
    assert stored.sent_at is not None


def test_a_rolled_back_change_sends_no_email(tenant_alpha, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        try:
            with transaction.atomic():
                _queue()
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass
    assert callbacks == [] and not OutgoingEmail.objects.exists()


def test_smtp_failures_are_retried_by_the_sweep(tenant_alpha, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with mock.patch.object(email_send, "apply_async"):
        email = _queue()
    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=ConnectionRefusedError("smtp down")):
        assert email_deliver(email_id=email.pk) is False
    email.refresh_from_db()
    assert (email.attempts, email.sent_at) == (1, None)
    assert email.last_error == "ConnectionRefusedError: smtp down"
    assert email.next_attempt_at > timezone.now() + timedelta(seconds=8)
    sweep_tenant.run()  # not due yet
    assert mail.outbox == []
    OutgoingEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())
    sweep_tenant.run()
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.attempts == 2 and email.sent_at is not None


def test_a_worker_killed_while_sending_still_uses_its_attempt(tenant_alpha, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with mock.patch.object(email_send, "apply_async"):
        email = _queue()

    class Killed(BaseException):  # what a worker's hard time limit or the OOM killer looks like from inside
        pass

    with mock.patch("django.core.mail.EmailMultiAlternatives.send", side_effect=Killed), pytest.raises(Killed):
        email_deliver(email_id=email.pk)
    email.refresh_from_db()
    assert (email.attempts, email.sent_at) == (1, None)
    assert email.next_attempt_at > timezone.now() + timedelta(minutes=9)  # claimed: the sweep leaves it for now
    assert email_deliver(email_id=email.pk) is False
    OutgoingEmail.objects.filter(pk=email.pk).update(next_attempt_at=timezone.now())  # the lease ran out
    assert email_deliver(email_id=email.pk) is True
    from commerce_hub.events.mail import email_message_id

    assert mail.outbox[0].extra_headers["Message-ID"] == email_message_id(email.pk)
    assert "t_alpha" not in email_message_id(email.pk)


def test_subject_and_plain_text_are_not_html_escaped_but_the_html_part_is(tenant_alpha, settings):
    from commerce_hub.events.mail import email_message_id, email_render

    context = {
        "user": type("U", (), {"full_name": "Smith & Sons <Ltd>"})(),
        "protocol": "http",
        "domain": "x",
        "uid": "MQ",
        "token": "abc-def",
    }
    subject, text, html = email_render("password-reset", context, "en")
    assert "Hello Smith & Sons <Ltd>," in text
    assert "Smith &amp; Sons &lt;Ltd&gt;" in html
    # Message-IDs are stable per email and name no schema.
    assert email_message_id(7) == email_message_id(7) != email_message_id(8)
    assert "t_alpha" not in email_message_id(7)
