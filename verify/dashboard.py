"""The regulator's pages: a dashboard (totals, charts drawn here as inline SVG, the ranking, the
review queue) and a page per case, behind a minimal sign-in.

Sign-in is deliberately small and kept to this module until the account system replaces it: the
regulator's API key is posted once in a form and kept in an ``az_key`` cookie (HttpOnly,
SameSite=Strict, path /regulator), never in a URL. Every form carries a CSRF token: an HMAC of a
random cookie, under a key derived from SECRET_KEY. Must not: accept a key from the query string,
show an identity number unmasked, or change anything on a GET.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import wraps
from html import escape

from flask import current_app, redirect, render_template, request
from markupsafe import Markup
from sqlalchemy import select

from training.auth import current_caller, lookup, require
from training.config import secret_bytes
from training.db import db
from training.errors import Forbidden, Unauthorized
from training.http import write
from training.i18n import t
from training.openapi import doc

from . import cases, findings, findings_stats, ratelimit
from .models import Case, Finding
from .views import bp

KEY_COOKIE, CSRF_COOKIE, PATH = "az_key", "az_csrf", "/regulator"
KIND_WORDS = {
    "training_overlap": ("学时重叠", "Overlapping attendance"), "trainer_double_booked": ("教师分身", "Trainer double-booked"),
    "session_over_capacity": ("课堂超员", "Class over capacity"), "too_many_hours_in_a_day": ("单日学时过多", "Too many hours a day"),
    "late_record": ("事后补录", "Late record"), "training_while_on_site": ("上课时在现场", "Seen at work during class"),
    "issuance_spike": ("发证量猛增", "Issuance spike"), "home_region_far": ("远道学员扎堆", "Far-from-home trainees"),
    "exam_before_training": ("先考后培", "Exam before training"), "exam_too_fast": ("考试过快", "Exam too fast"),
    "identical_answers": ("答卷雷同", "Identical answers"), "retake_beyond_limit": ("超次补考", "Retakes beyond limit"),
    "score_anomaly": ("成绩异常", "Score anomaly"), "forged_certificate": ("伪造证书", "Forged certificate"),
    "unregistered_certificate": ("未登记证书", "Unregistered certificate"), "certificate_clone": ("克隆证书", "Cloned certificate"),
    "holder_mismatch": ("人证不符", "Holder mismatch"), "no_certificate_on_duty": ("无证上岗", "No certificate on duty"),
    "unqualified_on_duty": ("不符合岗位要求上岗", "Unqualified on duty"),
    "certificate_without_evidence": ("证书无培训考试依据", "Certificate without evidence"),
}


def kind_words(kind: str) -> tuple[str, str]:
    return KIND_WORDS.get(kind, (kind, kind))


def t_pair(pair) -> str:
    return t(*pair)


# --- sign-in: the key in an HttpOnly cookie, CSRF on every form ------------------------------------

def _csrf_key() -> bytes:
    return hmac.new(secret_bytes(current_app.config, "SECRET_KEY"), b"anzheng:regulator-csrf:v1", hashlib.sha256).digest()


def _nonce() -> str:
    found = request.cookies.get(CSRF_COOKIE)
    if not found or len(found) > 64:
        found = request.environ.setdefault("anzheng.csrf_new", secrets.token_urlsafe(24))
    return found


def csrf_token() -> str:
    return hmac.new(_csrf_key(), _nonce().encode(), hashlib.sha256).hexdigest()


def _csrf_ok() -> bool:
    nonce, offered = request.cookies.get(CSRF_COOKIE), request.form.get("csrf_token", "")
    return bool(nonce) and hmac.compare_digest(hmac.new(_csrf_key(), nonce.encode(), hashlib.sha256).hexdigest(), offered)


def _page(template: str, status: int = 200, **context):
    resp = current_app.make_response((render_template(template, csrf_token=csrf_token(), kind_words=kind_words,
                                                      **context), status))
    if "anzheng.csrf_new" in request.environ:
        resp.set_cookie(CSRF_COOKIE, request.environ["anzheng.csrf_new"], httponly=True, samesite="Strict",
                        secure=_secure(), path=PATH)
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _secure() -> bool:
    return request.is_secure or current_app.config["PUBLIC_BASE_URL"].startswith("https://")


def cookie_key(view):
    """Pages read the key from the sign-in cookie (or an Authorization header); no key → sign-in."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        env = request.environ
        if "anzheng.caller" not in env and not request.headers.get("Authorization"):
            key = request.cookies.get(KEY_COOKIE)
            env["anzheng.caller"] = lookup(f"Bearer {key}") if key else None
            env["anzheng.auth_failed"] = False
        try:
            return view(*args, **kwargs)
        except (Unauthorized, Forbidden) as err:
            if not _browser():
                raise  # API clients get problem+json like everywhere else
            if isinstance(err, Unauthorized):
                return redirect(f"{PATH}/sign-in")
            return _page("regulator_sign_in.html", 403, error="not_regulator")
    return wrapper


