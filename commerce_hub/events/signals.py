"""Signals the audit log listens to. The events package sits below accounts (accounts emits events), so it tells
what an admin did through these instead of importing the audit log."""

from django.dispatch import Signal

# sender=Delivery, delivery=..., actor=...
delivery_retried = Signal()
# sender=OutgoingEmail, email=..., actor=...
email_retried = Signal()
