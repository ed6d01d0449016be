"""Personal accounts: roles and duties, passwords, the TOTP second factor, and administration.

A person signs in as themselves and acts with their organisation's rights narrowed by a role:
``administrator`` (accounts and keys, and all of the organisation's work), ``clerk`` (the daily
records: rosters, sessions, attendance, results, issuing), ``officer`` and ``analyst`` (reading;
at enterprises and regulators their own pages). A regulator's accounts also hold duties, and
administration of accounts is kept apart from the review of findings: no one account may hold
both. Passwords are hashed with argon2id; TOTP (RFC 6238) is required of every account at a
regulator, exam centre and training body. Everything an administrator does is audited under
their account.

Must not: store or log a password, a one-time password or a TOTP secret in the clear; decide
what a page shows (the views do), or know about sessions and cookies (``training.accounts.sessions``).
"""
from __future__ import annotations

import hmac
import re
import secrets
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from sqlalchemy import select

from training.accounts.api_keys import Caller
from training.accounts.models import Account, AccountKey, AccountSession
from training.accounts.roles import DUTIES, EXCLUSIVE_DUTIES, ROLES, may_act
from training.db import audit, db, utcnow
from training.errors import Conflict, Forbidden, NotFound, Unprocessable, field_error
from training.parties.models import ApiKey, Organization
from training.parties.service import issue_api_key, revoke_api_key

MIN_PASSWORD = 10
_LOGIN = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read aloud and typed by hand