def _browser() -> bool:
    """A browser names text/html in Accept; API clients (and the contract tests) do not."""
    return "text/html" in request.headers.get("Accept", "")


@bp.get(f"{PATH}/sign-in")
@doc("Regulator sign-in form (the key is posted, never put in a URL)", public=True, content_type="text/html",
     tags=["pages"], errors=())
def regulator_sign_in():
    return _page("regulator_sign_in.html", error=None)


@bp.post(f"{PATH}/sign-in")
@doc("Regulator sign-in: sets the HttpOnly key cookie", public=True, content_type="text/html", tags=["pages"],
     errors=("400", "429"))
def regulator_sign_in_post():
    if not _csrf_ok():
        return _page("regulator_sign_in.html", 400, error="csrf")
    key = (request.form.get("api_key") or "").strip()
    caller = lookup(f"Bearer {key}") if key else None
    if caller is None or caller.kind != "regulator":
        limit = ratelimit.parse(current_app.config.get("RATE_LIMIT_AUTH_FAILURES"))
        wait = ratelimit.hit(f"signin:{request.remote_addr}", limit)
        return _page("regulator_sign_in.html", 429 if wait else 401, error="too_many" if wait else "bad_key")
    resp = redirect(f"{PATH}/dashboard", code=303)
    resp.set_cookie(KEY_COOKIE, key, max_age=8 * 3600, httponly=True, samesite="Strict", secure=_secure(), path=PATH)
    return resp


@bp.post(f"{PATH}/sign-out")
@doc("Regulator sign-out: clears the key cookie", public=True, content_type="text/html", tags=["pages"], errors=("400",))
def regulator_sign_out():
    if not _csrf_ok():
        return _page("regulator_sign_in.html", 400, error="csrf")
    resp = redirect(f"{PATH}/sign-in", code=303)
    resp.delete_cookie(KEY_COOKIE, path=PATH, samesite="Strict", httponly=True, secure=_secure())
    return resp


# --- charts: inline SVG drawn from the figures, no script --------------------------------------------

