"""CSV downloads of the lists people work from (accounts, contacts, renewals, the pipeline).

An export is the list the person is looking at: the view passes the rows of the same selector, with
the same filters, scope and masking as the page, so a download never shows a row or a value the
page would not. Python's :mod:`csv` writes the file; this module adds what a spreadsheet needs:

* UTF-8 with a byte-order mark, so Excel opens Vietnamese, Japanese, Persian and Chinese names as
  written rather than as mojibake;
* values that a spreadsheet would run as a formula (a name starting with ``=``, ``+``, ``-``, ``@``)
  prefixed with an apostrophe (OWASP's advice against CSV injection); numbers are left as numbers;
* machine-readable values: ISO dates, plain decimals with the currency in its own column, and an
  empty cell for a value the reader may not see (never the "•••" the page shows).

Rows are streamed, so an export of 100,000 accounts does not sit in memory as one string.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from django.forms import Form
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify

from tandem.access.masking import HiddenValue

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a generator."""

    def write(self, value: str) -> str:
        return value


def cell(value: Any) -> str | int | float | Decimal:
    """One value as a spreadsheet should read it."""
    if value is None or isinstance(value, HiddenValue):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return (
            timezone.localtime(value).isoformat(timespec="seconds") if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_lines(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """The file, line by line: a byte-order mark, the header, then one line per row."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow([str(h) for h in header])
    for row in rows:
        yield writer.writerow([cell(v) for v in row])


def csv_filename(name: str, *, today: dt.date | None = None) -> str:
    """``accounts-2026-12-06.csv``: what the list is and when it was taken."""
    day = today or timezone.localdate()
    return f"{slugify(name, allow_unicode=True) or 'export'}-{day.isoformat()}.csv"


def csv_response(*, name: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> StreamingHttpResponse:
    """A download of ``rows`` under ``header`` (labels in the reader's language)."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    # RFC 6266: an ASCII name for old clients and the UTF-8 one (a Japanese list's name) as filename*.
    response["Content-Disposition"] = content_disposition_header(True, csv_filename(name))
    response["Cache-Control"] = "private, no-store"  # customer data: no shared cache keeps a copy
    return response


def filter_errors_response(*forms: Form) -> HttpResponse | None:
    """A 400 naming each bad filter, for an export asked for with filters the page would refuse.

    None when every filter is valid. (The page shows the same errors above its table.)"""
    lines = [
        f"{name}: {' '.join(str(m) for m in messages)}" for form in forms for name, messages in form.errors.items()
    ]
    if not lines:
        return None
    return HttpResponse("\n".join(lines), status=400, content_type="text/plain; charset=utf-8")
