"""Hostile input that stays within the size caps: deeply nested JSON, names too long for a
certificate's QR code, spreadsheets that claim to be huge, and pages that could be framed or made
to run a holder's name as script. Each test performs the attack and shows it refused."""
from __future__ import annotations

import functools
import json

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from certificates import qr, token as tok
from tests import factories as f
from tests.certificates.test_issuance import issue, ready_worker
from training.db import db
from training.people.models import Worker

NESTED = b"[" * 16384  # 16 KB: under the verification body cap, deeper than any parser goes
# 100 characters of CJK Extension B (U+20000..U+2A6DF): 4 bytes each in UTF-8.
EXT_B_NAME = "".join(chr(0x20000 + i * 97) for i in range(100))


# --- 11: deeply nested JSON ------------------------------------------------------------------

@pytest.mark.parametrize("path,who", [("/api/v1/verify", None), ("/api/v1/appeals", None),
                                      ("/api/v1/verify", "body"), ("/api/v1/workers", "body"),
                                      ("/api/v1/certificates", "body"), ("/api/v1/sessions", "body"),
                                      ("/api/v1/organizations", "reg")])
def test_nested_json_is_400_problem_on_json_endpoints(client, path, who):
    w = f.World(client)
    headers = {"Content-Type": "application/json"}
    if who:
        headers["Authorization"] = f"Bearer {getattr(w, who).key}"
    r = client.post(path, data=NESTED, headers=headers)
    assert r.status_code == 400, (path, who, r.status_code)
    assert r.mimetype == "application/problem+json" and "nested too deeply" in r.get_json()["detail"]


def test_nested_json_through_the_fast_path_is_400_and_counted(app):
    """Sent to the application as served (verify.verification.fastpath in front of Flask): 400, and each one
    counts against the client's public verification limit, so a client sending them is limited."""
    app.extensions["verify_limit"] = (3, 60)
    try:
        statuses = []
        for _ in range(5):
            env = EnvironBuilder(path="/api/v1/verify", method="POST", data=NESTED, content_type="application/json",
                                 environ_base={"REMOTE_ADDR": "10.9.8.7"}).get_environ()
            app_iter, status, _ = run_wsgi_app(app.wsgi_app, env)
            b"".join(app_iter)
            statuses.append(int(status.split()[0]))
        assert statuses == [400, 400, 400, 429, 429], statuses
    finally:
        app.extensions["verify_limit"] = None


# --- 12: names too long for the token ---------------------------------------------------------

