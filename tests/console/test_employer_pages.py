"""The employer pages through the test client (SQLite and PostgreSQL): placing and ending by
identity number or worker id, the induction grid, one check by identity number and by a scanned
card, the answer and its receipt (which checks out with the trust list), a crew from CSV (UTF-8 and
GBK) and XLSX with per-row results, notices, the retired /enterprise addresses, and English."""
from __future__ import annotations

import html
import io
import json
import re

from openpyxl import Workbook
from sqlalchemy import func, select

from tests import factories as f
from tests.console.helpers import account, sign_in, token
from tests.verify.test_prestart import Scene, induct, place, quiet_rules  # noqa: F401  (quiet_rules: a fixture)
from training.db import db
from verify.employment.models import Employment
from verify.prestart.models import PrestartCheck

CONFINED = "confined_space_worker"


class Desk(Scene):
    """The pre-start scene (regulator, body, centre, a host enterprise in construction, a labour
    agency) with people signed in at the host and the agency, each on their own test client."""

    def __init__(self, app, client):
        super().__init__(client)
        self.app = app
        self.host_officer = self.person(self.host.id, "officer")
        self.host_clerk = self.person(self.host.id, "clerk")
        self.agency_clerk = self.person(self.agency.id, "clerk")

    def person(self, org_id, role):
        acc, _ = account(org_id, role, enrol=False)
        c = self.app.test_client()
        assert sign_in(c, acc.login).status_code == 302
        c.account = acc
        return c


def post(c, path, data=None, **kw):
    return c.post(path, data={**(data or {}), "csrf_token": token(c)}, **kw)


def text(r) -> str:
    return r.get_data(as_text=True)


def masked(number: str) -> str:
    return number[:6] + "*" * 8 + number[-4:]


def crew_file(rows, header=("身份证号", "姓名", "岗位")):
    lines = [",".join(header)] + [",".join(r) for r in rows]
    return ("\ufeff" + "\n".join(lines) + "\n").encode()


def upload(c, raw, name="crew.csv", **form):
    return c.post("/console/prestart/crew", data={"file": (io.BytesIO(raw), name), "csrf_token": token(c), **form},
                  content_type="multipart/form-data")


def items_of(page: str) -> tuple[list[str], list[str]]:
    """The rows a crew page will check (hidden fields), as the browser would post them back."""
    items = [html.unescape(v) for v in re.findall(r'name="item" value="([^"]+)"', page)]
    indexes = re.findall(r'name="index" value="([0-9]+)"', page)
    return items, indexes


# --- placements ------------------------------------------------------------------------------


def test_employer_agency_places_a_new_worker_by_identity_number_and_host_credit_code(app, client):
    d = Desk(app, client)
    number = f.id_number()
    r = post(d.agency_clerk, "/console/employments", {
        "id_number": number, "name": "马建军", "role": "welder", "starts_on": str(f.days_ago(0).date()),
        "host_code": d.host.org["credit_code"]}, follow_redirects=True)
    page = text(r)
    assert r.status_code == 200 and "已登记用工" in page and masked(number) in page and number not in page
    emp = db.session.scalar(select(Employment))
    assert (emp.employer_id, emp.via_id, emp.role, emp.created_by_key) == (d.host.id, d.agency.id, "welder",
                                                                         d.agency_clerk.account.id)
    # The host sees the placement with it; the agency's list names the host.
    listing = text(d.host_officer.get("/console/employments"))
    assert "马建军" in listing and d.agency.org["name"] in listing and "无核查记录" in listing
    assert d.host.org["name"] in text(d.agency_clerk.get("/console/employments"))
    # The same placement twice is refused in words; a second one picks the host from the list.
    r = post(d.agency_clerk, "/console/employments", {"id_number": number, "role": "welder",
                                                      "starts_on": str(emp.starts_on), "host": d.host.id},
             follow_redirects=True)
    assert "尚未结束用工" in text(r) and number not in text(r)
    assert d.host.org["name"] in text(d.agency_clerk.get("/console/employments"))