def bar_chart(rows, label: str, legend=("", "")) -> Markup:
    """Horizontal bars: rows of (label, first value, second value), the second drawn darker."""
    width, left, bar_h, gap = 640, 190, 18, 8
    top = max((a + b for _, a, b in rows), default=0) or 1
    height = max(len(rows), 1) * (bar_h + gap) + 30
    parts = [f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>']
    for i, (name, a, b) in enumerate(rows):
        y = i * (bar_h + gap) + 4
        wa, wb = (width - left - 60) * a / top, (width - left - 60) * b / top
        parts.append(f'<text x="{left - 8}" y="{y + 13}" text-anchor="end" font-size="13">{escape(str(name))}</text>'
                     f'<rect x="{left}" y="{y}" width="{wb:.1f}" height="{bar_h}" fill="#b3261e"/>'
                     f'<rect x="{left + wb:.1f}" y="{y}" width="{wa:.1f}" height="{bar_h}" fill="#e0a458"/>'
                     f'<text x="{left + wa + wb + 6:.1f}" y="{y + 13}" font-size="12">{a + b}</text>')
    if not rows:
        parts.append(f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="13" fill="#5b6475">—</text>')
    parts.append(_legend(height - 14, legend) + "</svg>")
    return Markup("".join(parts))


def column_chart(rows, label: str, legend=("", "")) -> Markup:
    """Columns over time: rows of (label, total, confirmed part)."""
    width, height, base, left = 640, 220, 180, 30
    top = max((a for _, a, _ in rows), default=0) or 1
    step = (width - left - 10) / max(len(rows), 1)
    parts = [f'<svg class="chart" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
             f'width="100%" xmlns="http://www.w3.org/2000/svg"><title>{escape(label)}</title>'
             f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#9aa3b2"/>']
    for i, (name, total, confirmed) in enumerate(rows):
        x, h, hc = left + i * step + 4, 150 * total / top, 150 * confirmed / top
        parts.append(f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{step - 8:.1f}" height="{h:.1f}" fill="#e0a458"/>'
                     f'<rect x="{x:.1f}" y="{base - hc:.1f}" width="{step - 8:.1f}" height="{hc:.1f}" fill="#b3261e"/>'
                     f'<text x="{x + (step - 8) / 2:.1f}" y="{base - h - 4:.1f}" text-anchor="middle" font-size="11">'
                     f'{total or ""}</text><text x="{x + (step - 8) / 2:.1f}" y="{base + 14}" text-anchor="middle" '
                     f'font-size="10">{escape(name)}</text>')
    parts.append(_legend(height - 8, legend) + "</svg>")
    return Markup("".join(parts))


def _legend(y, legend) -> str:
    return (f'<rect x="190" y="{y - 9}" width="10" height="10" fill="#b3261e"/><text x="204" y="{y}" font-size="11">'
            f'{escape(legend[1])}</text><rect x="330" y="{y - 9}" width="10" height="10" fill="#e0a458"/>'
            f'<text x="344" y="{y}" font-size="11">{escape(legend[0])}</text>')


# --- pages --------------------------------------------------------------------------------------------

@bp.get(f"{PATH}/dashboard")
@doc("Regulator's dashboard: totals, charts, ranking, review queue", content_type="text/html", tags=["pages"], errors=())
@cookie_key
@require("regulator")
def regulator_dashboard():
    ranking = findings_stats.ranking()
    by_kind = [(t_pair(kind_words(k)), o, c) for k, o, c in findings_stats.by_kind()]
    by_body = [(r["organization"]["name"][:14], r["open_findings"], r["confirmed_findings"])
               for r in ranking if r["open_findings"] or r["confirmed_findings"]][:10]
    legend = (t_pair(("待审核", "open")), t_pair(("已确认", "confirmed")))
    queue = findings_stats.queue()
    parties = findings.parties_of([f.id for f in queue])
    open_cases = db.session.scalars(select(Case).where(Case.status == "open").order_by(Case.created_at.desc()).limit(20)).all()
    return _page("regulator_dashboard.html", totals=findings_stats.totals(), ranking=ranking[:20], queue=queue,
                 parties=parties, open_cases=open_cases, explain=findings.explanation_parts,
                 time_chart=column_chart(findings_stats.over_time(), t_pair(("每周新增疑点", "Findings per week")), legend),
                 kind_chart=bar_chart(by_kind, t_pair(("按类型", "By kind")), legend),
                 body_chart=bar_chart(by_body, t_pair(("按机构", "By body")), legend), caller=current_caller())


@bp.post(f"{PATH}/findings/<finding_id>/review")
@doc("Confirm or dismiss a finding from the review queue (form, CSRF-protected)", content_type="text/html",
     tags=["pages"], errors=("400", "404", "409"))
@cookie_key
@require("regulator")
@write
def regulator_review(finding_id):
    status, reason = request.form.get("status"), (request.form.get("reason") or "").strip()
    if not _csrf_ok() or status not in ("confirmed", "dismissed") or not reason or len(reason) > 1000:
        return redirect(f"{PATH}/dashboard?error=review", code=303)
    finding = db.session.get(Finding, finding_id) if len(finding_id) <= 16 else None
    if finding is None:
        return redirect(f"{PATH}/dashboard?error=missing", code=303)
    if finding.status != status:
        findings.review_finding(finding, status, reason, current_caller())
    return redirect(f"{PATH}/dashboard#queue", code=303)


@bp.get(f"{PATH}/cases/<case_id>")
@doc("One case: parties, findings with their explanations, statements, decision", content_type="text/html",
     tags=["pages"], errors=("404",))
@cookie_key
@require("regulator")
def regulator_case(case_id):
    case = cases.get_case(case_id)
    found = cases.case_findings(case)
    return _page("regulator_case.html", case=case, data=cases.dump_case(case), findings=found,
                 parties=findings.parties_of([f.id for f in found]), explain=findings.explanation_parts,
                 caller=current_caller())
