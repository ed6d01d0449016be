"""The second factor: TOTP (RFC 6238), its secret sealed with AES-GCM under the account's id,
enrolment by a provisioning URI (shown as a QR code), and checking a code: one 30-second step
either side, never a code already used.

Required of every account at a regulator, an exam centre and a training body.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import time

import pyotp
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app

from training.accounts.models import Account
from training.accounts.service import record
from training.config import secret_bytes
from training.db import utcnow

TOTP_REQUIRED_KINDS = ("regulator", "exam_centre", "training_body")


ISSUER = "anzheng"


def totp_required(account: Account) -> bool:
    return account.organization.kind in TOTP_REQUIRED_KINDS


def _box() -> AESGCM:
    root = secret_bytes(current_app.config, "SECRET_KEY")
    return AESGCM(hmac.new(root, b"anzheng:totp-secret:v1", hashlib.sha256).digest())


def _seal(secret: str, account_id: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + _box().encrypt(nonce, secret.encode(), account_id.encode())


def _open(blob: bytes, account_id: str) -> str:
    blob = bytes(blob)
    return _box().decrypt(blob[:12], blob[12:], account_id.encode()).decode()


def start_enrolment(account: Account) -> tuple[str, str]:
    """A new secret for the account (replacing an unconfirmed one): (secret, otpauth URI)."""
    secret = pyotp.random_base32()
    account.totp_secret_enc, account.totp_enrolled_at, account.totp_last_step = _seal(secret, account.id), None, 0
    return secret, enrolment_uri(account, secret)


def enrolment_uri(account: Account, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account.login, issuer_name=ISSUER)


def pending_secret(account: Account) -> str | None:
    if account.totp_secret_enc is None or account.totp_enrolled_at is not None:
        return None
    return _open(account.totp_secret_enc, account.id)


def check_code(account: Account, code: str) -> bool:
    """A current code (one 30-second step either side), never one already used."""
    code = "".join((code or "").split())
    if account.totp_secret_enc is None or not re.fullmatch(r"[0-9]{6}", code):
        return False
    totp = pyotp.TOTP(_open(account.totp_secret_enc, account.id))
    step = int(time.time() // totp.interval)
    for candidate in (step, step - 1, step + 1):
        if candidate > account.totp_last_step and hmac.compare_digest(totp.generate_otp(candidate), code):
            account.totp_last_step = candidate
            return True
    return False


def confirm_enrolment(account: Account, code: str) -> bool:
    if account.totp_enrolled_at is not None or not check_code(account, code):
        return False
    account.totp_enrolled_at = utcnow()
    record(account, "account.totp_enrolled", account.id)
    return True
