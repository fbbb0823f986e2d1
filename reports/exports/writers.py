"""CSV and XLSX from an export's columns and rows, one row at a time.

CSV goes through defusedcsv, so a cell that starts like a formula (``=``, ``+``, ``-``,
``@``...) is written as text and a spreadsheet never runs it; the file starts with a UTF-8
BOM so Excel reads the Chinese. XLSX uses openpyxl's write-only workbook, which keeps
nothing but the current row in memory: a frozen header row, hours as numbers of hours, dates
and times as real dates in the district's local time.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime

from defusedcsv import csv
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font

from reports.exports.base import Column, Export

MINUTES_PER_HOUR = 60
# How many rows a job writes between two progress updates (one UPDATE per chunk).
PROGRESS_EVERY = 500

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
XLSX_FORMATS = {"hours": "0.0", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm"}
XLSX_WIDTHS = {"text": 16, "int": 8, "hours": 10, "date": 12, "datetime": 17}

Progress = Callable[[int], None]


def hours_text(minutes: int) -> str:
    """``90`` → ``1.5``, ``120`` → ``2``, ``20`` → ``0.33``: a plain number for a CSV cell."""
    return f"{minutes / MINUTES_PER_HOUR:.2f}".rstrip("0").rstrip(".")


def local_naive(value: datetime) -> datetime:
    """An aware datetime as the district's wall-clock time, without a zone (as a cell holds it)."""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return value.replace(tzinfo=None)


def counted(rows: Iterable[tuple], progress: Progress | None, every: int) -> Iterator[tuple]:
    """``rows`` unchanged, telling ``progress`` the number written every ``every`` rows."""
    done = 0
    for row in rows:
        yield row
        done += 1
        if progress is not None and done % every == 0:
            progress(done)
    if progress is not None and done % every:
        progress(done)


# --- CSV ---------------------------------------------------------------------------------------


def _csv_value(kind: str, value):
    if value is None:
        return ""
    if kind == "hours":
        return hours_text(value)
    if kind == "datetime":
        return local_naive(value).strftime("%Y-%m-%d %H:%M")
    if kind == "date":
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind == "int":
        return value
    return str(value)


class _Line:
    """A file object for ``csv.writer`` that hands back what was written to it."""

    def write(self, text: str) -> str:
        return text


def csv_lines(export: Export) -> Iterator[str]:
    """The export as CSV text, one line at a time, the header first."""
    columns = export.columns()
    writer = csv.writer(_Line())
    yield writer.writerow([str(column.header) for column in columns])
    kinds = [column.kind for column in columns]
    for row in export.rows():
        yield writer.writerow([_csv_value(k, v) for k, v in zip(kinds, row, strict=True)])


def csv_chunks(export: Export) -> Iterator[bytes]:
    """For a StreamingHttpResponse: the BOM, then UTF-8 lines (several per chunk)."""
    yield codecs.BOM_UTF8
    buffer: list[str] = []
    for line in csv_lines(export):
        buffer.append(line)
        if len(buffer) >= 200:
            yield "".join(buffer).encode()
            buffer = []
    if buffer:
        yield "".join(buffer).encode()


def write_csv(export: Export, out, *, progress: Progress | None = None) -> int:
    """Write the export as CSV into the binary file ``out``; returns the rows written."""
    out.write(codecs.BOM_UTF8)
    lines = csv_lines(export)
    out.write(next(lines).encode())
    written = 0
    for line in counted(lines, progress, PROGRESS_EVERY):
        out.write(line.encode())
        written += 1
    return written


# --- XLSX --------------------------------------------------------------------------------------


def _xlsx_value(kind: str, value):
    if value is None:
        return None
    if kind == "hours":
        return value / MINUTES_PER_HOUR
    if kind == "datetime":
        return local_naive(value)
    if kind in ("date", "int"):
        return value
    return str(value)


def write_xlsx(export: Export, out, *, progress: Progress | None = None) -> int:
    """Write the export as an XLSX workbook into ``out`` (a path or a binary file opened for
    writing); returns the rows written."""
    columns: list[Column] = export.columns()
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(str(export.title)))
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns):
        letter = _column_letter(index)
        sheet.column_dimensions[letter].width = XLSX_WIDTHS[column.kind]
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=str(column.header))
        cell.font = bold
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    sheet.append(header)
    kinds = [column.kind for column in columns]
    written = 0
    try:
        for row in counted(export.rows(), progress, PROGRESS_EVERY):
            cells = []
            for kind, value in zip(kinds, row, strict=True):
                cell = WriteOnlyCell(sheet, value=_xlsx_value(kind, value))
                if kind in XLSX_FORMATS and value is not None:
                    cell.number_format = XLSX_FORMATS[kind]
                cells.append(cell)
            sheet.append(cells)
            written += 1
    except BaseException:
        _abandon(sheet)
        raise
    workbook.save(out)
    return written


def _abandon(sheet) -> None:
    """Close a half-written sheet and remove its temporary file (openpyxl keeps one per
    sheet until the workbook is saved)."""
    try:
        sheet.close()
        sheet._writer.cleanup()
    except Exception:  # noqa: BLE001, S110 - the export's own error is the one to report
        pass


def _sheet_title(title: str) -> str:
    # A sheet title has at most 31 characters and none of []:*?/\
    cleaned = "".join("-" if ch in "[]:*?/\\" else ch for ch in title)
    return cleaned[:31] or "Sheet"


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}
