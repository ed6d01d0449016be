"""Production refuses weak settings, the key-encryption key is current and salted per
installation, old keys still open, and the SQLite file is the service's alone.

Unit tests: no database, except the one that stores an old-scheme key and reads it back.
"""
from __future__ import annotations

import os
import secrets
import stat

import pytest

STRONG = {"ANZHENG_ID_HASH_KEY": secrets.token_hex(32), "ANZHENG_ID_ENC_KEY": secrets.token_hex(32),
          "ANZHENG_KEY_PASSPHRASE": secrets.token_urlsafe(32), "SECRET_KEY": secrets.token_urlsafe(32),
          "PUBLIC_BASE_URL": "https://verify.example.test", "ANZHENG_ENV": "production",
          "DATABASE_URL": "postgresql://db.example.test/anzheng"}


def load(**changes):
    from training import config
    return config.load({**STRONG, **changes})


def test_hardening_config_production_takes_strong_settings_and_makes_cookies_secure():
    cfg = load()
    assert cfg["ANZHENG_ENV"] == "production" and cfg["SESSION_COOKIE_SECURE"] is True
    assert cfg["PASSWORD_HASH"] == {"memory_kib": 65536, "time_cost": 3, "parallelism": 4}  # RFC 9106's second


def test_hardening_config_a_password_hash_of_other_costs_is_made_again_at_sign_in(app):
    """The cost is configuration: a hash stored under other figures still checks, and is re-made
    under the configured ones when it does."""
    from argon2 import PasswordHasher

    from training.accounts import service as accounts
    from training.accounts.models import Account
    old = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1).hash("a long enough secret")
    acc = Account(password_hash=old)
    with app.test_request_context():
        assert accounts.check_password(acc, "a long enough secret")
        cost = app.config["PASSWORD_HASH"]
        assert acc.password_hash != old and f"m={cost['memory_kib']},t={cost['time_cost']}" in acc.password_hash
        assert not accounts.check_password(acc, "another secret")


@pytest.mark.parametrize("name, value, words", [
    ("SECRET_KEY", "x", "at least 32"),
    ("SECRET_KEY", "abcabcabcabcabcabcabcabcabcabcabcabc", "distinct"),
    ("ANZHENG_KEY_PASSPHRASE", "p", "at least 32"),
    ("ANZHENG_KEY_PASSPHRASE", "1" * 64, "distinct"),
    ("ANZHENG_ID_HASH_KEY", secrets.token_hex(31), "64 hex digits"),
    ("ANZHENG_ID_ENC_KEY", "zz" * 32, "64 hex digits"),
    ("ANZHENG_ID_ENC_KEY", "11" * 32, "not random enough"),
    ("PUBLIC_BASE_URL", "http://verify.example.test", "https"),
    ("PASSWORD_HASH_MEMORY_KIB", "8", "19456"),
    ("PASSWORD_HASH_TIME_COST", "1", "at least 2"),
])
def test_hardening_config_production_refuses_weak_settings(name, value, words):
    from training.config import ConfigError
    with pytest.raises(ConfigError) as err:
        load(**{name: value})
    assert words in str(err.value) and name in str(err.value)
    if not name.startswith(("PUBLIC_BASE_URL", "PASSWORD_HASH")) and len(value) > 4:
        assert value not in str(err.value)  # the message names the setting, never its value


def test_hardening_config_production_refuses_one_secret_used_twice():
    from training.config import ConfigError
    with pytest.raises(ConfigError, match="different"):
        load(SECRET_KEY=STRONG["ANZHENG_KEY_PASSPHRASE"])


def test_hardening_config_the_app_does_not_start_on_weak_production_settings():
    from training.config import ConfigError
    from wsgi import create_app
    with pytest.raises(ConfigError):
        create_app({**STRONG, "SECRET_KEY": "dev"})


def test_hardening_config_development_needs_no_settings():
    from training import config
    cfg = config.load({"ANZHENG_ENV": "development", "SECRET_KEY": "dev", "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
                       **{n: "dev-" + n for n in config.SECRET_NAMES if n != "SECRET_KEY"}})
    assert cfg["ANZHENG_ENV"] == "development" and not cfg.get("SESSION_COOKIE_SECURE")


# --- the key-encryption key ------------------------------------------------------------------

def _v1_blob(passphrase: str, raw: bytes, kid: bytes) -> bytes:
    """A private key sealed as the first scheme did: scrypt n=2^14 over a fixed salt."""
    import hashlib

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    kek = hashlib.scrypt(passphrase.encode(), salt=b"anzheng:key-encryption:v1", n=2 ** 14, r=8, p=1, dklen=32)
    nonce = os.urandom(12)
    return nonce + AESGCM(kek).encrypt(nonce, raw, kid)


def test_hardening_config_keys_are_sealed_with_argon2id_and_a_random_salt():
    from cryptography.exceptions import InvalidTag

    from certificates.signing import _ARGON2, V2, Signer
    assert _ARGON2["memory_cost"] >= 19 * 1024 and _ARGON2["type"].name == "ID"  # OWASP's floor
    one, later = Signer("the same passphrase"), Signer("the same passphrase")  # later: another process
    a = one.generate("o", "certificates")
    blob = bytes(a.private_enc)
    assert blob.startswith(V2) and blob[4:20] == one._salt and later._salt != one._salt  # no salt shared
    assert later.sign(a, b"m")  # the salt travels in the ciphertext
    with pytest.raises(InvalidTag):
        Signer("another passphrase").sign(a, b"m")


def test_hardening_config_old_fixed_salt_keys_still_open_and_are_sealed_again(app):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

    from certificates import token as tok
    from certificates.models import SigningKey
    from certificates.signing import V2, Signer
    from tests.factories import regulator
    from training.db import db
    reg = regulator(app.test_client())
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid = tok.kid_for(public)
    raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    passphrase = app.config["ANZHENG_KEY_PASSPHRASE"]
    db.session.add(SigningKey(kid=kid, organization_id=reg.id, purpose="certificates", public_key=public,
                              private_enc=_v1_blob(passphrase, raw, kid), status="active"))
    db.session.commit()
    key = db.session.get(SigningKey, kid)
    signature = Signer(passphrase).sign(key, b"message")
    private.public_key().verify(signature, b"message")
    db.session.commit()  # the key, sealed again, is saved with the work that used it
    db.session.expire_all()
    key = db.session.get(SigningKey, kid)
    assert bytes(key.private_enc).startswith(V2)
    private.public_key().verify(Signer(passphrase).sign(key, b"again"), b"again")


# --- files ------------------------------------------------------------------------------------

def test_hardening_config_the_sqlite_file_is_created_0600(tmp_path):
    from sqlalchemy import create_engine, text

    from training.db import configure_sqlite
    path = tmp_path / "fresh.db"
    engine = create_engine(f"sqlite:///{path}")
    configure_sqlite(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    for name in (path, path.with_name("fresh.db-wal")):
        if name.exists():
            assert stat.S_IMODE(name.stat().st_mode) == 0o600, name
    engine.dispose()
    loose = tmp_path / "old.db"
    loose.touch(mode=0o644)
    os.chmod(loose, 0o644)
    configure_sqlite(create_engine(f"sqlite:///{loose}"))
    assert stat.S_IMODE(loose.stat().st_mode) == 0o600
