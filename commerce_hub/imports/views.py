"""What the import pages of every app share."""

import csv
from collections.abc import Iterable

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _

from commerce_hub.text import csv_safe


class _Echo:
    def write(self, value):
        return value


def errors_csv_response(errors: Iterable[tuple], *, filename: str) -> StreamingHttpResponse:
    """An import's errors, (row, column, value, message) each, as a CSV download, streamed: a file of 200,000 bad
    rows never sits in memory."""
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # Excel reads the file as UTF-8 only with the byte-order mark
        yield writer.writerow([_("Row"), _("Column"), _("Value"), _("Reason")])
        for row, column, value, message in errors:
            yield writer.writerow([row, csv_safe(column), csv_safe(value), message])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
