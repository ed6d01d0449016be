"""The regulator's console, continued: the review queue of findings, one finding with its evidence
and parties in plain words, appeals and their answers, and cases (opening one from confirmed
findings, hearing the parties, the decision and the certificates it revokes).

Routes attach to ``console_regulator_views.bp``; every page needs the ``findings`` duty. Findings
are accusations until a person reviews them: every decision here needs a reason, which is kept and
shown, and the services (``findings.review_finding``, ``appeals.decide_appeal``, ``cases.*``) do the
work with the signed-in person as the caller.

Must not: write tables itself; show a full identity number; decide anything on a GET.
"""
from __future__ import annotations

from functools import partial

from flask import current_app, flash, redirect, render_template, request
from sqlalchemy import func, select

from certificates.models import Certificate
from training.accounts.guard import page
from training.console.pages import get_by_id, paged, record_or_404
from training.db import db
from training.errors import ApiError, Conflict
from training.web.i18n import t
from verify.cases import appeals, service as cases
from verify.cases.models import Appeal, Case, CaseFinding, CaseParty, CaseStatement
from verify.console.regulator import bp
from verify.console.regulator.evidence import describe, parties as party_rows
from verify.console.regulator.pages import REG, caller
from verify.console.regulator.words import KINDS, refusal
from verify.findings import service as findings
from verify.findings.models import Finding, FindingParty
from verify.findings.stats import SEVERITY_ORDER
from verify.rules.common import FAKE_EXAMS, FAKE_TRAINING

DECISIONS = ("confirmed", "dismissed")  # a reviewed finding's, and a decided case's
STATUSES = ("open",) + DECISIONS
APPEAL_DECISIONS = ("upheld", "rejected")


def _reason() -> tuple[str, str | None]:
    """The form's reason and, when it will not do, the refusal's code."""
    reason = request.form.get("reason", "").strip()
    if not reason:
        return reason, "reason_required"
    return reason, ("reason_long" if len(reason) > 1000 else None)


def _hearing_days() -> int:
    return current_app.extensions["findings_rules"]["cases"]["hearing_days"]


def _status_asked(default: str, known: tuple[str, ...]) -> tuple[str, str | None]:
    """A queue's ``status`` as asked (the filter shows it back) and as a filter: None, all, unless known."""
    status = request.args.get("status", default)
    return status, (status if status in known else None)


def _parties(found) -> dict[str, list]:
    """Each finding's parties in plain rows, by finding id."""
    return {k: party_rows(v) for k, v in findings.parties_of([f.id for f in found]).items()}


def _shown(finding: Finding) -> dict:
    """What every page about one finding shows of it: the finding, its evidence, parties and explanation."""
    return {"f": finding, "evidence": describe(finding), "party_list": _parties([finding])[finding.id],
            "explain": findings.explanation_parts(finding.explanation)}


def _codes(err: ApiError) -> list[str]:
    return [e.get("code") for e in (err.errors or [])]


def _named_orgs() -> list[tuple[str, str]]:
    """(id, name) of every organisation some finding names: the choices of the queue's filter."""
    rows = db.session.execute(select(FindingParty.party_id, func.min(FindingParty.name))
                              .where(FindingParty.role.notin_(("worker", "trainer")))
                              .group_by(FindingParty.party_id)).all()
    return sorted(rows, key=lambda r: r[1])


# --- the review queue ----------------------------------------------------------------------------

@bp.get("/findings")
@page("findings", kinds=REG)
def finding_list():
    status, wanted = _status_asked("open", STATUSES)
    kind = request.args.get("kind", "") if request.args.get("kind", "") in KINDS else ""
    org = request.args.get("organization", "")[:16]
    stmt = findings.finding_query(kind=kind or None, status=wanted, organization_id=org or None)
    listing = paged(stmt.order_by(SEVERITY_ORDER, Finding.created_at.desc(), Finding.id))
    in_case = set(db.session.scalars(select(CaseFinding.finding_id).where(
        CaseFinding.finding_id.in_([f.id for f in listing.items]))))
    return render_template("console_regulator_findings.html", listing=listing, status=status, kind=kind, org=org,
                           orgs=_named_orgs(), kinds=KINDS, in_case=in_case, parties=_parties(listing.items))


