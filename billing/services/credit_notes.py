"""Credit notes: the only way to correct a finalized invoice. A credit note takes back whole lines, part of a
line's quantity, or an amount at one of the invoice's VAT rates; the engine prices it (billing.pricing
.credit_summary) and it lowers the invoice's balance."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from billing import events, pricing
from billing.models import CreditNote, CreditNoteLine, EntryKind, Invoice, InvoiceStatus, NumberSeries
from billing.selectors.receivables import invoice_figures
from billing.services.invoice_records import invoice_change_record, invoice_lock
from billing.services.numbering import number_take
from billing.services.receivables import Leg, invoice_account_required, invoice_settle, ledger_post
from commerce_hub.events.services import event_emit
from commerce_hub.money import quantize


@dataclass
class LineCredit:
    index: int  # the line's position in the invoice snapshot
    quantity: Decimal


@dataclass
class AmountCredit:
    description: str
    net: Decimal  # before VAT
    vat_group: int  # index into the invoice's snapshot vat_groups


def credited_quantities(invoice: Invoice) -> dict[int, Decimal]:
    rows = (
        CreditNoteLine.objects.filter(credit_note__invoice=invoice, invoice_line_index__isnull=False)
        .values("invoice_line_index")
        .annotate(q=Sum("quantity"))
    )
    return {row["invoice_line_index"]: row["q"] or Decimal(0) for row in rows}


def _items(invoice: Invoice, lines: list[LineCredit], amounts: list[AmountCredit], errors: dict) -> list:
    snapshot = invoice.snapshot or {}
    invoice_lines = snapshot.get("lines", [])
    groups = snapshot.get("vat_groups", [])
    already = credited_quantities(invoice)
    items: list[tuple[dict, pricing.CreditItem]] = []
    seen: set[int] = set()
    for credit in lines:
        if not 0 <= credit.index < len(invoice_lines) or credit.index in seen:
            errors.setdefault("lines", []).append(_("Choose lines of this invoice, each once."))
            continue
        seen.add(credit.index)
        line = invoice_lines[credit.index]
        of_quantity = Decimal(line["quantity"])
        left = of_quantity - already.get(credit.index, Decimal(0))
        if not credit.quantity.is_finite() or credit.quantity <= 0:
            errors.setdefault(f"line_{credit.index}", []).append(_("Enter a quantity above zero."))
            continue
        if credit.quantity != credit.quantity.quantize(Decimal("0.000001")):
            errors.setdefault(f"line_{credit.index}", []).append(_("Use at most %(count)d decimals.") % {"count": 6})
            continue
        if credit.quantity > left:
            errors.setdefault(f"line_{credit.index}", []).append(
                _("At most %(left)s of this line is left to credit.") % {"left": f"{left.normalize():f}"}
            )
            continue
        net = pricing.credit_line_net(
            base=Decimal(line["vat_base"]),
            quantity=credit.quantity,
            of_quantity=of_quantity,
            already=already.get(credit.index, Decimal(0)),
            currency=invoice.currency,
        )
        if net <= 0:
            errors.setdefault(f"line_{credit.index}", []).append(_("This line has nothing left to credit."))
            continue
        row = {"invoice_line_index": credit.index, "description": line["name"], "quantity": credit.quantity}
        items.append(
            (row, pricing.CreditItem(net, Decimal(line["tax_rate"]), line["tax_label"], line["reverse_charge"]))
        )
    for position, credit in enumerate(amounts):
        key = f"amount_{position}"
        if not 0 <= credit.vat_group < len(groups):
            errors.setdefault(key, []).append(_("Choose one of the invoice's VAT rates."))
            continue
        if not credit.net.is_finite() or credit.net <= 0:
            errors.setdefault(key, []).append(_("Enter an amount above zero."))
            continue
        if quantize(credit.net, invoice.currency) != credit.net:
            errors.setdefault(key, []).append(_("Use at most the currency's decimals."))
            continue
        group = groups[credit.vat_group]
        row = {
            "invoice_line_index": None,
            "description": credit.description.strip()[:300] or _("Credit"),
            "quantity": None,
        }
        items.append(
            (row, pricing.CreditItem(credit.net, Decimal(group["rate"]), group["label"], group["reverse_charge"]))
        )
    return items


def _mirror(invoice: Invoice, items: list) -> tuple[list, pricing.CreditSummary]:
    snapshot = invoice.snapshot
    credit_items, summary = pricing.credit_mirror(
        items=[item for _row, item in items],
        vat_groups=[
            (Decimal(g["rate"]), g["label"], g["reverse_charge"], Decimal(g["base"]), Decimal(g["vat"]))
            for g in snapshot["vat_groups"]
        ],
        total=Decimal(snapshot["total"]),
        currency=invoice.currency,
    )
    rows = [row for row, _item in items]
    if len(credit_items) > len(rows):
        rows.append(
            {"invoice_line_index": None, "description": _("One-time fees, taxes and rounding"), "quantity": None}
        )
    return list(zip(rows, credit_items, strict=True)), summary


def credit_note_create(
    *,
    invoice: Invoice,
    actor,
    lines: list[LineCredit] = (),
    amounts: list[AmountCredit] = (),
    whole: bool = False,
    reason: str = "",
) -> CreditNote:
    """Issue a credit note against a finalized invoice. `whole` credits every line's remaining quantity.

    The credit lowers what is still due; what exceeds it (the invoice was paid, in part or whole) becomes the
    customer's credit, which pays a later invoice or is refunded. On an uncollectible invoice it first takes the
    place of the amount written off (the VAT on bad debt is corrected this way)."""
    with transaction.atomic():
        invoice = invoice_lock(invoice)
        if invoice.status not in (InvoiceStatus.OPEN, InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE):
            raise ValidationError(_("Credit notes can only be issued for open, paid or uncollectible invoices."))
        first_whole = whole and not CreditNote.objects.filter(invoice=invoice).exists()
        if whole:
            already = credited_quantities(invoice)
            lines = [  # free lines (a base of zero) have nothing to give back
                LineCredit(i, Decimal(line["quantity"]) - already.get(i, Decimal(0)))
                for i, line in enumerate(invoice.snapshot["lines"])
                if Decimal(line["quantity"]) - already.get(i, Decimal(0)) > 0 and Decimal(line["vat_base"]) > 0
            ]
        errors: dict[str, list[str]] = {}
        with translation.override(invoice.language):  # default line texts print in the buyer's language
            items = _items(invoice, list(lines), list(amounts), errors)
        if not items and not errors:
            errors["lines"] = [_("Choose at least one line or amount to credit.")]
        if errors:
            raise ValidationError(errors)
        summary = pricing.credit_summary([item for _row, item in items], currency=invoice.currency)
        if first_whole:
            # Crediting a whole invoice gives back exactly what it charged: its own VAT groups and total (one-time
            # fees and taxes included), not a re-pricing of its lines that could differ in the last cent.
            with translation.override(invoice.language):
                items, summary = _mirror(invoice, items)
        figures = invoice_figures(invoice)
        creditable = figures.total - (CreditNote.objects.filter(invoice=invoice).aggregate(s=Sum("total"))["s"] or 0)
        if summary.total > creditable:
            raise ValidationError(
                _("This credit note (%(total)s) is more than what is left to credit on the invoice (%(left)s).")
                % {"total": summary.total, "left": creditable}
            )
        number, sequence = number_take(key=NumberSeries.CREDIT_NOTE)
        snapshot = {
            "kind": "credit_note",
            "number": number,
            "invoice_number": invoice.number,
            "invoice_issue_date": invoice.snapshot["issue_date"],
            "issue_date": timezone.localdate().isoformat(),
            "currency": invoice.currency,
            "language": invoice.language,
            "reason": reason[:300],
            "seller": invoice.snapshot["seller"],
            "buyer": invoice.snapshot["buyer"],
            "logo_path": invoice.snapshot.get("logo_path", ""),
            "lines": [
                {
                    "description": row["description"],
                    "quantity": f"{row['quantity'].normalize():f}" if row["quantity"] is not None else None,
                    "net": f"{item.net:f}",
                    "tax_rate": f"{item.tax_rate:f}",
                    "tax_label": item.tax_label,
                    "reverse_charge": item.reverse_charge,
                }
                for row, item in items
            ],
            "vat_groups": [
                {
                    "rate": f"{g.rate:f}",
                    "label": g.label,
                    "reverse_charge": g.reverse_charge,
                    "base": f"{g.base:f}",
                    "vat": f"{g.vat:f}",
                }
                for g in summary.vat_groups
            ],
            "subtotal": f"{summary.subtotal:f}",
            "vat_total": f"{summary.vat_total:f}",
            "total": f"{summary.total:f}",
            "reverse_charge": any(item.reverse_charge for _row, item in items),
            "footer": invoice.snapshot.get("footer", ""),
            "legal_text": invoice.snapshot.get("legal_text", ""),
        }
        note = CreditNote.objects.create(
            invoice=invoice,
            number=number,
            sequence=sequence,
            currency=invoice.currency,
            reason=reason[:300],
            issue_date=timezone.localdate(),
            total=summary.total,
            snapshot=snapshot,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        CreditNoteLine.objects.bulk_create(
            [
                CreditNoteLine(
                    credit_note=note,
                    invoice_line_index=row["invoice_line_index"],
                    description=row["description"],
                    quantity=row["quantity"],
                    net=item.net,
                    tax_rate=item.tax_rate,
                    tax_label=item.tax_label,
                    reverse_charge=item.reverse_charge,
                    position=position,
                )
                for position, (row, item) in enumerate(items)
            ]
        )
        kept = _credit_note_post(
            invoice=invoice, note=note, due=figures.due, written_off=figures.written_off, actor=actor
        )
        invoice_change_record(
            invoice,
            kind="credit_note",
            actor=actor,
            credit_note=number,
            total=f"{summary.total:f}",
            kept_as_credit=f"{kept:f}",
        )
        event_emit(name=events.CREDIT_NOTE_ISSUED, payload={"id": note.pk, "invoice_id": invoice.pk, "number": number})
        invoice_settle(invoice, actor=actor, via="credit_note")
    return note


def _credit_note_post(*, invoice: Invoice, note: CreditNote, due: Decimal, written_off: Decimal, actor) -> Decimal:
    """Book a credit note: it lowers what is due; on an uncollectible invoice it then replaces written-off amount;
    the rest is the customer's credit. Returns that rest."""
    on_due = min(note.total, max(due, Decimal(0)))
    on_written_off = min(note.total - on_due, written_off) if invoice.status == InvoiceStatus.UNCOLLECTIBLE else 0
    kept = note.total - on_due - on_written_off
    ledger_post(
        account=invoice_account_required(invoice),
        currency=invoice.currency,
        actor=actor,
        credit_note=note,
        legs=[
            Leg(EntryKind.CREDIT_NOTE_ISSUED, -(on_due + on_written_off), invoice),
            Leg(EntryKind.WRITTEN_OFF, on_written_off, invoice),
            Leg(EntryKind.CREDIT_ADDED, -kept, None),
        ],
        memo=note.number,
    )
    return kept
