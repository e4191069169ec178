"""Payments' reactions to domain events. Handlers run outside any transaction, at least once: each is idempotent."""

from commerce_hub.events.registry import handler
from payments import events


@handler(events.DISPUTE_OPENED, name="payments.dispute_opened_notify")
def dispute_opened_notify(event, *, delivery_id: int) -> None:
    from payments.services.disputes import OPENED_TEMPLATE, dispute_admins_notify

    dispute_admins_notify(dispute_id=event.payload["id"], template=OPENED_TEMPLATE, delivery_id=delivery_id)


@handler(events.DISPUTE_CLOSED, name="payments.dispute_closed_notify")
def dispute_closed_notify(event, *, delivery_id: int) -> None:
    from payments.services.disputes import CLOSED_TEMPLATE, dispute_admins_notify

    dispute_admins_notify(dispute_id=event.payload["id"], template=CLOSED_TEMPLATE, delivery_id=delivery_id)
