"""The public verification limit, counted in batches: exact in one process, bounded across
several, and one database write per batch instead of one per verification."""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from training.db import db
from verify.verification.models import RateCounter
from verify.web import ratelimit
from verify.web.ratelimit import Batched


class Clock:
    """Wall time (windows) and monotonic time (when to send), moved by the test."""

    def __init__(self, at: float = 1_800_000_000.0):
        self.at = at

    def __call__(self) -> float:
        return self.at


@pytest.fixture
def clock():
    return Clock()


def counter(clock) -> Batched:
    return Batched(clock=clock, ticker=clock)


def shared_count(bucket: str) -> int:
    with db.engine.connect() as conn:
        return sum(conn.execute(select(RateCounter.count).where(RateCounter.bucket == bucket)).scalars())


def writes(app):
    """A list that collects the INSERT statements sent to the shared counter rows."""
    seen = []

    def listen(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO RATE_COUNTERS"):
            seen.append(statement)
    engine = ratelimit.relaxed()
    event.listen(engine, "before_cursor_execute", listen)
    return seen, lambda: event.remove(engine, "before_cursor_execute", listen)


def test_one_process_admits_exactly_the_limit(app, clock):
    c = counter(clock)
    with app.app_context():
        waits = [c.hit("verify:10.0.0.1", (60, 60)) for _ in range(61)]
    assert waits[:60] == [None] * 60
    # 1_800_000_000 is a minute boundary: the window ends in 60 s.
    assert waits[60] == 60


def test_counts_are_per_client_and_per_window(app, clock):
    c = counter(clock)
    with app.app_context():
        assert [c.hit("verify:a", (2, 60)) for _ in range(3)] == [None, None, 60]
        assert c.hit("verify:b", (2, 60)) is None  # another client is counted apart
        clock.at += 60  # the next window starts from nothing
        assert [c.hit("verify:a", (2, 60)) for _ in range(2)] == [None, None]


def test_a_batch_is_one_write_not_one_per_request(app, clock):
    c = counter(clock)
    with app.app_context():
        seen, stop = writes(app)
        try:
            for _ in range(100):
                assert c.hit("verify:10.0.0.2", (1_000_000, 60)) is None
            assert seen == []  # within the second, with a big limit, nothing is sent yet
            clock.at += 1.5
            c.hit("verify:10.0.0.2", (1_000_000, 60))
            assert len(seen) == 1
        finally:
            stop()
        assert shared_count("verify:10.0.0.2") == 101


def test_a_twentieth_of_the_limit_is_sent_at_once(app, clock):
    c = counter(clock)
    with app.app_context():
        for _ in range(5):
            c.hit("verify:10.0.0.3", (100, 60))
        assert shared_count("verify:10.0.0.3") == 5


def test_processes_share_the_limit_within_the_stated_bound(app, clock):
    """Two processes (two counters on one database) taking turns: together they admit at
    least the limit and at most limit + 2 * ceil(limit / 20)."""
    a, b = counter(clock), counter(clock)
    with app.app_context():
        admitted = 0
        for i in range(200):
            if (a if i % 2 else b).hit("verify:10.0.0.4", (60, 60)) is None:
                admitted += 1
        assert 60 <= admitted <= 60 + 2 * 3, admitted
        a.flush()
        b.flush()
        assert shared_count("verify:10.0.0.4") == 200  # every request counted, refused ones too


def test_counts_not_sent_are_kept_when_the_database_fails(app, clock, monkeypatch):
    c = counter(clock)
    with app.app_context():
        for _ in range(3):
            c.hit("verify:10.0.0.5", (1_000_000, 60))

        def broken():
            raise RuntimeError("database down")
        monkeypatch.setattr(ratelimit, "relaxed", broken)
        with pytest.raises(RuntimeError):
            c.flush()
        monkeypatch.undo()
        c.flush()
        assert shared_count("verify:10.0.0.5") == 3


def test_off_counts_nothing(app, clock):
    c = counter(clock)
    with app.app_context():
        assert c.hit("verify:10.0.0.6", None) is None
        c.flush()
        assert shared_count("verify:10.0.0.6") == 0


def test_pruning_old_windows_spares_the_current_window_of_every_period(app, monkeypatch):
    """A day's count outlives the pruning a minute's or an hour's bucket does (it once compared
    window numbers of different periods and deleted the day's counts: a per-day limit reset)."""
    monkeypatch.setattr(ratelimit.random, "random", lambda: 0.0)  # prune on every write
    day, minute = ratelimit.parse("3/day"), ratelimit.parse("1000/minute")
    assert [ratelimit.hit("t:day", day) for _ in range(3)] == [None] * 3
    for _ in range(5):
        ratelimit.hit("t:minute", minute)
        ratelimit.hit("t:hour", ratelimit.parse("1000/hour"))
    assert shared_count("t:day") == 3
    assert ratelimit.hit("t:day", day) is not None  # the fourth in the day is still refused
