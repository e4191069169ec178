"""The audit log's subscriptions: what admins do on the event deliveries page is audited like any other change.

Signals, not domain events: the audit row belongs in the transaction of the retry itself."""

from django.dispatch import receiver

from commerce_hub.accounts.services.audit import audit_record
from commerce_hub.events import signals


@receiver(signals.delivery_retried, dispatch_uid="accounts.audit_delivery_retried")
def audit_delivery_retried(sender, *, delivery, actor, **_kwargs) -> None:
    audit_record(
        actor=actor,
        action="event.delivery_retried",
        obj=delivery,
        object_repr=f"{delivery.event.name} → {delivery.handler}",
    )


@receiver(signals.email_retried, dispatch_uid="accounts.audit_email_retried")
def audit_email_retried(sender, *, email, actor, **_kwargs) -> None:
    audit_record(actor=actor, action="email.retried", obj=email)
