"""Transactional email for every app: store with the change, send after commit (commerce_hub.events.mail)."""

from commerce_hub.events.mail import (  # noqa: F401 - the platform's public email API
    attachment_provider,
    email_deliver,
    email_queue,
    email_render,
    email_retry,
    email_send,
    emails_due_ids,
)