@lru_cache(maxsize=4)
def _hashing(memory_kib: int, time_cost: int, parallelism: int) -> tuple[PasswordHasher, str]:
    """The argon2id hasher for these costs, and a hash of nothing to check unknown logins against
    (the same work either way)."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    return hasher, hasher.hash(secrets.token_hex(16))


def _hasher() -> tuple[PasswordHasher, str]:
    """As configured (``PASSWORD_HASH``; RFC 9106's second recommendation by default)."""
    cost = current_app.config.get("PASSWORD_HASH") or {"memory_kib": 65536, "time_cost": 3, "parallelism": 4}
    return _hashing(cost["memory_kib"], cost["time_cost"], cost["parallelism"])


def may(account: Account, action: str) -> bool:
    return may_act(account.organization.kind, account.role, account.duty_set, action)


def caller_for(account: Account) -> Caller:
    """The caller services see: the account's id stands where an API key's id would."""
    org = account.organization
    return Caller(account.id, org.id, org.kind, org.name, account.name, account.badge)


def record(account: Account | None, event: str, subject: str | None = None, **detail) -> None:
    """Audit an action under the person who did it."""
    audit.record(event, actor_org=account.organization_id if account else None,
                 actor_key=account.id if account else None, subject=subject,
                 detail={"account_id": account.id if account else None, **detail})


# --- passwords -------------------------------------------------------------------------------

def one_time_password() -> str:
    return "-".join("".join(secrets.choice(_OTP_ALPHABET) for _ in range(4)) for _ in range(4))


def password_problem(password: str, login: str) -> str | None:
    """A code for what is wrong with a new password, or None."""
    if len(password) < MIN_PASSWORD:
        return "password_short"
    if len(password) > 200:
        return "password_long"
    if login and login.lower() in password.lower():
        return "password_has_login"
    if len(set(password)) < 5:
        return "password_simple"
    return None


def hash_password(password: str) -> str:
    return _hasher()[0].hash(password)


def check_password(account: Account | None, password: str) -> bool:
    """Constant work whether or not the account exists; re-makes a hash of other costs when it matches."""
    hasher, dummy = _hasher()
    try:
        hasher.verify(account.password_hash if account else dummy, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if account is None:
        return False
    if hasher.check_needs_rehash(account.password_hash):
        account.password_hash = hasher.hash(password)
    return True


def change_password(account: Account, current: str, new: str) -> None:
    if not check_password(account, current):
        raise Unprocessable("The current password is wrong.", [field_error("current", "wrong_password", "")])
    problem = password_problem(new, account.login)
    if problem:
        raise Unprocessable("The new password is not acceptable.", [field_error("new", problem, "")])
    if hmac.compare_digest(current.encode(), new.encode()):
        raise Unprocessable("The new password is the old one.", [field_error("new", "password_same", "")])
    account.password_hash, account.must_change_password = hash_password(new), 0
    record(account, "account.password_changed", account.id)


# --- TOTP -----------------------------------------------------------------------------------


# --- administration ---------------------------------------------------------------------------

def _check_duties(org: Organization, role: str, duties: set[str]) -> list[dict]:
    errors = []
    if role not in ROLES:
        errors.append(field_error("role", "not_allowed", "Unknown role."))
    if duties - set(DUTIES):
        errors.append(field_error("duties", "not_allowed", "Unknown duty."))
    if duties and org.kind != "regulator":
        errors.append(field_error("duties", "regulator_only", "Only a regulator's accounts hold duties."))
    if set(EXCLUSIVE_DUTIES) <= duties:
        errors.append(field_error("duties", "separation_of_duties",
                                  "Account administration and findings review go to different people."))
    return errors


def create_account(org: Organization, data: dict, by: Account | None) -> tuple[Account, str]:
    """A new account with a one-time password, to be changed at first sign-in: (account, password)."""
    if by is not None and (by.organization_id != org.id or not may(by, "accounts")):
        raise Forbidden("Only an administrator of the organisation creates its accounts.")
    login = (data.get("login") or "").strip().lower()
    name = (data.get("name") or "").strip()
    role, duties = data.get("role", ""), set(data.get("duties") or ())
    errors = _check_duties(org, role, duties)
    if not _LOGIN.fullmatch(login):
        errors.append(field_error("login", "invalid", "3 to 64 lower-case letters, digits, dot, dash or underscore."))
    if not 1 <= len(name) <= 100:
        errors.append(field_error("name", "length", "1 to 100 characters."))
    if errors:
        raise Unprocessable("The account cannot be created as asked.", errors)
    if db.session.scalar(select(Account.id).where(Account.login == login)):
        raise Conflict("This sign-in name is taken.", [field_error("login", "taken", "")])
    password = one_time_password()
    account = Account(organization_id=org.id, login=login, name=name, badge=(data.get("badge") or None),
                      role=role, duties=" ".join(sorted(duties)), password_hash=hash_password(password),
                      must_change_password=1, created_by=by.id if by else None)
    account.organization = org
    db.session.add(account)
    db.session.flush()
    record(by, "account.created", account.id, login=login, role=role, duties=sorted(duties),
           organization_id=org.id)
    return account, password


def own_account(by: Account, account_id: str) -> Account:
    """An account of the administrator's own organisation (404 for anyone else's)."""
    account = db.session.get(Account, account_id) if isinstance(account_id, str) and len(account_id) <= 16 else None
    if account is None or account.organization_id != by.organization_id:
        raise NotFound("No such account.")
    if not may(by, "accounts"):
        raise Forbidden("Only an administrator manages accounts.")
    return account


def end_sessions(account: Account) -> None:
    now = utcnow()
    for row in db.session.scalars(select(AccountSession).where(
            AccountSession.account_id == account.id, AccountSession.revoked_at.is_(None))):
        row.revoked_at = now


def set_disabled(account: Account, disabled: bool, by: Account) -> None:
    if account.id == by.id and disabled:
        raise Conflict("An administrator cannot disable their own account.")
    account.disabled_at = utcnow() if disabled else None
    if disabled:
        end_sessions(account)
        for link in db.session.scalars(select(AccountKey).where(AccountKey.account_id == account.id)):
            revoke_api_key(link.key_id, caller_for(by))
    record(by, "account.disabled" if disabled else "account.enabled", account.id)


def unlock(account: Account, by: Account) -> None:
    account.locked_until = None
    record(by, "account.unlocked", account.id)


def reset_password(account: Account, by: Account) -> str:
    password = one_time_password()
    account.password_hash, account.must_change_password, account.locked_until = hash_password(password), 1, None
    end_sessions(account)
    record(by, "account.password_reset", account.id)
    return password


def reset_totp(account: Account, by: Account) -> None:
    account.totp_secret_enc, account.totp_enrolled_at, account.totp_last_step = None, None, 0
    end_sessions(account)
    record(by, "account.totp_reset", account.id)


def issue_key(account: Account, label: str, expires_at, by: Account) -> tuple[ApiKey, str]:
    """An API key held by the person, named for what it is for; shown once."""
    if not 1 <= len(label.strip()) <= 100:
        raise Unprocessable("The key needs a name.", [field_error("label", "length", "1 to 100 characters.")])
    key, full = issue_api_key(account.organization, {
        "holder": {"name": account.name, "badge": account.badge or account.login}, "expires_at": expires_at},
        caller_for(by))
    db.session.add(AccountKey(key_id=key.id, account_id=account.id, label=label.strip(), issued_by=by.id))
    record(by, "account.key_issued", key.id, holder_account=account.id, label=label.strip())
    return key, full


def revoke_key(key_id: str, by: Account) -> ApiKey:
    link = db.session.get(AccountKey, key_id) if isinstance(key_id, str) and len(key_id) <= 16 else None
    key = db.session.get(ApiKey, key_id) if link else None
    if key is None or key.organization_id != by.organization_id:
        raise NotFound("No such key.")
    revoke_api_key(key_id, caller_for(by))
    record(by, "account.key_revoked", key_id, holder_account=link.account_id)
    return key


def keys_of(account: Account) -> list[tuple[AccountKey, ApiKey]]:
    rows = db.session.execute(select(AccountKey, ApiKey).join(ApiKey, ApiKey.id == AccountKey.key_id)
                              .where(AccountKey.account_id == account.id)
                              .order_by(AccountKey.created_at.desc())).all()
    return [(link, key) for link, key in rows]
