"""The processor balance: money the payment processor holds for the tenant, not what customers owe (that is
billing's receivables ledger). Append-only, per processor and currency: a row per charge, fee, refund, dispute,
dispute reversal and payout. Balances and payouts are sums over it; a database trigger refuses UPDATE and DELETE."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from payments.models.choices import BalanceKind, PayoutStatus, ProcessorKey
from payments.models.payments import MONEY, Payment
from payments.models.refunds import Dispute, Refund


class Payout(models.Model):
    """Money sent from the processor balance to the tenant's bank account. Built-in payouts are computed from the
    ledger; Stripe's come from its payout events and are shown read-only."""

    processor = models.CharField(max_length=10, choices=ProcessorKey.choices)
    external_id = models.CharField(max_length=120, null=True, blank=True)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY)
    status = models.CharField(max_length=12, choices=PayoutStatus.choices, default=PayoutStatus.PENDING)
    arrival_date = models.DateField()
    # The day whose available balance it pays out: one built-in payout per currency and day.
    period_end = models.DateField(null=True, blank=True)
    failure_message = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-arrival_date", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["processor", "external_id"], name="payments_payout_external"),
            models.UniqueConstraint(
                fields=["processor", "currency", "period_end"],
                condition=Q(period_end__isnull=False),
                name="payments_payout_one_per_day",
            ),
        ]


class BalanceEntry(models.Model):
    processor = models.CharField(max_length=10, choices=ProcessorKey.choices)
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(**MONEY)  # signed: positive adds to what the processor holds for the tenant
    kind = models.CharField(max_length=20, choices=BalanceKind.choices)
    payment = models.ForeignKey(Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    refund = models.ForeignKey(Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    dispute = models.ForeignKey(Dispute, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Set on the payout's own (negative) entry; the entries a payout includes are listed in PayoutItem.
    payout = models.ForeignKey(Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # When the money can be paid out (the settlement delay).
    available_on = models.DateField()
    description = models.CharField(max_length=200, blank=True)
    # The processor's own id for the movement (a Stripe balance transaction), so a replayed event adds nothing.
    external_id = models.CharField(max_length=120, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["processor", "currency", "available_on"], name="payments_balance_available"),
            models.Index(fields=["payment"], condition=Q(payment__isnull=False), name="payments_balance_payment"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["processor", "external_id"], name="payments_balance_external"),
            # One movement of each kind per payment, refund and dispute: a replayed outcome adds nothing.
            models.UniqueConstraint(
                fields=["kind", "payment"],
                condition=Q(kind__in=["charge", "fee"], refund__isnull=True, dispute__isnull=True),
                name="payments_balance_once_per_payment",
            ),
            models.UniqueConstraint(
                fields=["kind", "refund"], condition=Q(refund__isnull=False), name="payments_balance_once_per_refund"
            ),
            models.UniqueConstraint(
                fields=["kind", "dispute"],
                condition=Q(dispute__isnull=False),
                name="payments_balance_once_per_dispute",
            ),
            models.UniqueConstraint(
                fields=["kind", "payout"], condition=Q(payout__isnull=False), name="payments_balance_once_per_payout"
            ),
        ]


class PayoutItem(models.Model):
    """The ledger rows a payout includes: each row is paid out at most once (the unique entry)."""

    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="items")
    entry = models.OneToOneField(BalanceEntry, on_delete=models.PROTECT, related_name="payout_item")
