"""CSV exports of a period's invoices, credit notes and payments, in the layout accountants import into Exact Online,
Twinfield or Tripletex: one row per document and VAT rate (docs/exports.md lists every column).

Rows are produced as the database cursor delivers them (QuerySet.iterator with a server-side cursor), so an export
of a million invoices holds one chunk in memory, never the whole period. Amounts are the stored ones: each VAT row
is a VAT group of the frozen snapshot (the amounts the PDF printed); paid, credited, written off and due come from
the receivables ledger (billing.selectors.receivables), the one definition every screen uses.

Column names are fixed identifiers, the same in every language, so an import mapping made once keeps working.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal

from babel.numbers import get_currency_precision

from commerce_hub.text import csv_safe
from integrations.exports import selectors
from integrations.exports.ubl import category_code, exempt_tax_labels

CHUNK = 1000
BOM = "\ufeff"  # spreadsheet programs then read the file as UTF-8

INVOICE_COLUMNS = [
    "invoice_number",
    "issue_date",
    "due_date",
    "status",
    "customer_name",
    "customer_vat_number",
    "customer_registration_number",
    "customer_country",
    "currency",
    "vat_row",
    "vat_category",
    "vat_rate",
    "vat_label",
    "net_amount",
    "vat_amount",
    "gross_amount",
    "invoice_net",
    "invoice_vat",
    "invoice_total",
    "paid",
    "credited",
    "written_off",
    "balance_due",
]
CREDIT_NOTE_COLUMNS = [
    "credit_note_number",
    "issue_date",
    "invoice_number",
    "invoice_issue_date",
    "reason",
    "customer_name",
    "customer_vat_number",
    "customer_registration_number",
    "customer_country",
    "currency",
    "vat_row",
    "vat_category",
    "vat_rate",
    "vat_label",
    "net_amount",
    "vat_amount",
    "gross_amount",
    "credit_note_net",
    "credit_note_vat",
    "credit_note_total",
]
PAYMENT_COLUMNS = [
    "payment_date",
    "invoice_number",
    "customer_name",
    "customer_vat_number",
    "currency",
    "amount",
    "applied_to_invoice",
    "kept_as_credit",
    "method",
    "reference",
    "source",
    "external_id",
    "reversed_on",
]
KINDS = ("invoices", "credit_notes", "payments")


def amount(value, currency: str) -> str:
    """A dot decimal separator, the currency's own decimals, a minus sign for negatives, no grouping."""
    quantum = Decimal(1).scaleb(-get_currency_precision(currency))
    return f"{Decimal(value).quantize(quantum):f}"


class _Echo:
    def write(self, value):
        return value


def vat_rows(document: dict, *, total: Decimal, exempt_labels: set[str]) -> list[dict]:
    """A document's VAT breakdown as rows: one per stored VAT group, one for what lies outside VAT (an invoice's
    one-time fees and taxes, a whole-invoice credit's line for them), and one "rounding" row in the rare case the
    rounded parts miss the stored total by a cent, so the rows always add up to the document's total."""
    seller, buyer = document.get("seller") or {}, document.get("buyer") or {}
    rows = []
    for group in document.get("vat_groups", []):
        rate = Decimal(group["rate"])
        code = category_code(
            rate=rate,
            label=group.get("label", ""),
            reverse_charge=bool(group.get("reverse_charge")),
            seller=seller,
            buyer=buyer,
            exempt_labels=exempt_labels,
        )
        rows.append(
            {
                "category": code,
                "rate": rate,
                "label": group.get("label", ""),
                "net": Decimal(group["base"]),
                "vat": Decimal(group["vat"]),
            }
        )
    if document.get("kind") == "credit_note":
        keys = {(Decimal(g["rate"]), g.get("label", ""), bool(g.get("reverse_charge"))) for g in document["vat_groups"]}
        outside = sum(
            (
                Decimal(line["net"])
                for line in document.get("lines", [])
                if (
                    Decimal(0) if line.get("reverse_charge") else Decimal(line.get("tax_rate") or 0),
                    line.get("tax_label", ""),
                    bool(line.get("reverse_charge")),
                )
                not in keys
            ),
            Decimal(0),
        )
    else:
        outside = Decimal(document.get("fee_total") or 0) + Decimal(document.get("tax_total") or 0)
    if outside:
        rows.append({"category": "E", "rate": Decimal(0), "label": "outside VAT", "net": outside, "vat": Decimal(0)})
    rest = total - sum((row["net"] + row["vat"] for row in rows), Decimal(0))
    if rest:
        rows.append({"category": "", "rate": Decimal(0), "label": "rounding", "net": rest, "vat": Decimal(0)})
    return rows


def _customer(document: dict) -> list[str]:
    buyer = document.get("buyer") or {}
    return [
        csv_safe(buyer.get("name", "")),
        csv_safe(buyer.get("vat_number", "")),
        csv_safe(buyer.get("registration_number", "")),
        buyer.get("country", ""),
    ]


