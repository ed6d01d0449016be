"""The regulator's dashboard: findings over time, by kind and by body, the review queue's head, open cases, and the ranking of bodies by confirmed findings per hundred certificates."""
from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from training.accounts.guard import page
from training.db import db
from training.web.i18n import t
from verify.cases.models import Case
from verify.console.regulator import (  # noqa: E402,F401  (their pages)
    bp,
    findings as console_regulator_findings,
)
from verify.console.regulator.charts import bar_chart, column_chart
from verify.console.regulator.pages import REG, regulator_home
from verify.console.regulator.words import KINDS, say
from verify.findings import service as findings, stats as findings_stats


@bp.get("/dashboard")
@page("findings", kinds=REG)
def dashboard():
    ranking = findings_stats.ranking()
    legend = (t("待核查", "open"), t("已认定", "confirmed"))
    weeks = findings_stats.over_time()
    by_kind = [(say(KINDS, k), o, c) for k, o, c in findings_stats.by_kind()]
    by_body = [(r["organization"]["name"], r["open_findings"], r["confirmed_findings"])
               for r in ranking if r["open_findings"] or r["confirmed_findings"]][:10]
    queue = findings_stats.queue(6)
    open_cases = db.session.scalars(select(Case).where(Case.status == "open").order_by(Case.created_at.desc())
                                    .limit(10)).all()
    return render_template(
        "console_regulator_dashboard.html", totals=findings_stats.totals(), ranking=ranking[:20], weeks=weeks,
        by_kind=by_kind, by_body=by_body, queue=queue, parties=findings.parties_of([f.id for f in queue]),
        open_cases=open_cases, home=regulator_home(),
        time_chart=column_chart(weeks, t("近12周每周新增问题线索", "Findings raised per week, last 12 weeks"), legend),
        kind_chart=bar_chart(by_kind, t("按线索类型", "Findings by kind"), legend),
        body_chart=bar_chart(by_body, t("按机构", "Findings by body"), legend))
