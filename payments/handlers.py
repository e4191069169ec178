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


@handler(events.PAYMENT_SUCCEEDED, name="payments.receipt_issue")
def receipt_on_payment(event, *, delivery_id: int) -> None:
    # Once per payment, however often the event comes: receipt_issue finds the receipt under the payment's lock.
    from payments.services.receipts import receipt_issue

    receipt_issue(payment_id=event.payload["id"])


@handler(events.REFUND_SUCCEEDED, name="payments.refund_notice")
def refund_notice(event, *, delivery_id: int) -> None:
    from commerce_hub.events.services import delivery_once
    from payments.services.receipts import refund_email_queue

    delivery_once(delivery_id=delivery_id, effect=lambda: refund_email_queue(refund_id=event.payload["id"]))


# The checkout's emails (payments.services.checkout_emails): each delivery queues its emails once.
@handler(events.PAYMENT_SUCCEEDED, name="payments.checkout_succeeded_emails")
def checkout_succeeded_emails(event, *, delivery_id: int) -> None:
    from payments.services.checkout_emails import payment_succeeded_emails_queue

    payment_succeeded_emails_queue(payment_id=event.payload["id"], delivery_id=delivery_id)


@handler(events.PAYMENT_PROCESSING, name="payments.checkout_processing_email")
def checkout_processing_email(event, *, delivery_id: int) -> None:
    from payments.services.checkout_emails import payment_processing_email_queue

    payment_processing_email_queue(payment_id=event.payload["id"], delivery_id=delivery_id)


@handler(events.PAYMENT_FAILED, name="payments.checkout_failed_email")
def checkout_failed_email(event, *, delivery_id: int) -> None:
    from payments.services.checkout_emails import payment_failed_email_queue

    payment_failed_email_queue(payment_id=event.payload["id"], delivery_id=delivery_id)
