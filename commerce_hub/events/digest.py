"""The admins' daily email of what failed: deliveries and emails that ran out of retries in the last day.

One FailureDigest row per day, created in the transaction that queues the emails: a periodic job that fires twice
(two beat processes, a retried message) finds the row and sends nothing more; a crash before commit leaves neither
row nor emails, and the next run sends.
"""

from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from commerce_hub.events.mail import email_queue
from commerce_hub.events.models import Delivery, FailureDigest, OutgoingEmail
from commerce_hub.site_urls import current_tenant_url

# Who gets it: everyone who may open the failed deliveries page (every admin, and anyone granted the page).
RECIPIENT_PERMISSION = "accounts.view_audit_log"
TEMPLATE = "events-failure-digest"
# Rows listed in the email; the page has the rest.
LISTED = 20


def failure_digest_recipients() -> list:
    users = get_user_model().objects.filter(is_active=True).order_by("pk")
    return [user for user in users.iterator() if user.has_perm(RECIPIENT_PERMISSION)]


def failure_digest_send(*, today: date) -> int:
    """Email every admin the deliveries and emails that failed in the last 24 hours, once per day. Returns the
    number of emails queued (0 when nothing failed or today's digest went out already)."""
    if FailureDigest.objects.filter(day=today).exists():
        return 0
    since = timezone.now() - timedelta(days=1)
    failed_deliveries = Delivery.objects.filter(status=Delivery.Status.FAILED, failed_at__gte=since)
    failed_emails = OutgoingEmail.objects.filter(failed_at__gte=since, sent_at__isnull=True)
    delivery_count, email_count = failed_deliveries.count(), failed_emails.count()
    if not delivery_count and not email_count:
        return 0
    recipients = failure_digest_recipients()
    context = {
        "deliveries": list(failed_deliveries.select_related("event").order_by("-failed_at")[:LISTED]),
        "emails": list(failed_emails.order_by("-failed_at")[:LISTED]),
        "delivery_count": delivery_count,
        "email_count": email_count,
        "deliveries_url": current_tenant_url(reverse("events:deliveries") + "?status=failed"),
        "emails_url": current_tenant_url(reverse("events:emails")),
    }
    try:
        with transaction.atomic():
            FailureDigest.objects.create(
                day=today, deliveries=delivery_count, emails=email_count, recipients=len(recipients)
            )
            for user in recipients:
                email_queue(
                    to=user.email,
                    name=TEMPLATE,
                    context={**context, "user": user},
                    language=getattr(user, "language", None),
                )
    except IntegrityError:
        return 0  # another run claimed today's digest first
    return len(recipients)