def test_employer_placement_refusals_are_in_words(app, client):
    d = Desk(app, client)
    number = f.id_number()
    cases = [({"id_number": number, "role": "welder", "host_code": d.host.org["credit_code"]}, "请同时填写姓名"),
             ({"id_number": number[:17] + ("1" if number[17] == "0" else "0"), "name": "张三", "role": "welder",
               "host_code": d.host.org["credit_code"]}, "校验码"),
             ({"id_number": number, "name": "张三", "role": "welder"}, "统一社会信用代码"),
             ({"id_number": number, "name": "张三", "role": "welder", "host_code": "91110000XXXXXXXX00"}, "统一社会信用代码"),
             ({"id_number": number, "name": "张三", "role": "welder",
               "host_code": f.generate_credit_code(f.RNG)}, "没有以这个统一社会信用代码登记的单位"),
             ({"id_number": number, "name": "张三", "role": "welder",
               "host_code": d.w.body.org["credit_code"]}, "不是用工单位")]
    for form, said in cases:
        r = post(d.agency_clerk, "/console/employments", {"starts_on": str(f.days_ago(0).date()), **form},
                 follow_redirects=True)
        assert said in text(r), (form, text(r)[-2000:])
        assert number not in text(r)
    assert db.session.scalar(select(func.count()).select_from(Employment)) == 0


def test_employer_enterprise_places_by_worker_id_and_ends_it(app, client):
    d = Desk(app, client)
    wk = f.worker(d.host)
    r = post(d.host_clerk, "/console/employments", {"worker_id": wk["id"], "role": "general_labourer",
                                                    "starts_on": str(f.days_ago(3).date())})
    assert r.status_code == 302
    emp_url = r.headers["Location"]
    page = text(d.host_clerk.get(emp_url))
    assert wk["id_number_masked"] in page and "三级安全教育" in page and "24" in page
    r = post(d.host_clerk, emp_url + "/end", {"ends_on": str(f.days_ago(5).date())}, follow_redirects=True)
    assert "结束日期不能早于开始日期" in text(r)
    r = post(d.host_clerk, emp_url + "/end", {"ends_on": str(f.days_ago(0).date())}, follow_redirects=True)
    assert "已结束用工" in text(r)
    assert db.session.scalar(select(Employment.ends_on)) == f.days_ago(0).date()
    assert "马" not in text(d.host_officer.get("/console/employments?status=active"))
    assert wk["id_number_masked"] in text(d.host_officer.get("/console/employments?status=all"))


# --- induction --------------------------------------------------------------------------------


def test_employer_induction_sessions_and_the_crew_grid(app, client):
    d = Desk(app, client)
    workers = [f.worker(d.host) for _ in range(3)]
    for w in workers:
        place(d.host, w["id"], d.host.id, "general_labourer")
    for level, back in (("company", 3), ("workshop", 2), ("team", 1)):
        r = post(d.host_clerk, "/console/induction", {"level": level, "date": str(f.days_ago(back).date()),
                                                      "start": "08:30", "hours": "8", "location": "项目部会议室",
                                                      "capacity": "60"})
        assert r.status_code == 302
    grid = text(d.host_clerk.get("/console/induction/attendance"))
    cells = re.findall(r'name="cell" value="([0-9a-f:]+)"', grid)
    assert len(cells) == 9 and workers[0]["id_number_masked"] in grid
    ticked = [c for c in cells if not c.endswith(workers[2]["id"])]
    r = d.host_clerk.post("/console/induction/attendance", data={"cell": ticked, "csrf_token": token(d.host_clerk)},
                          follow_redirects=True)
    assert "已记录 6 条教育出勤" in text(r)
    # A worker not placed with the host cannot be ticked in by a forged cell.
    stranger = f.worker(d.host)
    session_id = cells[0].split(":")[0]
    r = d.host_clerk.post("/console/induction/attendance", data={"cell": [f"{session_id}:{stranger['id']}"],
                                                                 "csrf_token": token(d.host_clerk)}, follow_redirects=True)
    assert "不在本单位的在岗人员中" in text(r)
    # Two workers now clear; the third lacks the three levels.
    for w, cleared in zip(workers, (True, True, False)):
        r = post(d.host_officer, "/console/prestart", {"worker_id": w["id"], "role": "general_labourer"})
        assert db.session.get(PrestartCheck, r.headers["Location"].rsplit("/", 1)[1]).cleared is cleared
    # The session page lists who attended; a clerk voids one record with a reason.
    page = text(d.host_clerk.get(f"/console/induction/{session_id}"))
    att_id = re.search(r'/console/induction/attendance/([0-9a-f]+)/void', page).group(1)
    assert "作废须写明原因" in text(post(d.host_clerk, f"/console/induction/attendance/{att_id}/void", {"reason": ""},
                                        follow_redirects=True))
    assert "已作废" in text(post(d.host_clerk, f"/console/induction/attendance/{att_id}/void", {"reason": "签到有误"},
                                 follow_redirects=True))
    # The agency records its own induction, which never counts for the host.
    assert post(d.agency_clerk, "/console/induction", {"level": "company", "date": str(f.days_ago(1).date()),
                                                       "start": "13:00", "hours": "4"}).status_code == 302
    assert "不能代替用工单位" in text(d.agency_clerk.get("/console/induction"))


