"""Every CSV and XLSX file the portal hands out is written here, so no cell a person typed reaches a spreadsheet
as a formula (OWASP "CSV injection": a text cell starting with = + - @ tab or carriage return gets a leading `'`)."""

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Numbers are written as numbers; they cannot carry a formula, and a negative amount must stay a number.
NUMBER_TYPES = (bool, int, float, Decimal)


def cell_escape(value):
    """The value as a spreadsheet should receive it: numbers as they are, anything else as text that a
    spreadsheet shows rather than runs."""
    if isinstance(value, NUMBER_TYPES):
        return value
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _csv_write(out, *, header: Sequence, rows: Iterable[Sequence]) -> None:
    writer = csv.writer(out)
    writer.writerow([cell_escape(value) for value in header])
    for row in rows:
        writer.writerow([cell_escape(value) for value in row])


def csv_response(*, filename: str, header: Sequence, rows: Iterable[Sequence]) -> HttpResponse:
    response = HttpResponse(content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # so that Excel reads the file as UTF-8
    _csv_write(response, header=header, rows=rows)
    return response


def _xlsx_cell(value):
    value = cell_escape(value)
    if not isinstance(value, str):
        return value
    # XML turns a carriage return into a line feed anyway; control characters make a workbook Excel refuses.
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return ILLEGAL_CHARACTERS_RE.sub("\N{REPLACEMENT CHARACTER}", value)


def xlsx_bytes(*, header: Sequence, rows: Iterable[Sequence]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([_xlsx_cell(value) for value in header])
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_response(*, filename: str, header: Sequence, rows: Iterable[Sequence]) -> HttpResponse:
    response = HttpResponse(xlsx_bytes(header=header, rows=rows), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def export_response(*, fmt: str, filename: str, header: Sequence, rows: Iterable[Sequence]) -> HttpResponse:
    """`fmt` is "csv" or "xlsx"."""
    writer = xlsx_response if fmt == "xlsx" else csv_response
    return writer(filename=filename, header=header, rows=rows)
