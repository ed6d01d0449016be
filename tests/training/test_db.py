"""``training.db.FastRead``: the hot paths' one-statement reads straight through the driver."""
from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import Column, Date, DateTime, Integer, MetaData, Table, bindparam, literal, select, text

from training.db import FastRead, db, reader
from training.models import Meta

_META = Meta.__table__.c
_BY_KEY = FastRead(select(_META.key, _META.value).where(_META.key == bindparam("k")))
# Values bound when the statement is built (the literal) ride along with the caller's.
_WITH_LITERAL = FastRead(select(_META.value, literal("fixed").label("tag"))
                         .where(_META.key == bindparam("k"), _META.value != literal(-1)))


def _put(key: str, value: int) -> None:
    db.session.execute(Meta.__table__.insert().values(key=key, value=value))
    db.session.commit()


def test_reads_the_row_or_none(app):
    _put("fast.a", 1)
    row = _BY_KEY.first(reader(), k="fast.a")
    assert (row.key, row.value) == ("fast.a", 1)
    assert _BY_KEY.first(reader(), k="fast.missing") is None
    assert tuple(_WITH_LITERAL.first(reader(), k="fast.a")) == (1, "fixed")


def test_converts_values_as_the_orm_would(app):
    """Dates and times come back as such on both backends (SQLite keeps them as text)."""
    probe = Table("fast_read_probe", MetaData(), Column("d", Date), Column("at", DateTime), Column("n", Integer))
    probe.create(db.engine)
    try:
        with db.engine.begin() as conn:
            conn.execute(probe.insert().values(d=date(2026, 11, 29), at=datetime(2026, 11, 29, 8, 30), n=3))
        row = FastRead(select(probe.c.d, probe.c.at, probe.c.n).where(probe.c.n == bindparam("n"))).first(
            reader(), n=3)
        assert row == (date(2026, 11, 29), datetime(2026, 11, 29, 8, 30), 3)
        assert (row.d, row.n) == (date(2026, 11, 29), 3)
    finally:
        probe.drop(db.engine)


def test_sees_each_commit_at_once(app):
    """Autocommit reads on a reused cursor hold no snapshot between calls."""
    _put("fast.b", 1)
    assert _BY_KEY.first(reader(), k="fast.b").value == 1
    db.session.execute(Meta.__table__.update().where(_META.key == "fast.b").values(value=2))
    db.session.commit()
    assert _BY_KEY.first(reader(), k="fast.b").value == 2


def test_a_broken_connection_is_dropped_not_pooled(app, backend):
    """A driver error discards the pooled connection: the next read gets a sound one."""
    _put("fast.c", 7)
    engine = reader()
    assert _BY_KEY.first(engine, k="fast.c").value == 7
    conn = engine.raw_connection()
    broken = conn.driver_connection
    if backend == "postgresql":
        pid = broken.execute("select pg_backend_pid()").fetchone()[0]
        conn.close()
        with db.engine.connect() as admin:
            admin.execute(text("select pg_terminate_backend(:p)"), {"p": pid})
    else:
        conn.close()
        broken.close()  # what a lost database handle looks like to pysqlite
    failures = 0
    for _ in range(engine.pool.size() + 1):  # whichever pooled connection comes next
        try:
            assert _BY_KEY.first(engine, k="fast.c").value == 7
        except db.engine.dialect.dbapi.Error:
            failures += 1
    assert failures <= 1
    assert _BY_KEY.first(engine, k="fast.c").value == 7
    assert all(c is not broken for c in _pooled(engine))


def _pooled(engine) -> list:
    held = [engine.raw_connection() for _ in range(engine.pool.checkedin())]
    try:
        return [c.driver_connection for c in held]
    finally:
        for c in held:
            c.close()


@pytest.mark.parametrize("bad", [{}, {"k": object()}], ids=["missing", "unadaptable"])
def test_bad_arguments_raise_and_leave_the_pool_sound(app, bad):
    _put("fast.d", 8)
    with pytest.raises(Exception):
        _BY_KEY.first(reader(), **bad)
    assert _BY_KEY.first(reader(), k="fast.d").value == 8
