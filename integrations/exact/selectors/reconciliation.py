"""Our open invoices against Exact's receivables (cashflow/Receivables): every difference, in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from billing.models import Invoice, InvoiceStatus
from billing.selectors.receivables import with_figures
from integrations.exact.client import ExactClient

RECEIVABLES = "cashflow/Receivables"

KINDS = {
    "missing_in_exact": _("Open here, not in Exact"),
    "missing_here": _("In Exact, not here"),
    "amount_differs": _("Amounts differ"),
    "paid_here_only": _("Paid here, open in Exact"),
    "paid_in_exact_only": _("Paid in Exact, open here"),
}


@dataclass(frozen=True)
class Difference:
    kind: str
    reference: str
    invoice_id: int | None
    ours: Decimal | None
    theirs: Decimal | None
    currency: str

    @property
    def label(self):
        return KINDS[self.kind]


def _money(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def _reference(row: dict) -> str:
    return str(row.get("YourRef") or row.get("Description") or row.get("InvoiceNumber") or "").strip()


def reconciliation(*, client: ExactClient | None = None) -> list[Difference]:
    client = client or ExactClient()
    receivables = [r for r in client.collection(RECEIVABLES) if r.get("LineType", 20) == 20]
    by_ref: dict[str, dict] = {}
    for row in receivables:
        by_ref.setdefault(_reference(row), row)
    refs = [ref for ref in by_ref if ref]
    invoices = with_figures(
        Invoice.objects.filter(status=InvoiceStatus.OPEN) | Invoice.objects.filter(number__in=refs)
    ).exclude(status=InvoiceStatus.DRAFT)
    differences = []
    seen = set()
    for invoice in invoices.order_by("number"):
        row = by_ref.get(invoice.number)
        seen.add(invoice.number)
        total = _money(invoice.total)
        if row is None:
            if invoice.status == InvoiceStatus.OPEN:
                differences.append(
                    Difference("missing_in_exact", invoice.number, invoice.pk, total, None, invoice.currency)
                )
            continue
        theirs = _money(row.get("AmountFC"))
        if theirs != total:
            differences.append(
                Difference("amount_differs", invoice.number, invoice.pk, total, theirs, invoice.currency)
            )
        exact_paid = bool(row.get("IsFullyPaid"))
        if invoice.status == InvoiceStatus.PAID and not exact_paid:
            differences.append(
                Difference("paid_here_only", invoice.number, invoice.pk, total, theirs, invoice.currency)
            )
        elif invoice.status == InvoiceStatus.OPEN and exact_paid:
            differences.append(
                Difference("paid_in_exact_only", invoice.number, invoice.pk, total, theirs, invoice.currency)
            )
    for ref, row in by_ref.items():
        if ref not in seen and not row.get("IsFullyPaid"):
            differences.append(
                Difference("missing_here", ref, None, None, _money(row.get("AmountFC")), str(row.get("Currency", "")))
            )
    return differences