def _finding_page(finding: Finding, status: int = 200):
    shown = _shown(finding)
    lodged = db.session.scalars(select(Appeal).where(Appeal.finding_id == finding.id).order_by(Appeal.created_at)).all()
    held_in = db.session.scalars(select(Case).join(CaseFinding, CaseFinding.case_id == Case.id)
                                 .where(CaseFinding.finding_id == finding.id).order_by(Case.created_at)).all()
    return render_template("console_regulator_finding.html", **shown, appeals=lodged, cases=held_in,
                           open_case=next((c for c in held_in if c.status == "open"), None)), status


@bp.get("/findings/<finding_id>")
@page("findings", kinds=REG)
@record_or_404(partial(get_by_id, Finding), "finding_id")
def finding_detail(finding):
    return _finding_page(finding)


def _decide(back: str, field: str, allowed: tuple, act, conflict_word: str, done_words, refused: str | None = None):
    """The shared shape of a reviewer's decision form: check the choice and the reason, act,
    commit, and say in plain words what changed (``done_words(choice, what act returned)``) or why
    nothing did. A refusal other than a conflict is said as ``refused`` where given, else it goes
    to the console's error page."""
    choice, (reason, problem) = request.form.get(field, ""), _reason()
    if choice not in allowed:
        problem = "choose_status"
    if problem:
        flash(refusal(problem), "bad")
        return redirect(back)
    try:
        outcome = act(choice, reason)
    except Conflict:
        flash(refusal(conflict_word), "warn")
        return redirect(back)
    except ApiError:
        if refused is None:
            raise
        db.session.rollback()
        flash(refusal(refused), "bad")
        return redirect(back)
    db.session.commit()
    flash(done_words(choice, outcome), "ok")
    return redirect(back)


@bp.post("/findings/<finding_id>/review")
@page("findings", kinds=REG)
@record_or_404(partial(get_by_id, Finding), "finding_id")
def review(finding):
    return _decide(
        f"/console/findings/{finding.id}", "status", DECISIONS,
        lambda status, reason: findings.review_finding(finding, status, reason, caller()), "already",
        lambda status, _: t("已认定。公众核验和上岗前核查将据此显示；相关各方可以申诉。",
                            "Confirmed. Public verification and pre-start checks now reflect it; the parties may appeal.")
        if status == "confirmed" else
        t("已排除。它改变过的核验结果已恢复，受影响的用人单位会收到通知。",
          "Dismissed. Every verdict it changed is restored, and employers it affected are told."))


# --- appeals ---------------------------------------------------------------------------------------

@bp.get("/appeals")
@page("findings", kinds=REG)
def appeal_list():
    status, wanted = _status_asked("pending", ("pending",) + APPEAL_DECISIONS)
    listing = paged(appeals.appeal_query(wanted).order_by(Appeal.created_at.desc(), Appeal.id))
    return render_template("console_regulator_appeals.html", listing=listing, status=status,
                           items=[appeals.dump_appeal(a) for a in listing.items])


@bp.get("/appeals/<appeal_id>")
@page("findings", kinds=REG)
@record_or_404(partial(get_by_id, Appeal), "appeal_id")
def appeal_detail(appeal):
    return render_template("console_regulator_appeal.html", appeal=appeal, a=appeals.dump_appeal(appeal),
                           **_shown(db.session.get(Finding, appeal.finding_id)))


@bp.post("/appeals/<appeal_id>/decide")
@page("findings", kinds=REG)
@record_or_404(partial(get_by_id, Appeal), "appeal_id")
def decide_appeal(appeal):
    return _decide(
        f"/console/appeals/{appeal.id}", "decision", APPEAL_DECISIONS,
        lambda decision, reason: appeals.decide_appeal(appeal, decision, reason, caller()), "decided",
        lambda decision, _: t("申诉成立：线索已排除，它改变过的核验结果已恢复。",
                              "Upheld: the finding is dismissed and every verdict it changed is restored.")
        if decision == "upheld" else t("申诉不成立：线索维持原状。", "Rejected: the finding stands."))


# --- cases -----------------------------------------------------------------------------------------

def _ready_findings():
    """Confirmed findings not in an open case: what a new case can be opened from."""
    busy = select(CaseFinding.finding_id).join(Case, Case.id == CaseFinding.case_id).where(Case.status == "open")
    return db.session.scalars(select(Finding).where(Finding.status == "confirmed", Finding.id.notin_(busy))
                              .order_by(SEVERITY_ORDER, Finding.created_at.desc()).limit(50)).all()


