"""Transactional email: templates/emails/<name>-{subject.txt,body-text.txt,body-html.html}.

An email is stored as a row in the same transaction as the change that causes it and sent by a task after commit;
the events sweep sends whatever a lost task left behind, with the deliveries' backoff on failures (at least three
days, commerce_hub.events.backoff). Then the email is marked failed and waits on the admin page for a retry.
Apps import it as commerce_hub.mail; it lives in the events package, whose sweep and admin page send it.
"""

from collections.abc import Callable
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from commerce_hub.events import signals
from commerce_hub.events.backoff import MAX_ATTEMPTS, retry_delay
from commerce_hub.events.models import OutgoingEmail

# provider name -> fn(id) returning (filename, content bytes, mimetype)
_attachment_providers: dict[str, Callable[[object], tuple[str, bytes, str]]] = {}


def attachment_provider(name: str):
    """Register a function that produces an attachment when the email is sent (a PDF rendered after commit)."""

    def register(fn):
        _attachment_providers[name] = fn
        return fn

    return register


def _render_plain(template_name: str, context: dict) -> str:
    """A subject or plain-text body: nothing is HTML-escaped there (a company called "Smith & Sons" stays so)."""
    from django.template import Context
    from django.template.loader import get_template

    return get_template(template_name).template.render(Context(context, autoescape=False))


def email_render(name: str, context: dict, language: str | None = None) -> tuple[str, str, str]:
    with translation.override(language):
        subject = " ".join(_render_plain(f"emails/{name}-subject.txt", context).split())
        text = _render_plain(f"emails/{name}-body-text.txt", context)
        # The HTML part stays escaped.
        html = render_to_string(f"emails/{name}-body-html.html", context)
    return subject, text, html


def email_message_id(email_id: int) -> str:
    """Stable for one stored email (a resend carries the same id) without naming the tenant's schema."""
    from django.utils.crypto import salted_hmac

    digest = salted_hmac("commerce_hub.mail.message-id", f"{connection.schema_name}:{email_id}").hexdigest()[:32]
    return f"<{digest}@{settings.BASE_DOMAIN}>"


def email_queue(
    *,
    to: str,
    name: str,
    context: dict,
    language: str | None = None,
    attachments: list[dict] | None = None,
    reply_to: str = "",
):
    """Render now (the context may hold model instances), store, and send after the current transaction commits."""
    subject, text, html = email_render(name, context, language)
    email = OutgoingEmail.objects.create(
        to=to, subject=subject, text=text, html=html, attachments=attachments or [], reply_to=reply_to
    )
    email_send.delay_on_commit(email.pk)
    return email


# Longer than any send takes. A worker that dies while sending leaves the email claimed for this long; then the
# sweep finds it due again.
SEND_LEASE = timedelta(minutes=10)


def email_deliver(*, email_id: int) -> bool:
    """Send one stored email unless it is sent already, being sent, or waiting for its retry. True when sent now.

    The attempt is claimed and committed before anything is sent, so a worker killed halfway (rendering an
    attachment, waiting on SMTP) still counts its attempt: a message that keeps killing workers stops after
    MAX_ATTEMPTS and is marked failed instead of looping. Sending happens outside any transaction, holding no row
    lock. A worker that dies after the SMTP server accepted the message but before it was marked sent makes the
    retry send it again, with the same Message-ID, which lets mail systems recognise the duplicate.
    """
    now = timezone.now()
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, sent_at__isnull=True, failed_at__isnull=True, attempts__lt=MAX_ATTEMPTS)
            .first()
        )
        if email is None or (email.attempts and email.next_attempt_at > now):
            return False
        email.attempts += 1
        email.next_attempt_at = now + SEND_LEASE
        email.save(update_fields=["attempts", "next_attempt_at"])
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.text,
        to=[email.to],
        reply_to=[email.reply_to] if email.reply_to else None,
        headers={"Message-ID": email_message_id(email.pk)},
    )
    message.attach_alternative(email.html, "text/html")
    try:
        for attachment in email.attachments:
            message.attach(*_attachment_providers[attachment["provider"]](attachment["id"]))
        message.send()
    except Exception as exc:  # noqa: BLE001 - SMTP down or refusing, or an attachment not ready: retry later
        error = f"{exc.__class__.__name__}: {exc}"[:2000]
        if email.attempts >= MAX_ATTEMPTS:
            outcome = {"failed_at": timezone.now()}
        else:
            outcome = {"next_attempt_at": timezone.now() + retry_delay(email.attempts)}
        OutgoingEmail.objects.filter(pk=email.pk, sent_at__isnull=True).update(last_error=error, **outcome)
        return False
    OutgoingEmail.objects.filter(pk=email.pk).update(sent_at=timezone.now(), text="", html="", last_error="")
    return True


def emails_abandoned_fail() -> int:
    """Mark failed the emails whose last attempt's worker died before recording it (out of attempts, lease run
    out, neither sent nor failed): otherwise they would wait forever, unseen."""
    return OutgoingEmail.objects.filter(
        sent_at__isnull=True, failed_at__isnull=True, attempts__gte=MAX_ATTEMPTS, next_attempt_at__lt=timezone.now()
    ).update(failed_at=timezone.now(), last_error=STOPPED_ERROR)


STOPPED_ERROR = "The worker stopped while sending (lease expired on the last attempt)."


def email_retry(*, email: OutgoingEmail, actor) -> bool:
    """An admin sends a failed email again, with a fresh set of attempts. False when it was not failed."""
    with transaction.atomic():
        updated = OutgoingEmail.objects.filter(pk=email.pk, sent_at__isnull=True, failed_at__isnull=False).update(
            failed_at=None, attempts=0, next_attempt_at=timezone.now()
        )
        if updated:
            signals.email_retried.send(sender=OutgoingEmail, email=email, actor=actor)
            email_send.delay_on_commit(email.pk)
    return bool(updated)


def emails_due_ids(limit: int = 200) -> list[int]:
    return list(
        OutgoingEmail.objects.filter(
            sent_at__isnull=True, failed_at__isnull=True, next_attempt_at__lte=timezone.now(), attempts__lt=MAX_ATTEMPTS
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


@shared_task(name="commerce_hub.mail.email_send")
def email_send(email_id: int) -> None:
    email_deliver(email_id=email_id)
