"""Payment status back from Exact: the receivables that changed since the last read (sync/Cashflow/PaymentTerms,
by Timestamp), and for each one Exact calls fully paid, a payment on our invoice through billing's service.

The payment's source is "exact" and its external reference the receivable's id: billing's unique constraint on
(source, external reference) makes reading the same receivable twice record one payment. The Timestamp is stored
after each batch is applied, so a crash re-reads at most one batch, which is harmless for the same reason. Our
invoice becoming paid emits invoice.paid, and the deal follows it as it does for any other payment.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from billing.models import Invoice, InvoiceStatus, PaymentMethodKind
from billing.selectors.receivables import invoice_figures
from billing.services.invoice_payments import invoice_record_payment
from integrations.exact.client import ExactClient
from integrations.exact.services.log import sync_log_write
from integrations.exact.tokens import connection_usable
from integrations.models import ExactConnection, ExactLink, LinkKind, SyncLog

SYNC_PAYMENT_TERMS = "sync/Cashflow/PaymentTerms"
RECEIPT = 20  # LineType of a receivable (22 is a payable)
SOURCE = "exact"
_DATE = re.compile(r"/Date\((-?\d+)")


def exact_date(value) -> date | None:
    """Exact's OData dates: "/Date(1733270400000)/"."""
    match = _DATE.search(str(value or ""))
    if not match:
        return None
    return datetime.fromtimestamp(int(match.group(1)) / 1000, tz=UTC).date()


def invoice_for_receivable(row: dict) -> Invoice | None:
    """Our invoice behind a receivable: by the reference we gave it (our number), and only one we sent to Exact."""
    refs = [str(row.get(name) or "").strip() for name in ("YourRef", "Description")]
    refs = [ref for ref in refs if ref]
    if not refs:
        return None
    invoice = Invoice.objects.filter(number__in=refs).first()
    if invoice is None or not ExactLink.objects.filter(kind=LinkKind.INVOICE, object_id=invoice.pk).exists():
        return None
    return invoice


def receivable_apply(row: dict) -> bool:
    """True when a payment was recorded now."""
    if not row.get("IsFullyPaid") or row.get("LineType", RECEIPT) != RECEIPT:
        return False
    invoice = invoice_for_receivable(row)
    if invoice is None or invoice.status != InvoiceStatus.OPEN:
        return False
    due = invoice_figures(invoice).due
    if due <= 0:
        return False
    today = timezone.localdate()
    paid_on = min(exact_date(row.get("LastPaymentDate")) or today, today)
    try:
        invoice_record_payment(
            invoice=invoice,
            amount=Decimal(due),
            paid_on=paid_on,
            method=PaymentMethodKind.BANK_TRANSFER,
            reference=f"Exact Online {row.get('InvoiceNumber') or ''}".strip(),
            actor=None,
            source=SOURCE,
            external_id=str(row["ID"]),
        )
    except ValidationError as exc:
        sync_log_write(
            operation="payment_back",
            status=SyncLog.Status.FAILED,
            kind=LinkKind.INVOICE,
            object_id=invoice.pk,
            error="; ".join(exc.messages),
        )
        return False
    sync_log_write(operation="payment_back", status=SyncLog.Status.OK, kind=LinkKind.INVOICE, object_id=invoice.pk)
    return True


def receivables_pull(*, client: ExactClient | None = None) -> int:
    """Read what changed in Exact's receivables since the stored Timestamp; returns the payments recorded."""
    row = connection_usable()
    client = client or ExactClient()
    since = row.receivables_timestamp
    rows = client.collection(SYNC_PAYMENT_TERMS, params={"$filter": f"Timestamp gt {since}L"})
    recorded = 0
    for receivable in sorted(rows, key=lambda r: int(r.get("Timestamp") or 0)):
        recorded += receivable_apply(receivable)
    highest = max((int(r.get("Timestamp") or 0) for r in rows), default=since)
    if highest > since:
        # Only forward: two runs at once never move the mark back.
        ExactConnection.objects.filter(pk=1, receivables_timestamp__lt=highest).update(receivables_timestamp=highest)
    return recorded
