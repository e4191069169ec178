"""Transactional email: templates/emails/<name>-{subject.txt,body-text.txt,body-html.html}, sent by a task."""

from celery import shared_task
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def email_render(name: str, context: dict, language: str | None = None) -> tuple[str, str, str]:
    with translation.override(language):
        subject = " ".join(render_to_string(f"emails/{name}-subject.txt", context).split())
        text = render_to_string(f"emails/{name}-body-text.txt", context)
        html = render_to_string(f"emails/{name}-body-html.html", context)
    return subject, text, html


def email_queue(*, to: str, name: str, context: dict, language: str | None = None) -> None:
    """Render now (the context may hold model instances) and send after the current transaction commits."""
    subject, text, html = email_render(name, context, language)
    email_send.delay_on_commit(to=to, subject=subject, text=text, html=html)


@shared_task(name="commerce_hub.mail.email_send", autoretry_for=(OSError,), retry_backoff=True, max_retries=8)
def email_send(*, to: str, subject: str, text: str, html: str) -> None:
    message = EmailMultiAlternatives(subject=subject, body=text, to=[to])
    message.attach_alternative(html, "text/html")
    message.send()
