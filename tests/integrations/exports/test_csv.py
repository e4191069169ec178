"""CSV exports: exact columns and values of a known set of documents, period boundaries, streaming."""

import csv
import io
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models.query import QuerySet
from django.test.utils import CaptureQueriesContext

from billing.services.invoice_payments import invoice_record_payment
from integrations.exports import csv_export
from integrations.exports.csv_export import CREDIT_NOTE_COLUMNS, INVOICE_COLUMNS, PAYMENT_COLUMNS, csv_lines
from tests.integrations.exports.data import (
    credit_whole,
    finalize,
    nl_buyer,
    nl_invoice,
    nok_invoice,
    reverse_charge_invoice,
)

pytestmark = pytest.mark.django_db
MARCH = {"start": date(2026, 3, 1), "end": date(2026, 3, 31)}


def _rows(kind, **period):
    text = "".join(csv_lines(kind, **period))
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _pay(invoice, amount, on):
    return invoice_record_payment(
        invoice=invoice, amount=Decimal(amount), paid_on=on, method="bank_transfer", reference=f"ref {on}", actor=None
    )


@pytest.fixture
def march(tenant_alpha):
    """Invoices of February 28, March 2, March 31 (twice) and April 1; payments of March 10, March 31, April 1."""
    company, contact = nl_buyer(name="Februari B.V.")
    before = finalize(
        [("Early", "1", "10.00", "BTW 21%")], company=company, contact=contact, issue_date=date(2026, 2, 28)
    )
    nl = nl_invoice()  # March 2: 337.33 EUR
    rc = reverse_charge_invoice()  # March 2: 1000.00 EUR, credited in full below
    nok = nok_invoice(issue_date=date(2026, 3, 31))  # 4500.00 NOK
    after = finalize([("Late", "1", "10.00", "BTW 21%")], company=company, contact=contact, issue_date=date(2026, 4, 1))
    _pay(nl, "100.00", date(2026, 3, 10))
    _pay(nok, "4500.00", date(2026, 3, 31))
    _pay(nl, "50.00", date(2026, 4, 1))
    note = credit_whole(rc)
    return {"before": before, "nl": nl, "rc": rc, "nok": nok, "after": after, "note": note}


def test_invoices_csv_has_one_row_per_vat_rate_with_ledger_figures_for_the_period_inclusive(march):
    # Paid, credited and due are the ledger's figures when the file is made: the April payment counts too.
    rows = _rows("invoices", **MARCH)
    assert rows[0] == INVOICE_COLUMNS
    nl, rc, nok = march["nl"].number, march["rc"].number, march["nok"].number
    assert rows[1:] == [
        [
            nl,
            "2026-03-02",
            "2026-03-16",
            "overdue",
            "Bakkerij de Molen B.V.",
            "NL123456782B90",
            "87654321",
            "NL",
            "EUR",
            "1",
            "S",
            "21.00",
            "BTW 21%",
            "233.75",
            "49.09",
            "282.84",
            "283.74",
            "53.59",
            "337.33",
            "150.00",
            "0.00",
            "0.00",
            "187.33",
        ],
        [
            nl,
            "2026-03-02",
            "2026-03-16",
            "overdue",
            "Bakkerij de Molen B.V.",
            "NL123456782B90",
            "87654321",
            "NL",
            "EUR",
            "2",
            "S",
            "9.00",
            "BTW 9%",
            "49.99",
            "4.50",
            "54.49",
            "283.74",
            "53.59",
            "337.33",
            "150.00",
            "0.00",
            "0.00",
            "187.33",
        ],
        [
            rc,
            "2026-03-02",
            "2026-03-16",
            "credited",
            "Brouwerij Zuid BV",
            "BE0123456749",
            "0123456749",
            "BE",
            "EUR",
            "1",
            "AE",
            "0.00",
            "EU reverse charge",
            "1000.00",
            "0.00",
            "1000.00",
            "1000.00",
            "0.00",
            "1000.00",
            "0.00",
            "1000.00",
            "0.00",
            "0.00",
        ],
        [
            nok,
            "2026-03-31",
            "2026-04-14",
            "paid",
            "Fjordline AS",
            "NO974760673MVA",
            "974760673",
            "NO",
            "NOK",
            "1",
            "G",
            "0.00",
            "MVA 0%",
            "4500.00",
            "0.00",
            "4500.00",
            "4500.00",
            "0.00",
            "4500.00",
            "4500.00",
            "0.00",
            "0.00",
            "0.00",
        ],
    ]