@bp.get("/cases")
@page("findings", kinds=REG)
def case_list():
    status, wanted = _status_asked("", STATUSES)
    stmt = select(Case) if wanted is None else select(Case).where(Case.status == wanted)
    listing = paged(stmt.order_by(Case.created_at.desc(), Case.id))
    counts = {c.id: {"parties": len(cases.case_parties(c)), "findings": len(cases.case_findings(c)),
                     "unheard": len(cases.unheard(c)) if c.status == "open" else 0} for c in listing.items}
    ready = _ready_findings()
    return render_template("console_regulator_cases.html", listing=listing, status=status, counts=counts, ready=ready,
                           parties=_parties(ready))


@bp.post("/cases")
@page("findings", kinds=REG)
def open_case():
    ids = [i[:16] for i in request.form.getlist("finding_ids")[:500] if i]
    if not ids:
        flash(refusal("choose_findings"), "bad")
        return redirect(request.form.get("back", "") if request.form.get("back", "").startswith("/console/findings/")
                        else "/console/cases")
    try:
        case = cases.open_case(ids, caller())
    except ApiError as err:
        db.session.rollback()
        flash(refusal("already_in_case" if "already_in_case" in _codes(err) else "not_confirmed"), "bad")
        return redirect("/console/cases")
    db.session.commit()
    flash(t("已立案。请通知各当事方，并在作出决定前记录每一方的陈述。",
            "Case opened. Notify every party and record each one's statement before deciding."), "ok")
    return redirect(f"/console/cases/{case.id}")


def would_revoke(found) -> list[str]:
    """Serials a confirmation would revoke: those resting on evidence of fake training or exams."""
    serials = set()
    for f in found:
        if f.kind in FAKE_TRAINING + FAKE_EXAMS:
            serials |= cases.certificates_resting_on(f)
    return sorted(serials)


@bp.get("/cases/<case_id>")
@page("findings", kinds=REG)
@record_or_404(partial(get_by_id, Case), "case_id")
def case_detail(case):
    found = cases.case_findings(case)
    data = cases.dump_case(case)
    statements = db.session.scalars(select(CaseStatement).where(CaseStatement.case_id == case.id)
                                    .order_by(CaseStatement.created_at)).all()
    revoked = [db.session.get(Certificate, s) for s in data["revoked"]]
    pending = [db.session.get(Certificate, s) for s in would_revoke(found)] if case.status == "open" else []
    return render_template(
        "console_regulator_case.html", case=case, data=data, found=found, statements=statements,
        party_list=party_rows(data["parties"]), unheard=set(data["unheard"]), revoked=revoked,
        pending=[c for c in pending if c is not None and c.status in ("valid", "suspended")],
        finding_parties=_parties(found), explain=findings.explanation_parts, hearing_days=_hearing_days())


@bp.post("/cases/<case_id>/statements")
@page("findings", kinds=REG)
@record_or_404(partial(get_by_id, Case), "case_id")
def add_statement(case):
    back = f"/console/cases/{case.id}#hearing"
    kind, text = request.form.get("kind", "statement"), request.form.get("text", "").strip()
    party = request.form.get("party_id", "")[:16]
    if kind not in ("statement", "declined", "no_response") or not text or len(text) > 10000:
        flash(refusal("statement_required"), "bad")
        return redirect(back)
    try:
        cases.add_statement(case, {"party_id": party, "kind": kind, "text": text}, caller())
    except Conflict:
        flash(refusal("case_decided"), "bad")
        return redirect(back)
    except ApiError as err:
        db.session.rollback()
        heard_early = "hearing_open" in _codes(err)
        flash(refusal("hearing_open", days=_hearing_days()) if heard_early else refusal("not_a_party"), "bad")
        return redirect(back)
    db.session.commit()
    name = db.session.scalar(select(CaseParty.name).where(CaseParty.case_id == case.id, CaseParty.party_id == party)
                             .limit(1))
    flash(t(f"已记录 {name} 的陈述。", f"{name}'s statement recorded."), "ok")
    return redirect(back)


@bp.post("/cases/<case_id>/decide")
@page("findings", kinds=REG)
@record_or_404(partial(get_by_id, Case), "case_id")
def decide_case(case):
    return _decide(
        f"/console/cases/{case.id}", "status", DECISIONS,
        lambda status, reason: cases.decide_case(case, status, reason, caller()), "case_decided",
        lambda status, revoked: t(f"案件已认定，撤销证书 {len(revoked)} 张。",
                                  f"Case confirmed; {len(revoked)} certificates revoked.")
        if status == "confirmed" else t("案件已撤销。", "Case dismissed."), refused="not_heard")
