"""One reader for every spreadsheet (training.sheets.read_table): the console's uploads and the
command-line files read CSV in UTF-8 or GBK and XLSX alike, with the same caps. (The caps
against hostile XLSX files: tests/test_hardening_input.py.)"""
from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import Workbook

from certificates.cli import read_rows
from training.sheets import SheetError, read_table

HEAD, ROW = ["身份证号", "考试时间"], ["110101199003079518", "2026-12-03 09:30"]


def _xlsx() -> bytes:
    book = Workbook()
    book.active.append(HEAD)
    book.active.append([ROW[0], datetime(2026, 12, 3, 9, 30)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("raw", [
    ",".join(HEAD).encode() + b"\n" + ",".join(ROW).encode() + b"\n",
    b"\xef\xbb\xbf" + ",".join(HEAD).encode() + b"\r\n" + ",".join(ROW).encode() + b"\r\n",  # Excel's UTF-8 with BOM
    ",".join(HEAD).encode("gbk") + b"\n" + ",".join(ROW).encode("gbk") + b"\n",  # Excel in Chinese: GBK
    _xlsx(),
], ids=["utf8", "utf8-bom", "gbk", "xlsx"])
def test_sheets_every_kind_reads_the_same(raw, tmp_path):
    assert read_table(raw, 10, 5, 1 << 20) == [HEAD, ROW]
    path = tmp_path / "rows"
    path.write_bytes(raw)
    assert read_rows(path) == [{"身份证号": ROW[0], "考试时间": ROW[1]}]


def test_sheets_the_caps_hold_for_csv_as_for_xlsx():
    rows = "a,b\n" + "1,2\n" * 11
    with pytest.raises(SheetError) as err:
        read_table(rows.encode(), 10, 5, 1 << 20)
    assert err.value.code == "too_many_rows" and err.value.limit == 10
    with pytest.raises(SheetError) as err:
        read_table(b"a,b\n1,2,3,4,5,6\n", 10, 5, 1 << 20)
    assert err.value.code == "too_many_columns"
    with pytest.raises(SheetError) as err:
        read_table(b"PK\x03\x04 not really a zip", 10, 5, 1 << 20)
    assert err.value.code == "unreadable_file"
