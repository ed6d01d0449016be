"""With DATABASE_REPLICA_URL set, verification reads the registry from the replica: a replica
(a second SQLite file) that holds different data gives a different verdict than the primary."""
from __future__ import annotations

import shutil
import sqlite3

from tests import factories as f, live_server as live
from tests.certificates.test_issuance import issue, ready_worker


def test_verification_reads_the_replica(tmp_path):
    primary, replica = tmp_path / "primary.db", tmp_path / "replica.db"
    app = live.make_app(f"sqlite:///{primary}")
    with app.app_context():
        client = app.test_client()
        w = f.World(client)
        cert = issue(w, ready_worker(w)).get_json()
        from training.db import db
        db.session.remove()
        db.engine.dispose()
    # The replica: the same rows as the primary, except that there the certificate is revoked.
    shutil.copy(primary, replica)
    for suffix in ("-wal", "-shm"):
        if (tmp_path / f"primary.db{suffix}").exists():
            shutil.copy(tmp_path / f"primary.db{suffix}", tmp_path / f"replica.db{suffix}")
    with sqlite3.connect(replica) as conn:
        conn.execute("UPDATE certificates SET status = 'revoked' WHERE serial = ?", (cert["serial"],))

    def verdict(app):
        with app.app_context():
            out = app.test_client().post("/api/v1/verify", json={"qr_text": cert["qr_text"]}).get_json()
            from training.db import db
            db.session.remove()
            return out["result"]

    assert verdict(app) == "valid"  # no replica configured: the primary answers
    with_replica = live.make_app(f"sqlite:///{primary}", DATABASE_REPLICA_URL=f"sqlite:///{replica}")
    assert verdict(with_replica) == "revoked"  # the registry row came from the replica
    with with_replica.app_context():  # writes and everything else still go to the primary
        from certificates.models import Certificate
        from training.db import db
        assert db.session.get(Certificate, cert["serial"]).status == "valid"
        db.session.remove()
