"""China time, said once: every conversion between stored times and the China calendar.

Times are stored as naive UTC (``training.db.utcnow``). Days, months, deadlines and what pages
show are China's: UTC+8, which China has kept all year since 1991 (no summer time), so for every
instant this service stores the offset is the same. It is therefore a fixed offset here, not
``zoneinfo.ZoneInfo("Asia/Shanghai")``: identical results, no tzdata needed on the host, and an
addition instead of a zone lookup on the hot paths (verification, evidence). Must not: hold any
other zone, or read the machine's local time.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

CHINA = timedelta(hours=8)  # naive UTC + CHINA is China wall time
CHINA_SECONDS = 8 * 3600
ZONE = timezone(CHINA, "Asia/Shanghai")  # for aware datetimes (and their isoformat, +08:00)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def today(now: datetime | None = None) -> date:
    """The China calendar day at ``now`` (naive UTC; the present by default)."""
    return ((now or _utcnow()) + CHINA).date()


def day(t: datetime) -> date:
    """The China calendar day of a stored (naive UTC) time."""
    return (t + CHINA).date()


def month(t: datetime) -> str:
    """The China calendar month of a stored time, as YYYY-MM."""
    return (t + CHINA).strftime("%Y-%m")


def day_start(d: date) -> datetime:
    """The stored (naive UTC) instant at which the China day ``d`` begins."""
    return datetime(d.year, d.month, d.day) - CHINA


def day_end(d: date) -> datetime:
    """The stored instant at which the China day ``d`` ends (the next one begins)."""
    return day_start(d) + timedelta(days=1)


def day_end_of(t: datetime) -> datetime:
    """The end of the China day that the stored time ``t`` falls in."""
    return day_end(day(t))


def text(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time (naive UTC datetime, or RFC 3339 text of one) as China time; '' for none,
    and text that is not a time as it is."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        value = parsed.astimezone(timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed
    if not isinstance(value, datetime):
        return str(value)
    return (value + CHINA).strftime(fmt)
