"""Tables to files: CSV (UTF-8 with BOM, for Excel; semicolons for Nordic Excel, or commas)
and XLSX, both through one function that defuses cells a spreadsheet would run.

A cell a spreadsheet reads as a formula (``=HYPERLINK(...)``, ``+46...``, ``-1+1``,
``@SUM(...)``; also after leading spaces, or behind a tab, CR or NUL that a spreadsheet
may drop) gets a leading apostrophe and is shown as the text it is. Libraries do some of
this and not all: openpyxl only treats ``=`` as a formula, the csv module none. Numbers,
days and times are written as such, never as text, so they stay numbers and need no
defusing.
"""

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import islice
from typing import IO

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from surveys.exports.tables import Cell, Table

FORMATS = ("csv", "xlsx")
SEPARATORS = (";", ",")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
BOM = "\ufeff"
# What starts a formula in Excel, LibreOffice or Google Sheets, first or after spaces.
FORMULA_STARTS = "=+-@"
# Cells starting with these are defused whatever follows: a spreadsheet may drop them
# and read what comes next as the start of the cell.
HIDDEN_STARTS = "\t\r\x00"
_FORMULA = re.compile(r"[\s\x00]*[=+\-@]")
# Control characters XML 1.0, and so XLSX, cannot hold (tab, LF and CR it can).
_UNWRITABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
# The longest text a spreadsheet cell holds.
XLSX_CELL_LIMIT = 32_767
# CSV rows written before the next piece goes out.
CSV_ROWS_A_PIECE = 500


def neutralise(text: str) -> str:
    """A text cell as a spreadsheet must show it: with a leading apostrophe when it would
    start a formula (also after spaces, tab, CR or NUL), and with the control characters
    an XLSX file cannot hold (NUL and the like) as U+FFFD."""
    if (text and text[0] in HIDDEN_STARTS) or _FORMULA.match(text):
        text = "'" + text
    if not text.isprintable():
        text = _UNWRITABLE.sub("\ufffd", text)
    return text


def _decimal_text(value: int | float | Decimal, decimal_comma: bool) -> str:
    if isinstance(value, float):
        value = Decimal(repr(value))
    text = format(value, "f")
    return text.replace(".", ",") if decimal_comma else text


def csv_text(value: Cell, *, decimal_comma: bool = False) -> str:
    """A value as a CSV cell: numbers as numbers (with a decimal comma for Nordic Excel),
    days as 2026-03-31, times as 2026-03-31 14:05:00 in UTC, yes/no, text defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return _decimal_text(value, decimal_comma)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def csv_pieces(table: Table, separator: str = ";") -> Iterator[bytes]:
    """The table as CSV, a few hundred rows a piece, for a streamed response or a file:
    UTF-8 with BOM (so Excel reads the letters right), CRLF line ends, fields quoted
    only where needed. With ``;`` numbers get a decimal comma, as Nordic Excel reads them."""
    if separator not in SEPARATORS:
        raise ValueError(f"the separator is one of {' '.join(SEPARATORS)}, not {separator!r}")
    decimal_comma = separator == ";"
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow([neutralise(name) for name in table.columns])
    rows = iter(table.rows)
    while True:
        piece = list(islice(rows, CSV_ROWS_A_PIECE))
        for row in piece:
            writer.writerow([csv_text(value, decimal_comma=decimal_comma) for value in row])
        if buffer.tell():
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
        if not piece:
            return


def xlsx_value(value: Cell) -> object:
    """A value as an XLSX cell: numbers, days and times typed (times in UTC, which the
    format cannot say), yes/no, text defused and cut to what a cell holds."""
    if value is None or isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, date):
        return value
    text = neutralise(str(value))
    if len(text) > XLSX_CELL_LIMIT:
        text = text[: XLSX_CELL_LIMIT - 1] + "…"
    return text


def write_xlsx(table: Table, target: IO[bytes]) -> None:
    """The table as one sheet of an XLSX workbook, written row by row in openpyxl's
    write-only mode (the rows go to a temporary file, not to memory), into ``target``."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table.name[:31])
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for name in table.columns:
        cell = WriteOnlyCell(sheet, value=neutralise(name))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in table.rows:
        sheet.append([xlsx_value(value) for value in row])
    workbook.save(target)


def file_name(table: Table, file_format: str, day: date) -> str:
    """``answers-2026-12-01.csv``: our own words, so safe in any header or file system."""
    safe = re.sub(r"[^a-z0-9-]+", "-", table.name.lower()).strip("-") or "export"
    return f"{safe}-{day.isoformat()}.{file_format}"


def write_table(table: Table, file_format: str, target: IO[bytes], separator: str = ";") -> None:
    """The table as a file of ``file_format`` into the binary stream ``target``."""
    if file_format == "csv":
        for piece in csv_pieces(table, separator):
            target.write(piece)
    elif file_format == "xlsx":
        write_xlsx(table, target)
    else:
        raise ValueError(f"the format is one of {', '.join(FORMATS)}, not {file_format!r}")