# --- one check ----------------------------------------------------------------------------------


def test_employer_check_by_identity_number_answer_and_signed_receipt(app, client):
    d = Desk(app, client)
    number = f.id_number()
    wk = f.worker(d.host, number)
    place(d.host, wk["id"], d.host.id, CONFINED)
    induct(d.host, [wk["id"]], levels=("company", "workshop"))
    r = post(d.host_officer, "/console/prestart", {"who": number, "role": CONFINED})
    assert r.status_code == 303
    answer = text(d.host_officer.get(r.headers["Location"]))
    assert "不能上岗" in answer and "有限空间作业安全培训" in answer and "班组级培训尚无记录" in answer
    assert number not in answer and masked(number) in answer
    check_id = r.headers["Location"].rsplit("/", 1)[1]
    stored = db.session.get(PrestartCheck, check_id)
    assert stored.key_id == d.host_officer.account.id and number not in stored.answer + stored.inputs
    receipt = text(d.host_officer.get(f"/console/prestart/{check_id}/receipt"))
    assert stored.signature in receipt and "/api/v1/trust-list" in receipt and "verify-receipt" in receipt
    assert number not in receipt and "测试officer" in receipt
    raw = re.search(r'<p class="receipt-raw mono">(.*?)</p>', receipt, re.S).group(1)
    doc = json.loads(html.unescape(raw))
    assert client.post("/api/v1/prestart-checks/verify-receipt", json=doc).get_json()["valid"]
    history = text(d.host_officer.get("/console/prestart?result=not_cleared"))
    assert check_id in history and masked(number) in history
    assert check_id not in text(d.host_officer.get("/console/prestart?result=cleared"))


def test_employer_check_by_scanned_card_and_refusals_in_words(app, client):
    d = Desk(app, client)
    (wk,), (card,) = d.certified()
    place(d.agency, wk["id"], d.host.id, CONFINED, via_id=d.agency.id)
    induct(d.host, [wk["id"]])
    r = post(d.agency_clerk, "/console/prestart", {"who": card["qr_text"], "role": CONFINED})
    assert r.status_code == 303
    answer = text(d.agency_clerk.get(r.headers["Location"]))
    assert "可以上岗" in answer and card["serial"] in answer and d.host.org["name"] in answer
    stranger = f.id_number()
    for who, said in ((stranger, "没有这个身份证号"), ("", "请输入身份证号"),
                      ("https://example.com/some/other/card", "不是安证证书"),
                      (card["qr_text"][:-6] + "AAAAAA", "签名核对不上")):
        r = post(d.agency_clerk, "/console/prestart", {"who": who, "role": CONFINED})
        assert r.status_code == 422 and said in text(r), (who, text(r)[-1500:])
        assert stranger not in text(r)
    other = f.worker(d.agency)
    r = post(d.agency_clerk, "/console/prestart", {"worker_id": other["id"], "role": CONFINED})
    assert r.status_code == 422 and "请先在“用工登记”中登记" in text(r)
    r = post(d.host_officer, "/console/prestart", {"worker_id": wk["id"], "role": CONFINED, "starts_on": "2001-01-01"})
    assert r.status_code == 422 and "上岗日期不能早于今天" in text(r)


