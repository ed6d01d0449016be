"""China time, said once (training/clock.py): the day boundaries stored times fall into, the
text pages show, and no other module keeping an offset of its own."""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path

from training import clock

ROOT = Path(__file__).resolve().parents[2]


def test_clock_days_begin_and_end_at_china_midnight():
    d = date(2026, 6, 1)
    assert clock.day_start(d) == datetime(2026, 5, 31, 16, 0)  # 00:00 China time, as naive UTC
    assert clock.day_end(d) == datetime(2026, 6, 1, 16, 0)
    assert clock.day(datetime(2026, 5, 31, 15, 59, 59)) == date(2026, 5, 31)
    assert clock.day(datetime(2026, 5, 31, 16, 0)) == d
    assert clock.day_end_of(datetime(2026, 5, 31, 16, 0)) == clock.day_end(d)
    assert clock.month(datetime(2026, 5, 31, 16, 0)) == "2026-06"
    assert clock.today(datetime(2026, 12, 31, 16, 30)) == date(2027, 1, 1)
    assert datetime(2026, 6, 1, 8, tzinfo=clock.ZONE).isoformat() == "2026-06-01T08:00:00+08:00"
    assert clock.CHINA_SECONDS == clock.CHINA.total_seconds() == 8 * 3600


def test_clock_text_reads_stored_times_and_their_rfc3339_text_alike():
    stored = datetime(2026, 12, 3, 11, 32, 11)
    assert clock.text(stored) == "2026-12-03 19:32"
    for written in ("2026-12-03T11:32:11", "2026-12-03T11:32:11Z", "2026-12-03T11:32:11+00:00",
                    "2026-12-03T19:32:11+08:00"):
        assert clock.text(written) == "2026-12-03 19:32", written
    assert clock.text(stored, "%Y-%m-%d") == "2026-12-03"
    assert clock.text(None) == "" and clock.text("") == "" and clock.text("not a time") == "not a time"


def test_clock_is_the_only_place_that_knows_the_offset():
    # A constant or zone of its own (an eight-hour class or shift is a duration, not an offset).
    offsets = re.compile(r"^\s*\w+ = (timedelta\(hours=8\)|8 \* 3600|28800)\s*(#.*)?$|timezone\(timedelta\(hours=8")
    found = []
    for folder in ("training", "verify", "certificates", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            if path == ROOT / "training" / "clock.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if offsets.search(line):
                    found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []
    assert timedelta(hours=8) == clock.CHINA
