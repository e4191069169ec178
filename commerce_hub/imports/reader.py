"""Reading uploaded CSV files.

Files are UTF-8, with or without the byte-order mark Excel writes, separated by commas, semicolons (Excel in Dutch
and Norwegian) or tabs. A first line "sep=;" (Excel's own hint) is honoured. Rows are numbered like a spreadsheet:
the header is row 1, so a reported row number is the one the user sees when they open the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from commerce_hub.imports import MAX_FILE_BYTES, MAX_ROWS
from commerce_hub.money import number_format

DELIMITERS = (",", ";", "\t")
ALLOWED_SUFFIXES = (".csv", ".txt")
_SAMPLE_BYTES = 64 * 1024
_SEP_LINE = re.compile(r"^sep=(.)\r?\n?$", re.IGNORECASE)


@dataclass(frozen=True)
class CsvInfo:
    headers: list[str]
    row_count: int  # data rows below the header that are not blank


def _sniff_delimiter(sample: str, truncated: bool) -> str:
    """The delimiter that splits the first rows into the same, largest number of columns.

    csv.Sniffer guesses wrong on short files and on decimal commas; counting columns per candidate does not.
    """
    best, best_score = ",", (False, 0.0, 0)
    for delimiter in DELIMITERS:
        rows = []
        try:
            for row in csv.reader(io.StringIO(sample), delimiter=delimiter):
                rows.append(row)
                if len(rows) > 20:
                    break
        except csv.Error:
            continue
        if truncated and len(rows) > 1:
            rows = rows[:-1]  # the sample may end inside the last row
        rows = [r for r in rows if any(c.strip() for c in r)]
        if not rows:
            continue
        width = len(rows[0])
        consistent = sum(1 for r in rows if len(r) == width) / len(rows)
        score = (width > 1, consistent, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _open(binary) -> tuple[str, Iterator[str]]:
    """The delimiter and the decoded lines of the file, after any "sep=" line."""
    binary.seek(0)
    sample_bytes = binary.read(_SAMPLE_BYTES)
    if b"\x00" in sample_bytes:
        raise ValidationError(_("This is not a CSV file. Save the sheet as CSV and upload that."))
    # An incremental decoder, because the sample may end in the middle of a multi-byte character.
    try:
        sample = codecs.getincrementaldecoder("utf-8-sig")().decode(sample_bytes, final=False)
    except UnicodeDecodeError as exc:
        raise ValidationError(_not_utf8()) from exc
    binary.seek(0)
    lines = codecs.iterdecode(binary, "utf-8-sig")
    first_line = sample.split("\n", 1)[0]
    match = _SEP_LINE.match(first_line)
    if match:
        next(lines, None)
        return match.group(1), lines
    return _sniff_delimiter(sample, truncated=len(sample_bytes) == _SAMPLE_BYTES), lines


def _not_utf8() -> str:
    return _("The file is not UTF-8 text. In Excel, choose Save as and then “CSV UTF-8”.")


def csv_rows(binary) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) of the header (row 1) and every data row that is not blank."""
    delimiter, lines = _open(binary)
    reader = csv.reader(lines, delimiter=delimiter)
    row_number = 0
    try:
        for cells in reader:
            row_number += 1
            if row_number == 1 or any(cell.strip() for cell in cells):
                yield row_number, cells
    except UnicodeDecodeError as exc:
        raise ValidationError(_not_utf8()) from exc
    except csv.Error as exc:
        raise ValidationError(
            _("Row %(row)s could not be read as CSV: %(reason)s.") % {"row": row_number + 1, "reason": exc}
        ) from exc


def csv_data_rows(binary) -> Iterator[tuple[int, list[str]]]:
    rows = csv_rows(binary)
    next(rows, None)
    yield from rows


def csv_inspect(upload) -> CsvInfo:
    """Check an upload before it becomes an import: its type, size, encoding, header and number of rows."""
    if not upload.name.lower().endswith(ALLOWED_SUFFIXES):
        raise ValidationError(
            _("“%(name)s” is not a CSV file. Save the sheet as CSV (comma or semicolon separated) and upload that.")
            % {"name": upload.name}
        )
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    if upload.size > MAX_FILE_BYTES:
        raise ValidationError(_("The file is larger than 20 MB. Split it into smaller files and import each one."))
    rows = csv_rows(upload)
    header = next(rows, None)
    if header is None or not any(cell.strip() for cell in header[1]):
        raise ValidationError(_("The file is empty."))
    headers = [cell.strip() for cell in header[1]]
    seen = set()
    for name in headers:
        if name and name in seen:
            raise ValidationError(
                _("The column “%(name)s” appears twice. Give every column its own header.") % {"name": name}
            )
        seen.add(name)
    count = 0
    for _row in rows:
        count += 1
        if count > MAX_ROWS:
            raise ValidationError(
                _("The file has more than %(max)s rows. Split it into smaller files and import each one.")
                % {"max": number_format(MAX_ROWS)}
            )
    if count == 0:
        raise ValidationError(_("The file has a header row but no rows below it."))
    return CsvInfo(headers=headers, row_count=count)