# --- a crew -------------------------------------------------------------------------------------


def test_employer_crew_csv_read_then_checked_per_row_with_summary(app, client):
    d = Desk(app, client)
    fresh = [f.id_number() for _ in range(2)]
    ids = [f.worker(d.host, n)["id"] for n in fresh]
    for wid in ids:  # induction is given to the host's own workers
        place(d.host, wid, d.host.id, "confined_space_worker")
    induct(d.host, ids)
    rows = [(n, "某人", "有限空间作业人员") for n in fresh]
    rows.append((f.id_number(), "不在册", "有限空间作业人员"))
    rows.append(("123", "号码错", ""))
    rows.append((fresh[0], "某人", "宇航员"))
    r = upload(d.host_officer, crew_file(rows))
    page = text(r)
    assert r.status_code == 200 and "开始核查 2 人" in page
    # No full identity number shows ("123" is no identity number, and those three digits can
    # turn up anywhere on a page: in an id, a serial, a style).
    assert all(n not in page for n, *_ in rows if len(n) == 18) and masked(fresh[0]) in page
    assert "没有这个身份证号" in page and "身份证号应为18位" in page and "岗位不认识" in page
    items, indexes = items_of(page)
    skips = [html.unescape(v) for v in re.findall(r'name="skip" value="([^"]+)"', page)]
    assert len(items) == 2 and len(skips) == 3
    # Without scripts: one POST checks every row and answers with the whole table.
    r = d.host_officer.post("/console/prestart/crew/run", data={"item": items, "index": indexes, "skip": skips,
                                                                 "csrf_token": token(d.host_officer)})
    page = text(r)
    assert r.status_code == 200 and page.count("不能上岗") >= 2 and "无“有限空间作业安全培训”证书" in page
    assert re.search(r'data-count="not_cleared">2<', page) and re.search(r'data-count="refused">3<', page)
    receipts = re.search(r'href="(/console/prestart/receipts\?ids=[0-9a-f,]+)"', page).group(1)
    printed = text(d.host_officer.get(receipts))
    assert printed.count('<article class="receipt">') == 2
    # With scripts: the same rows in chunks, as JSON.
    r = d.host_officer.post("/console/prestart/crew/run", data={"item": items[:1], "index": indexes[:1],
                                                                 "csrf_token": token(d.host_officer)},
                            headers={"Accept": "application/json"})
    out = r.get_json()["results"]
    assert out[0]["outcome"] == "not_cleared" and out[0]["href"].startswith("/console/prestart/")
    assert out[0]["masked"] == masked(fresh[0])
    assert db.session.scalar(select(func.count()).select_from(PrestartCheck)) == 3


def test_employer_crew_gbk_csv_and_xlsx_with_role_chosen_on_upload(app, client):
    d = Desk(app, client)
    numbers = [f.id_number() for _ in range(2)]
    people = [f.worker(d.host, n) for n in numbers]
    ids = [p["id"] for p in people]
    place(d.host, ids[0], d.host.id, "general_labourer")  # induction is given to the host's own workers
    induct(d.host, ids[:1])
    # The first the host employs (any name will do); the second it names as on the ID card.
    gbk = (f"身份证号,姓名\r\n{numbers[0]},某人\r\n{numbers[1]},{people[1]['name']}\r\n").encode("gbk")
    page = text(upload(d.host_officer, gbk, role="general_labourer"))
    assert "开始核查 2 人" in page
    items, indexes = items_of(page)
    r = d.host_officer.post("/console/prestart/crew/run", data={"item": items, "index": indexes,
                                                                 "csrf_token": token(d.host_officer)},
                            headers={"Accept": "application/json"})
    assert [x["outcome"] for x in r.get_json()["results"]] == ["cleared", "not_cleared"]
    book = Workbook()
    book.active.append(["身份证号", "姓名", "岗位", "上岗日期"])
    for p in people:
        book.active.append([numbers[people.index(p)], p["name"], "普通作业人员",
                            f.days_ago(-3).date()])
    raw = io.BytesIO()
    book.save(raw)
    page = text(upload(d.host_officer, raw.getvalue(), "crew.xlsx"))
    assert "开始核查 2 人" in page and all(n not in page for n in numbers)
    assert str(f.days_ago(-3).date()) in html.unescape(page)
    for raw, said in ((b"not a table \xff\xfe", "文件读不出来"), (b"name\nx\n", "缺少必需的列")):
        r = upload(d.host_officer, raw)
        assert r.status_code == 422 and said in text(r)
    page = text(upload(d.host_officer, crew_file([(numbers[0], "某人")], header=("身份证号", "姓名"))))
    assert "没有岗位" in page and "开始核查 0 人" in page