def test_name_budget_keeps_every_card_at_qr_version_10():
    for base in ("http://127.0.0.1:5000", "https://verify.example.test", "https://anzheng.example.gov.cn"):
        budget = tok.name_budget(base)
        assert budget >= 18, base  # six Chinese characters at the least, for these origins
        # The longest name at the budget, in 4-byte characters where it can, with every other claim large.
        name = "\U00020000" * (budget // 4) + "a" * (budget % 4)
        claims = tok.CertificateClaims(serial=bytes([255] * 10), issuer_id="f" * 16, category_code=23,
                                       holder_name=name, holder_id_masked="410881********123X",
                                       issued_at=2**32 - 1, expires_at=2**32 - 1, review_due_at=2**32 - 1)
        token = tok.assemble(tok.protected_header(b"\xff" * 8), tok.encode_payload(claims), b"\xff" * 64)
        assert qr.qr_version(tok.qr_text(token, base)) <= tok.MAX_QR_VERSION


def test_register_worker_name_too_long_for_token_422(client, app):
    w = f.World(client)
    budget = tok.name_budget(app.config["PUBLIC_BASE_URL"])
    for name in (EXT_B_NAME, "\U00020000" * (budget // 4 + 1), "张" * (budget // 3 + 1)):
        r = w.body.post("/api/v1/workers", {"name": name, "id_number": f.id_number()})
        assert r.status_code == 422, r.get_json()
        errors = r.get_json()["errors"]
        assert errors[0]["field"] == "name" and errors[0]["code"] == "name_too_long_for_certificate"
    r = w.body.post("/api/v1/workers/batch", {"items": [{"name": EXT_B_NAME, "id_number": f.id_number()}]})
    assert r.get_json()["items"][0]["status"] == 422
    assert db.session.query(Worker).count() == 0
    fits = "\U00020000" * (budget // 4)  # at the budget: registered, and certified below
    assert w.body.post("/api/v1/workers", {"name": fits, "id_number": f.id_number()}).status_code == 201


def test_issue_for_a_name_registered_too_long_is_422_not_500(client, app):
    """A name stored before the bound (or under a shorter PUBLIC_BASE_URL) is refused at issuance,
    by the API and by batch issuance alike; once corrected, the worker is certified."""
    from certificates.issuance.batch import issue_group
    from training.accounts.api_keys import Caller
    w, number = f.World(client), f.id_number()
    wk = f.worker(w.body, number=number)
    f.train(w.body, w.trainer["id"], [wk["id"]], category="welding", hours=108, start_days_ago=40)
    f.exam(w.centre, wk["id"], f.days_ago(5), category="welding")
    db.session.get(Worker, wk["id"]).name = EXT_B_NAME
    db.session.commit()
    r = issue(w, wk)
    assert r.status_code == 422, r.get_json()
    assert r.get_json()["errors"][0] == {"field": "name", "code": "name_too_long_for_certificate",
                                         "message": r.get_json()["errors"][0]["message"]}
    caller = Caller("test", w.body.id, "training_body", "市安全培训学校", None, None)
    [(_, outcome, detail)] = issue_group([{"id_number": number, "category": "welding"}], caller)
    assert (outcome, detail) == ("refused", "name_too_long_for_certificate")
    db.session.get(Worker, wk["id"]).name = "\U00020000" * (tok.name_budget(app.config["PUBLIC_BASE_URL"]) // 4)
    db.session.commit()
    r = issue(w, wk)
    assert r.status_code == 201 and r.get_json()["qr_version"] <= tok.MAX_QR_VERSION


# --- 15: page headers --------------------------------------------------------------------------

def _assert_protected(r):
    csp = r.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp, (r.request.path, csp)
    assert r.headers.get("X-Frame-Options") == "DENY"
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.headers.get("Referrer-Policy") == "no-referrer"


def test_pages_and_answers_send_csp_and_frame_protection(client, app):
    w = f.World(client)
    cert = issue(w, ready_worker(w)).get_json()
    page = "/" + cert["qr_text"].split("/", 3)[3]
    for path in (page, "/V/not-a-token", "/inspect", "/worker", "/console/sign-in", "/healthz"):
        _assert_protected(client.get(path))
    _assert_protected(client.post("/api/v1/verify", json={"qr_text": "x"}, environ_base={"REMOTE_ADDR": "10.1.1.1"}))
    # the fast path's own answer, in front of Flask
    env = EnvironBuilder(path="/api/v1/verify", method="POST", data=json.dumps({"qr_text": cert["qr_text"]}),
                         content_type="application/json").get_environ()
    app_iter, status, headers = run_wsgi_app(app.wsgi_app, env)
    b"".join(app_iter)
    assert status.startswith("200") and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer" and "frame-ancestors 'none'" in headers["Content-Security-Policy"]


# The holder's name and the issuer's name as markup; the issuer's reaches the scanner unmasked
# (from the signed trust list), the holder's masked, as the public sees it.
HOSTILE_NAME = "<img src=x onerror=p()>"  # 23 bytes: within the name budget
HOSTILE_ORG = "<img src=x onerror=\"window.__xss=1\">培训学校"


def test_scanner_shows_hostile_names_as_text_and_its_policy_blocks_inline_script(app, client, backend):
    from tests.browser import PHONE, chromium, live_server, wait_for
    from tests.verify.test_inspect_e2e import _sign_in_and_choose_site, _verify_pasted
    from training.parties.models import Organization
    if backend != "sqlite":
        pytest.skip("the browser runs once, on SQLite; the headers it relies on are tested on both")
    from tests.browser import require_browser
    require_browser()
    w = f.World(client)
    wk = f.worker(w.body, name=HOSTILE_NAME)
    f.train(w.body, w.trainer["id"], [wk["id"]], category="welding", hours=108, start_days_ago=40)
    f.exam(w.centre, wk["id"], f.days_ago(5), category="welding")
    db.session.get(Organization, w.body.id).name = HOSTILE_ORG
    db.session.commit()
    cert = issue(w, wk).get_json()
    insp = f.org(w.reg, "inspectorate")
    officer = f.Api(client, w.reg.post(f"/api/v1/organizations/{insp.id}/api-keys", {}).get_json()["api_key"], insp.org)
    site = officer.post("/api/v1/sites", {"name": "<b>三号井</b>", "latitude": 34.7, "longitude": 113.6}).get_json()
    db.session.commit()  # end the test thread's read so the server thread can write (SQLite locks)
    with live_server(app) as base, chromium() as browser:
        page = browser.new_context(**PHONE).new_page()
        page.goto(f"{base}/inspect")
        page.wait_for_selector("body[data-ready='1']")
        wait_for(page, "document.querySelector('[data-testid=lists-age]').textContent.includes('名单更新于')")
        _sign_in_and_choose_site(page, {"officer": officer, "site": site})
        _verify_pasted(page, cert["qr_text"], "valid")
        assert HOSTILE_ORG in page.text_content("#view")  # shown, as text
        page.click("[data-testid=holder-match]")
        page.select_option("#task", "welder")
        page.click("#add-check-btn")
        for view in ("queue", "record", "home"):
            page.evaluate(f"document.querySelector('.tabs button[data-view={view}]').click()")
            page.wait_for_timeout(300)
            assert page.locator("#view img, #status img, #view b b").count() == 0, view
            if view == "queue":
                assert page.locator("[data-testid=scan-row]").count() == 1
        assert page.evaluate("window.__xss") is None
        # And were markup ever to slip through, the page's policy refuses inline handlers.
        page.evaluate("""document.getElementById('view').insertAdjacentHTML('beforeend',
                         '<img src="data:," onerror="window.__inline=1"><img src=x onerror="window.__inline=1">')""")
        page.wait_for_timeout(500)
        assert page.evaluate("window.__inline") is None


# --- 8: spreadsheet bombs ----------------------------------------------------------------------

@functools.cache
def _xlsx(rows, dimension: str | None = None, pad: int = 0, extra_rows: str = "") -> bytes:
    """A real workbook (openpyxl), then its sheet's XML edited: ``dimension`` claimed, ``pad``
    bytes of comment added (they pack to almost nothing), raw ``extra_rows`` appended."""
    import io
    import re
    import zipfile

    from openpyxl import Workbook
    book = Workbook()
    for row in rows:
        book.active.append(row)
    plain = io.BytesIO()
    book.save(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(plain.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode()
                if dimension:
                    xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>', xml)
                if extra_rows:
                    xml = xml.replace("</sheetData>", extra_rows + "</sheetData>")
                if pad:
                    xml = xml.replace("<sheetData>", "<!--" + " " * pad + "--><sheetData>")
                data = xml.encode()
            dst.writestr(info.filename, data)
    return out.getvalue()


def _peak(fn):
    """(result or the SheetError raised, peak bytes traced) of calling ``fn``."""
    import tracemalloc

    from training.sheets import SheetError
    tracemalloc.start()
    try:
        try:
            result = fn()
        except SheetError as err:
            result = err
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


ROWS = (("身份证号", "姓名"), ("110101199003074514", "张伟"), ("110101199003078515", "王芳"))
BIG = 17 * 1024 * 1024  # sheet XML just over the console's cap, in a few tens of KB


def test_xlsx_claiming_a_whole_sheet_is_read_as_what_it_holds():
    """<dimension ref="A1:XFD1048576"> (16,384 columns, a million rows) on a three-row sheet, and a
    row placed at the sheet's last line: read as the rows there are, in bounded memory."""
    import io

    from training.sheets import SheetError, read_xlsx
    bomb = _xlsx(ROWS, dimension="A1:XFD1048576")
    assert len(bomb) < 12 * 1024
    rows, peak = _peak(lambda: read_xlsx(io.BytesIO(bomb), 2000, 50))
    assert rows == [tuple(r) for r in ROWS] and peak < 32 * 1024 * 1024, peak
    far = _xlsx(ROWS, dimension="A1:XFD1048576",
                extra_rows='<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>')
    err, peak = _peak(lambda: read_xlsx(io.BytesIO(far), 2000, 50))
    assert isinstance(err, SheetError) and err.code == "too_many_rows" and peak < 32 * 1024 * 1024, (err, peak)
    wide = _xlsx(ROWS, extra_rows='<row r="4"><c r="AY4" t="inlineStr"><is><t>x</t></is></c></row>')
    err, _ = _peak(lambda: read_xlsx(io.BytesIO(wide), 2000, 50))  # AY is column 51
    short = _xlsx(ROWS + (("110101199003079518",),))  # a row without its last cells: padded
    assert read_xlsx(io.BytesIO(short), 2000, 50)[-1] == ("110101199003079518", None)
    assert isinstance(err, SheetError) and err.code == "too_many_columns"


def test_xlsx_zip_bomb_refused_before_parsing():
    import io

    from training.sheets import read_xlsx
    big = _xlsx(ROWS, pad=BIG)
    assert len(big) < 100 * 1024
    err, peak = _peak(lambda: read_xlsx(io.BytesIO(big), 2000, 50, max_unpacked=16 * 1024 * 1024))
    assert getattr(err, "code", None) == "file_too_large" and peak < 8 * 1024 * 1024, (err, peak)
    dense = _xlsx(ROWS, pad=4 * 1024 * 1024)  # under the total, but packs a thousand to one
    err, _ = _peak(lambda: read_xlsx(io.BytesIO(dense), 2000, 50, max_unpacked=16 * 1024 * 1024))
    assert getattr(err, "code", None) == "file_too_large"


def test_console_upload_and_command_line_readers_refuse_bombs(tmp_path):
    """The readers every upload and command goes through: the console's (classes, attendance,
    exam results, an employer's crew) and the command line's (issue-batch, prestart-crew)."""
    import io

    from flask import Flask

    from certificates.cli import read_rows
    from training.console.uploads import UploadError, read_upload
    from training.sheets import SheetError
    app = Flask(__name__)  # the readers need a request, not the database
    bombs = {"far": _xlsx(ROWS, dimension="A1:XFD1048576",
                          extra_rows='<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>'),
             "big": _xlsx(ROWS, pad=BIG)}
    codes = {}
    for name, raw in bombs.items():
        with app.test_request_context("/", method="POST", data={"file": (io.BytesIO(raw), f"{name}.xlsx")}):
            with pytest.raises(UploadError) as caught:
                read_upload(("name", "id_number"))
            codes[name] = caught.value.code
    assert codes == {"far": "too_many_rows", "big": "file_too_large"}
    with app.test_request_context("/", method="POST", data={"file": (io.BytesIO(_xlsx(ROWS, "A1:XFD1048576")), "ok.xlsx")}):
        assert [r["name"] for _, r in read_upload(("name", "id_number"))] == ["张伟", "王芳"]
    for name, raw in bombs.items():
        path = tmp_path / f"{name}.xlsx"
        path.write_bytes(raw)
        with pytest.raises(SheetError) as caught:
            read_rows(path)
        assert caught.value.code == {"far": "too_many_rows", "big": "file_too_large"}[name]
    ok = tmp_path / "ok.xlsx"
    ok.write_bytes(_xlsx((("id_number", "category"), ("110101199003074514", "welding")), "A1:XFD1048576"))
    assert read_rows(ok) == [{"id_number": "110101199003074514", "category": "welding"}]
