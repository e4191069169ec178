"""Transactional email: templates/emails/<name>-{subject.txt,body-text.txt,body-html.html}.

An email is stored as a row in the same transaction as the change that causes it and sent by a task after commit;
the events sweep sends whatever a lost task left behind, with backoff on failures.
"""

from collections.abc import Callable

from celery import shared_task
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from commerce_hub.events.services import MAX_ATTEMPTS, retry_delay

# provider name -> fn(id) returning (filename, content bytes, mimetype)
_attachment_providers: dict[str, Callable[[object], tuple[str, bytes, str]]] = {}


def attachment_provider(name: str):
    """Register a function that produces an attachment when the email is sent (a PDF rendered after commit)."""

    def register(fn):
        _attachment_providers[name] = fn
        return fn

    return register


def email_render(name: str, context: dict, language: str | None = None) -> tuple[str, str, str]:
    with translation.override(language):
        subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
        text = render_to_string(f"emails/{name}-body-text.txt", context)
        html = render_to_string(f"emails/{name}-body-html.html", context)
    return subject, text, html


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
    from commerce_hub.events.models import OutgoingEmail

    subject, text, html = email_render(name, context, language)
    email = OutgoingEmail.objects.create(
        to=to, subject=subject, text=text, html=html, attachments=attachments or [], reply_to=reply_to
    )
    email_send.delay_on_commit(email.pk)
    return email


def email_deliver(*, email_id: int) -> bool:
    """Send one stored email unless it is sent already or someone else is sending it. True when sent now.
    After MAX_ATTEMPTS failures the sweep leaves it; it stays visible with its last error."""
    from commerce_hub.events.models import OutgoingEmail

    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update(skip_locked=True).filter(pk=email_id, sent_at__isnull=True).first()
        )
        if email is None:
            return False
        message = EmailMultiAlternatives(
            subject=email.subject, body=email.text, to=[email.to], reply_to=[email.reply_to] if email.reply_to else None
        )
        message.attach_alternative(email.html, "text/html")
        email.attempts += 1
        try:
            with transaction.atomic():  # a provider may write (a cached PDF); its failure must not break ours
                for attachment in email.attachments:
                    message.attach(*_attachment_providers[attachment["provider"]](attachment["id"]))
            message.send()
        except Exception as exc:  # noqa: BLE001 - SMTP down or refusing, or an attachment not ready: retry later
            email.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            email.next_attempt_at = timezone.now() + retry_delay(email.attempts)
            email.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            return False
        email.sent_at = timezone.now()
        email.text = email.html = ""
        email.last_error = ""
        email.save(update_fields=["attempts", "sent_at", "text", "html", "last_error"])
    return True


def emails_due_ids(limit: int = 200) -> list[int]:
    from commerce_hub.events.models import OutgoingEmail

    return list(
        OutgoingEmail.objects.filter(
            sent_at__isnull=True, next_attempt_at__lte=timezone.now(), attempts__lt=MAX_ATTEMPTS
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )


@shared_task(name="commerce_hub.mail.email_send")
def email_send(email_id: int) -> None:
    email_deliver(email_id=email_id)