# --- notices, home, the old addresses, English ----------------------------------------------------


def test_employer_notices_list_and_mark_read(app, client):
    d = Desk(app, client)
    (wk,), (cert,) = d.certified()
    place(d.agency, wk["id"], d.host.id, CONFINED, via_id=d.agency.id)
    d.w.body.post(f"/api/v1/certificates/{cert['serial']}/revoke", {"reason": "虚假培训"})
    home = text(d.host_officer.get("/console/"))
    assert "有 1 条未读通知" in home and "上岗前核查" in home
    page = text(d.host_officer.get("/console/notices"))
    assert "证书撤销" in page and cert["serial"] in page and "查看用工登记" in page
    notice_id = re.search(r'/console/notices/([0-9a-f]+)/read', page).group(1)
    assert post(d.host_officer, f"/console/notices/{notice_id}/read").status_code == 302
    assert "没有未读通知" in text(d.host_officer.get("/console/notices"))
    assert "已读" in text(d.host_officer.get("/console/notices?show=all"))
    r = post(d.agency_clerk, "/console/notices/read-all", follow_redirects=True)
    assert "已将 1 条通知标为已读" in text(r)


def test_employer_old_enterprise_addresses_lead_to_the_console(app, client):
    r = client.get("/enterprise/prestart")
    assert r.status_code == 301 and r.headers["Location"] == "/console/prestart"
    assert client.get("/enterprise/sign-in").headers["Location"] == "/console/sign-in"
    assert client.get("/enterprise/prestart/0123456789abcdef/receipt").headers["Location"] == \
        "/console/prestart/0123456789abcdef/receipt"
    assert client.get("/enterprise/prestart/..%2f..%2fx").headers["Location"] == "/console/"
    client.set_cookie("az_key", "az_secret", path="/enterprise")
    r = client.get("/enterprise/prestart")
    assert any(h.startswith("az_key=;") for h in r.headers.getlist("Set-Cookie"))
    assert client.post("/enterprise/sign-in", data={"api_key": "x"}).status_code == 405


def test_employer_pages_in_english(app, client):
    d = Desk(app, client)
    wk = f.worker(d.host, name="王芳")
    place(d.host, wk["id"], d.host.id, "welder")
    r = post(d.host_officer, "/console/prestart?lang=en", {"worker_id": wk["id"], "role": "welder"})
    page = text(d.host_officer.get(r.headers["Location"] + "?lang=en"))
    assert "NOT CLEARED" in page and "Why not" in page and "certificate" in page
    data = (d.host.org["name"], d.agency.org["name"], "王芳", "测试officer",
            "身份证号", "姓名", "岗位", "上岗日期",  # names, and the file's column headings
            "建筑施工")  # the catalogue names industries in Chinese only, and a signed answer quotes it
    for path in ("/console/employments", "/console/induction", "/console/induction/attendance", "/console/prestart",
                 "/console/prestart/crew", "/console/notices", r.headers["Location"] + "/receipt"):
        main = text(d.host_officer.get(path + "?lang=en")).split("<main", 1)[1].split("</main>")[0]
        for name in data:
            main = main.replace(name, "")
        assert not re.search(r"[\u4e00-\u9fff]", main), (path, re.findall(r".{20}[\u4e00-\u9fff]+.{20}", main))
