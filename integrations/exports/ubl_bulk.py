"""Every e-invoice of a period in one zip: the UBL XML of each invoice and credit note issued in it. A document that
cannot be expressed as a Peppol e-invoice (the buyer has no Peppol address, say) is listed with its reasons in
problems.txt instead of failing the whole download."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from integrations.exports import selectors
from integrations.exports.csv_export import CHUNK, zip_stream
from integrations.exports.ubl import (
    UblError,
    document_credit_note_ubl,
    document_invoice_ubl,
    export_settings_get,
    ubl_file_name,
)


def ubl_zip(*, start: date, end: date) -> Iterator[bytes]:
    settings = export_settings_get()
    problems: list[str] = []

    def members():
        invoices = selectors.invoices_issued(start=start, end=end).only(
            "number", "snapshot", "period_start", "period_end"
        )
        for invoice in invoices.iterator(chunk_size=CHUNK):
            period = (invoice.period_start, invoice.period_end) if invoice.period_start and invoice.period_end else None
            try:
                data = document_invoice_ubl(invoice.snapshot, settings=settings, period=period)
            except UblError as exc:
                problems.append(f"{invoice.number}: {'; '.join(exc.messages)}")
                continue
            yield ubl_file_name(invoice.number, "invoice"), [data]
        for note in selectors.credit_notes_issued(start=start, end=end).iterator(chunk_size=CHUNK):
            try:
                data = document_credit_note_ubl(note.snapshot, settings=settings)
            except UblError as exc:
                problems.append(f"{note.number}: {'; '.join(exc.messages)}")
                continue
            yield ubl_file_name(note.number, "credit-note"), [data]
        if problems:
            yield "problems.txt", ["\n".join(problems).encode("utf-8") + b"\n"]

    return zip_stream(members())