def test_one_day_periods_include_their_boundaries(march):
    assert [r[0] for r in _rows("invoices", start=date(2026, 2, 28), end=date(2026, 2, 28))[1:]] == [
        march["before"].number
    ]
    assert [r[0] for r in _rows("invoices", start=date(2026, 4, 1), end=date(2026, 4, 1))[1:]] == [
        march["after"].number
    ]


def test_payments_csv_lists_each_payment_of_the_period_with_what_it_paid(march):
    rows = _rows("payments", **MARCH)
    assert rows[0] == PAYMENT_COLUMNS
    assert rows[1:] == [
        [
            "2026-03-10",
            march["nl"].number,
            "Bakkerij de Molen B.V.",
            "NL123456782B90",
            "EUR",
            "100.00",
            "100.00",
            "0.00",
            "bank_transfer",
            "ref 2026-03-10",
            "manual",
            "",
            "",
        ],
        [
            "2026-03-31",
            march["nok"].number,
            "Fjordline AS",
            "NO974760673MVA",
            "NOK",
            "4500.00",
            "4500.00",
            "0.00",
            "bank_transfer",
            "ref 2026-03-31",
            "manual",
            "",
            "",
        ],
    ]


def test_overpayment_shows_the_part_kept_as_customer_credit(tenant_alpha):
    invoice = nok_invoice()
    _pay(invoice, "5000.00", date(2026, 4, 2))
    row = _rows("payments", start=date(2026, 4, 2), end=date(2026, 4, 2))[1]
    assert row[5:8] == ["5000.00", "4500.00", "500.00"]


def test_credit_notes_csv_refers_to_the_invoice_and_repeats_its_vat(march):
    today = march["note"].issue_date
    rows = _rows("credit_notes", start=today, end=today)
    assert rows[0] == CREDIT_NOTE_COLUMNS
    assert rows[1:] == [
        [
            march["note"].number,
            today.isoformat(),
            march["rc"].number,
            "2026-03-02",
            "Returned",
            "Brouwerij Zuid BV",
            "BE0123456749",
            "0123456749",
            "BE",
            "EUR",
            "1",
            "AE",
            "0.00",
            "EU reverse charge",
            "1000.00",
            "0.00",
            "1000.00",
            "1000.00",
            "0.00",
            "1000.00",
        ],
    ]
    assert _rows("credit_notes", **MARCH)[1:] == []


def test_fees_outside_vat_get_their_own_row_and_rows_add_up_to_the_total(tenant_alpha):
    invoice = nl_invoice(adjustments=[("discount", "Loyalty", "20.00"), ("fee", "Shipping", "7.50")])
    rows = _rows("invoices", start=date(2026, 3, 2), end=date(2026, 3, 2))[1:]
    assert [(r[10], r[11], r[12], r[13], r[14]) for r in rows] == [
        ("S", "21.00", "BTW 21%", "217.27", "45.63"),
        ("S", "9.00", "BTW 9%", "46.47", "4.18"),
        ("E", "0.00", "outside VAT", "7.50", "0.00"),
    ]
    assert sum(Decimal(r[15]) for r in rows) == invoice.total == Decimal("321.05")


def test_zip_holds_the_three_files(march):
    import zipfile

    data = b"".join(csv_export.csv_zip(**MARCH))
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == [
        "invoices-2026-03-01-2026-03-31.csv",
        "credit-notes-2026-03-01-2026-03-31.csv",
        "payments-2026-03-01-2026-03-31.csv",
    ]
    invoices = archive.read("invoices-2026-03-01-2026-03-31.csv").decode("utf-8-sig")
    assert invoices.count("\r\n") == 5  # the header and four rows


def test_export_reads_through_a_chunked_cursor_with_a_fixed_number_of_queries(march, monkeypatch):
    chunk_sizes = []
    original = QuerySet.iterator

    def spy(self, chunk_size=None):
        chunk_sizes.append(chunk_size)
        return original(self, chunk_size=chunk_size)

    monkeypatch.setattr(QuerySet, "iterator", spy)
    lines = csv_lines("invoices", **MARCH)
    with CaptureQueriesContext(connection) as header_only:
        next(lines)
    assert len(header_only) == 0  # nothing is read before the first row is asked for
    with CaptureQueriesContext(connection) as three:
        list(lines)
    company, contact = nl_buyer(name="Meer B.V.")
    for day in (3, 4, 5):
        finalize([("More", "1", "1.00", "BTW 21%")], company=company, contact=contact, issue_date=date(2026, 3, day))
    with CaptureQueriesContext(connection) as six:
        assert len(list(csv_lines("invoices", **MARCH))) == 1 + 4 + 3
    assert len(six) == len(three)  # no query per invoice: the ledger figures come with the rows
    assert chunk_sizes == [csv_export.CHUNK, csv_export.CHUNK]
