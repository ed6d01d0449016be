"""``training.db.FastRead``: the hot paths' one-statement reads straight through the driver."""
from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Time,
    bindparam,
    literal,
    select,
    text,
)

from training.db import FastRead, db, reader
from training.db.models import Meta

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


def test_converts_values_as_the_orm_would(app, backend):
    """Every column type FastRead reads itself comes back as the ORM would give it, NULLs as None;
    on PostgreSQL through libpq directly, and a type it does not read keeps psycopg's cursor."""
    probe = Table("fast_read_probe", MetaData(), Column("n", Integer), Column("d", Date), Column("at", DateTime),
                  Column("name", String(40)), Column("blob", LargeBinary), Column("ok", Boolean),
                  Column("at_time", Time))
    probe.create(db.engine)
    try:
        with db.engine.begin() as conn:
            conn.execute(probe.insert(), [
                dict(n=3, d=date(2026, 11, 29), at=datetime(2026, 11, 29, 8, 30, 0, 123456), name="李秀英 O'Neil",
                     blob=b"\x00\xffzz", ok=True, at_time=time(7, 45)),
                dict(n=4, d=None, at=None, name=None, blob=None, ok=None, at_time=None)])
        by_n = FastRead(select(probe.c.d, probe.c.at, probe.c.n, probe.c.name, probe.c.blob, probe.c.ok)
                        .where(probe.c.n == bindparam("n")))
        assert tuple(by_n.first(reader(), n=3)) == (date(2026, 11, 29), datetime(2026, 11, 29, 8, 30, 0, 123456), 3,
                                                     "李秀英 O'Neil", b"\x00\xffzz", True)
        assert tuple(by_n.first(reader(), n=4)) == (None, None, 4, None, None, None)
        by_blob = FastRead(select(probe.c.n).where(probe.c.blob == bindparam("b")))  # bytes bound as they are
        assert by_blob.first(reader(), b=b"\x00\xffzz").n == 3
        with_time = FastRead(select(probe.c.at_time).where(probe.c.n == bindparam("n")))
        assert with_time.first(reader(), n=3).at_time == time(7, 45)
        if backend == "postgresql":  # the libpq path is taken, except for the type it does not read
            assert by_n._for(db.engine.dialect)[4] is not None
            assert with_time._for(db.engine.dialect)[4] is None
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
