"""Who may do what: the roles and duties of a person's account, the action each console page
and API endpoint needs, and the one rule that decides, for an account and a person's API key
alike (``check_role`` runs before every /api/v1 view)."""
from __future__ import annotations

from flask import Flask, request

from training.accounts.api_keys import Caller, current_caller
from training.accounts.models import AccountKey
from training.db import db
from training.errors import Forbidden
from training.parties.models import ApiKey

ROLES = ("administrator", "clerk", "officer", "analyst")


DUTIES = ("accounts", "findings", "organisations")


EXCLUSIVE_DUTIES = ("accounts", "findings")  # held by different people (separation of duties)


# What each action needs: the roles that may do it and, at a regulator, the duty it belongs to.
ACTIONS = {
    "view": (ROLES, None),
    "accounts": (("administrator",), "accounts"),
    "records": (("administrator", "clerk"), None),
    "issue": (("administrator", "clerk"), None),
    "revoke": (("administrator",), None),
    "findings": (("administrator", "analyst", "officer"), "findings"),
    "organisations": (("administrator", "analyst"), "organisations"),
    # API only so far: recording an inspection or scans, and answering a finding or a case.
    "inspect": (("administrator", "clerk", "officer"), None),
    "answer": (("administrator", "clerk"), "findings"),
}


def may_act(kind: str, role: str | None, duties: frozenset[str], action: str) -> bool:
    """The one rule, for the console (an account) and the API (a person's key) alike."""
    roles, duty = ACTIONS[action]
    if role not in roles:
        return False
    if kind == "regulator" and duty is not None:
        return duty in duties
    return True


def _key_issue_action(caller: Caller, args: dict) -> str:
    # Keys for one's own organisation are account administration; for another one (a
    # regulator onboarding a body), the organisations duty, as on the console.
    return "accounts" if args.get("org_id") == caller.org_id else "organisations"


def _key_revoke_action(caller: Caller, args: dict) -> str:
    key_id = args.get("key_id")
    key = db.session.get(ApiKey, key_id) if isinstance(key_id, str) and len(key_id) <= 16 else None
    if key is None:
        return "accounts"  # the view answers 404
    link = db.session.get(AccountKey, key.id)
    if link is not None and link.account_id == caller.account_id:
        return "view"  # anyone may give up a key of their own
    return "accounts" if key.organization_id == caller.org_id else "organisations"


# The console action (training.accounts.roles.ACTIONS) each endpoint needs of a person's key: a name,
# a {kind: name} map ("*" for the other kinds), or a function of the caller and the URL's values.
# Reads not named here need "view"; writes not named here are refused to people (fail closed).
API_ACTIONS = {
    "training.create_organization": "organisations",
    "training.list_organizations": "organisations",
    "training.create_accreditation": "organisations",
    "training.patch_accreditation": "organisations",
    "training.create_api_key": _key_issue_action,
    "training.revoke_api_key": _key_revoke_action,
    "training.create_site": {"inspectorate": "inspect", "*": "records"},
    "training.create_worker": "records",
    "training.create_workers": "records",
    "training.create_trainer": "records",
    "training.create_session": "records",
    "training.create_attendance": "records",
    "training.create_attendance_batch": "records",
    "training.create_enrolment": "records",
    "training.create_enrolment_batch": "records",
    "training.void_attendance": "records",
    "training.create_exam": "records",
    "training.create_exams": "records",
    "training.void_exam": "records",
    "training.create_credential": "records",
    "training.void_credential": "records",
    "certificates.issue": "issue",
    "certificates.review": "issue",
    "certificates.revoke": "revoke",
    "certificates.suspend": "revoke",
    "certificates.reinstate": "revoke",
    # Bulk revocation is an enforcement decision like a case's: the findings duty, as on the console.
    "verify.create_revocation": "findings",
    "verify.get_revocation": "findings",
    "verify.verify_api": "view",
    "verify.verify_receipt": "view",
    "verify.create_prestart_check": "view",  # asking whether someone may start is every role's work
    "verify.prestart_crew": "view",
    "verify.read_notice": "view",
    "verify.create_employment": "records",
    "verify.end_employment": "records",
    "verify.confirm_employment": "records",
    "verify.create_inspection": "inspect",
    "inspect.upload_scans": "inspect",
    "verify.list_findings": "findings",
    "verify.get_finding": "findings",
    "verify.findings_ranking": "findings",
    "verify.review_finding": "findings",
    "verify.list_appeals": "findings",
    "verify.decide_appeal": "findings",
    "verify.create_appeal": "answer",
    "verify.create_case": "findings",
    "verify.list_cases": "findings",
    "verify.get_case": "findings",
    "verify.decide_case": "findings",
    "verify.create_statement": {"regulator": "findings", "*": "answer"},
}


READ_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))


def action_for(endpoint: str | None, method: str, caller: Caller, args: dict) -> str | None:
    """The console action this request needs of a person's key; None: no action allows it."""
    rule = API_ACTIONS.get(endpoint or "")
    if rule is None:
        return "view" if method in READ_METHODS else None
    if callable(rule):
        return rule(caller, args)
    if isinstance(rule, dict):
        return rule.get(caller.kind, rule["*"])
    return rule


def check_role() -> None:
    """Before every /api/v1 view: a person's key may do only what the person's role may."""
    if not request.path.startswith("/api/v1/") or "HTTP_AUTHORIZATION" not in request.environ:
        return
    caller = current_caller()
    if caller is None or caller.account_id is None:
        return  # no key (the view decides), or an organisation's own key: its kind decides
    action = action_for(request.endpoint, request.method, caller, request.view_args or {})
    if action is None or not may_act(caller.kind, caller.role, caller.duties, action):
        raise Forbidden(f"The role '{caller.role}' of this key's holder may not do this.")


def init_app(app: Flask) -> None:
    app.before_request(check_role)
