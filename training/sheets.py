"""Reading a spreadsheet without letting it claim the machine: ``read_table``, the one reader of
every upload and command-line file (CSV in UTF-8 or GBK, or XLSX's first sheet), as rows of text
with the caps applied while reading.

A 12 KB file whose ``<dimension>`` says A1:XFD1048576 made openpyxl pad every row to 16,384
columns and add rows up to a million (2.5 s, 260 MB), and a compressed part can unpack to
gigabytes. So the archive's declared part sizes and ratios are checked before any XML is parsed
(zipfile never unpacks more than a part declares), the dimension is ignored, rows are cut at one
column past the cap and reading stops one row past it. Used by the console's uploads
(training.console.uploads) and the command-line readers (certificates.cli), through ``read_table``.

Must not: know what the columns mean, touch the database, or read anything but the first sheet.
"""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime

MAX_PARTS = 200            # an XLSX from Excel or WPS has a few dozen parts
MAX_RATIO = 100            # XML of a real sheet packs 5 to 20 times; a bomb, thousands
RATIO_FROM = 1024 * 1024   # small parts may pack better than that without harm


class SheetError(ValueError):
    """The file is not a spreadsheet we read: ``code`` is ``unreadable_file``,
    ``file_too_large``, ``too_many_rows`` or ``too_many_columns`` (``limit`` for the last three)."""

    TEXT = {
        "unreadable_file": "not a CSV file or an XLSX workbook",
        "file_too_large": "its parts unpack to more than {limit} bytes, or pack like a zip bomb",
        "too_many_rows": "more than {limit} rows under the header (or rows far apart); split it",
        "too_many_columns": "a value right of column {limit}; remove the extra columns",
    }

    def __init__(self, code: str, limit: int | None = None):
        super().__init__(self.TEXT[code].format(limit=limit))
        self.code, self.limit = code, limit


def check_archive(source, max_unpacked: int) -> None:
    """Refuse an archive whose parts would unpack past ``max_unpacked`` bytes in all, or any of
    whose larger parts packs suspiciously well; ``source`` is a path or a binary file."""
    try:
        with zipfile.ZipFile(source) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise SheetError("unreadable_file") from None
    if len(parts) > MAX_PARTS:
        raise SheetError("unreadable_file")
    if sum(p.file_size for p in parts) > max_unpacked:
        raise SheetError("file_too_large", max_unpacked)
    for p in parts:
        if p.file_size > RATIO_FROM and p.file_size > MAX_RATIO * max(p.compress_size, 1):
            raise SheetError("file_too_large", max_unpacked)


def read_xlsx(source, max_rows: int, max_cols: int, max_unpacked: int = 32 * 1024 * 1024) -> list[tuple]:
    """The first sheet's rows as tuples of values (None for an empty cell), the first row (the
    header) included, trailing empty cells dropped, then each padded with None to the header's
    width (an empty row: all None). ``max_rows`` counts rows after the header that hold a value;
    more than that, or a value right of ``max_cols`` columns, is a SheetError, raised as soon as
    it is read."""
    check_archive(source, max_unpacked)
    if hasattr(source, "seek"):
        source.seek(0)
    from openpyxl import load_workbook
    try:
        book = load_workbook(source, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001  openpyxl raises anything at all on a file that is not a workbook
        raise SheetError("unreadable_file") from None
    try:
        return _rows(book.active, max_rows, max_cols)
    except SheetError:
        raise
    except Exception:  # noqa: BLE001  as above, for a sheet's XML
        raise SheetError("unreadable_file") from None
    finally:
        book.close()


def _rows(sheet, max_rows: int, max_cols: int) -> list[tuple]:
    sheet.reset_dimensions()  # the file's own claim of its size is not believed
    rows, filled, blank = [], 0, 0
    # One column past the cap, so that a value there is seen and refused.
    for row in sheet.iter_rows(values_only=True, max_col=max_cols + 1):
        if row[max_cols] is not None and row[max_cols] != "":
            raise SheetError("too_many_columns", max_cols)
        end = max_cols
        while end and (row[end - 1] is None or row[end - 1] == ""):
            end -= 1
        row = row[:end]
        if not row:  # kept, empty, so that row numbers stay the spreadsheet's own
            blank += 1
            if blank > min(max_rows, 10_000) + 10_000:  # a sheet of gaps: a million rows that say nothing
                raise SheetError("too_many_rows", max_rows)
        elif rows:
            filled += 1
            if filled > max_rows:
                raise SheetError("too_many_rows", max_rows)
        rows.append(row)
    width = len(rows[0]) if rows else 0  # as wide as the header at least, as a CSV reads
    return [r + (None,) * (width - len(r)) if len(r) < width else r for r in rows]


def read_table(raw: bytes, max_rows: int, max_cols: int, max_unpacked: int,
               date_format: str = "%Y-%m-%d %H:%M") -> list[list[str]]:
    """A CSV (UTF-8, with or without BOM, or GBK: what Excel in Chinese saves as "CSV") or an
    XLSX (told by its zip signature), as rows of text, the header first; cells holding dates as
    ``date_format``. The caps are those of ``read_xlsx``, for either kind; any file that is not a
    table of text is a SheetError."""
    try:
        if raw[:2] == b"PK":
            table = read_xlsx(io.BytesIO(raw), max_rows, max_cols, max_unpacked)
            return [["" if v is None else (v.strftime(date_format) if isinstance(v, (datetime, date)) else str(v))
                     for v in r] for r in table]
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("gb18030")
        return _csv_rows(text, max_rows, max_cols)
    except SheetError:
        raise
    except Exception:  # noqa: BLE001  a file that is not a table of text is a user's mistake, not ours
        raise SheetError("unreadable_file") from None


def _csv_rows(text: str, max_rows: int, max_cols: int) -> list[list[str]]:
    rows, filled = [], 0
    for row in csv.reader(io.StringIO(text)):
        if any(v.strip() for v in row[max_cols:]):
            raise SheetError("too_many_columns", max_cols)
        row = row[:max_cols]
        if rows and any(v.strip() for v in row):
            filled += 1
            if filled > max_rows:
                raise SheetError("too_many_rows", max_rows)
        rows.append(row)
    return rows