def _vat_cells(index: int, row: dict, currency: str) -> list[str]:
    return [
        str(index),
        row["category"],
        f"{row['rate']:.2f}",
        csv_safe(row["label"]),
        amount(row["net"], currency),
        amount(row["vat"], currency),
        amount(row["net"] + row["vat"], currency),
    ]


def invoice_rows(*, start: date, end: date) -> Iterator[list[str]]:
    exempt = exempt_tax_labels()
    for invoice in selectors.invoices_issued(start=start, end=end).iterator(chunk_size=CHUNK):
        document, currency = invoice.snapshot or {}, invoice.currency
        total = invoice.total if invoice.total is not None else Decimal(document.get("total") or 0)
        vat_total = Decimal(document.get("vat_total") or 0)
        head = [
            invoice.number,
            invoice.issue_date.isoformat(),
            invoice.due_date.isoformat() if invoice.due_date else "",
            invoice.display_status,
            *_customer(document),
            currency,
        ]
        tail = [
            amount(total - vat_total, currency),
            amount(vat_total, currency),
            amount(total, currency),
            amount(invoice.paid_amount, currency),
            amount(invoice.credited_amount, currency),
            amount(invoice.written_off_amount, currency),
            amount(invoice.balance_due, currency),
        ]
        for index, row in enumerate(vat_rows(document, total=total, exempt_labels=exempt), start=1):
            yield head + _vat_cells(index, row, currency) + tail


def credit_note_rows(*, start: date, end: date) -> Iterator[list[str]]:
    exempt = exempt_tax_labels()
    for note in selectors.credit_notes_issued(start=start, end=end).iterator(chunk_size=CHUNK):
        document, currency = note.snapshot or {}, note.currency
        vat_total = Decimal(document.get("vat_total") or 0)
        head = [
            note.number,
            note.issue_date.isoformat(),
            document.get("invoice_number", ""),
            document.get("invoice_issue_date", ""),
            csv_safe(note.reason),
            *_customer(document),
            currency,
        ]
        tail = [amount(note.total - vat_total, currency), amount(vat_total, currency), amount(note.total, currency)]
        for index, row in enumerate(vat_rows(document, total=note.total, exempt_labels=exempt), start=1):
            yield head + _vat_cells(index, row, currency) + tail


def payment_rows(*, start: date, end: date) -> Iterator[list[str]]:
    for payment in selectors.payments_received(start=start, end=end).iterator(chunk_size=CHUNK):
        currency = payment.currency
        kept = Decimal(0) if payment.reversed_on else payment.amount - payment.applied
        yield [
            payment.paid_on.isoformat(),
            payment.invoice_number or "",
            csv_safe(payment.buyer_name or ""),
            csv_safe(payment.buyer_vat or ""),
            currency,
            amount(payment.amount, currency),
            amount(payment.applied, currency),
            amount(kept, currency),
            payment.method,
            csv_safe(payment.reference),
            payment.source,
            csv_safe(payment.external_id or ""),
            payment.reversed_on.isoformat() if payment.reversed_on else "",
        ]


EXPORTS = {
    "invoices": (INVOICE_COLUMNS, invoice_rows),
    "credit_notes": (CREDIT_NOTE_COLUMNS, credit_note_rows),
    "payments": (PAYMENT_COLUMNS, payment_rows),
}


def csv_lines(kind: str, *, start: date, end: date) -> Iterator[str]:
    """The CSV file of one kind, line by line (the header first)."""
    columns, rows = EXPORTS[kind]
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield BOM + writer.writerow(columns)
    for row in rows(start=start, end=end):
        yield writer.writerow(row)


def file_name(kind: str, *, start: date, end: date, suffix: str = "csv") -> str:
    return f"{kind.replace('_', '-')}-{start.isoformat()}-{end.isoformat()}.{suffix}"


class _Sink:
    """A write-only stream that hands over what was written since the last call: zipfile writes to it, the
    response yields it (zipfile streams to an unseekable file with data descriptors after each member)."""

    def __init__(self):
        self._chunks: list[bytes] = []
        self._offset = 0

    def write(self, data) -> int:
        self._chunks.append(bytes(data))
        self._offset += len(data)
        return len(data)

    def tell(self) -> int:
        return self._offset

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


def zip_stream(members: Iterable[tuple[str, Iterable[bytes]]]) -> Iterator[bytes]:
    """A zip file of (name, chunks) members, produced as the members' chunks are."""
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, chunks in members:
            with archive.open(name, mode="w", force_zip64=True) as entry:
                for chunk in chunks:
                    entry.write(chunk)
                    if sink.tell() and len(sink._chunks) > 16:
                        yield sink.take()
            yield sink.take()
    yield sink.take()


def csv_zip(*, start: date, end: date) -> Iterator[bytes]:
    """Invoices, credit notes and payments of the period: three CSV files in one zip."""
    return zip_stream(
        (
            file_name(kind, start=start, end=end),
            (line.encode("utf-8") for line in csv_lines(kind, start=start, end=end)),
        )
        for kind in KINDS
    )
