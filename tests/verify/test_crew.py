"""Crews: the batch API (JSON items, CSV and XLSX uploads) and the prestart-crew command on a crew
of 50 with a results file; identity numbers never come back except masked."""
from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from sqlalchemy import func, select

from tests import factories as f
from tests.verify.test_prestart import Scene, induct, place, quiet_rules  # noqa: F401  (quiet_rules: a fixture)
from training.db import db
from verify.employment.models import Employment
from verify.prestart.models import PrestartCheck

API = "/api/v1/prestart-checks/batch"


def register(api, numbers):
    r = api.post("/api/v1/workers/batch", {"items": [{"name": f"工人{i}", "id_number": n}
                                                     for i, n in enumerate(numbers)]})
    assert r.status_code == 200, r.get_json()
    return [i["id"] for i in r.get_json()["items"]]


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_crew_json_batch_per_worker_results_and_summary(client):
    s = Scene(client)
    numbers = [f.id_number() for _ in range(3)]
    ids = register(s.agency, numbers)
    for wid in ids:
        place(s.agency, wid, s.host.id, "general_labourer", via_id=s.agency.id)
    induct(s.host, ids[:2])
    unknown = f.id_number()
    r = s.agency.post(API, {"role": "general_labourer", "items": [
        {"id_number": numbers[0]}, {"worker_id": ids[1]}, {"id_number": numbers[2]},
        {"id_number": unknown}, {"id_number": "123"}, {"worker_id": ids[0], "role": "astronaut"}, "nonsense",
        {"worker_id": ids[0], "id_number": numbers[0]}]})
    assert r.status_code == 200, r.get_json()
    out = r.get_json()
    items = out["items"]
    assert [i["index"] for i in items] == list(range(8))
    assert [i["status"] for i in items] == [200, 200, 200, 422, 422, 422, 422, 422]
    assert [i["cleared"] for i in items[:3]] == [True, True, False] and items[2]["reasons"] == ["insufficient_induction"]
    assert items[0]["worker_id"] == ids[0] and items[0]["id_number_masked"] == numbers[0][:6] + "*" * 8 + numbers[0][-4:]
    assert items[3]["errors"][0]["code"] == "not_registered" and items[4]["errors"][0]["code"] == "id_number_format"
    assert out["summary"] == {"total": 8, "cleared": 2, "not_cleared": 1, "refused": 5}
    assert all(n not in r.get_data(as_text=True) for n in numbers + [unknown])
    assert count(PrestartCheck) == 3
    # Each check is recorded and signed as a single one would be.
    one = s.agency.get(f"/api/v1/prestart-checks/{items[0]['id']}").get_json()
    assert one["cleared"] and client.post("/api/v1/prestart-checks/verify-receipt", json=one).get_json()["valid"]


def test_crew_upload_csv_and_xlsx(client):
    s = Scene(client)
    numbers = [f.id_number() for _ in range(2)]
    ids = register(s.host, numbers)
    place(s.host, ids[0], s.host.id, "general_labourer")  # induction is given to the host's own workers
    induct(s.host, ids[:1])
    # The host employs the first; the second it names with the name on the ID card.
    data = "id_number,name\n" + f"{numbers[0]},某人\n{numbers[1]},工人1\n"
    r = s.host.post(API, data={"file": (io.BytesIO(data.encode("utf-8-sig")), "crew.csv"), "role": "general_labourer"},
                    content_type="multipart/form-data")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["summary"] == {"total": 2, "cleared": 1, "not_cleared": 1, "refused": 0}
    book = Workbook()
    book.active.append(["Worker_ID", "Role"])
    for wid in ids:
        book.active.append([wid, "general_labourer"])
    raw = io.BytesIO()
    book.save(raw)
    raw.seek(0)
    r = s.host.post(API, data={"file": (raw, "crew.xlsx")}, content_type="multipart/form-data")
    first, second = r.get_json()["items"]
    assert r.status_code == 200 and first["cleared"] is True
    # By id alone, a worker it does not employ tells it nothing.
    assert second["status"] == 422 and second["errors"][0]["code"] == "no_placement", second
    for bad in ({"file": (io.BytesIO(b"not a workbook"), "crew.xlsx"), "role": "general_labourer"},
                {"file": (io.BytesIO(b"x"), "crew.txt"), "role": "general_labourer"},
                {"file": (io.BytesIO(b"id_number\n"), "crew.csv"), "role": "general_labourer"},
                {"role": "general_labourer"}):
        before = count(PrestartCheck)
        r = s.host.post(API, data=bad, content_type="multipart/form-data")
        assert r.status_code == 422 and r.mimetype == "application/problem+json", r.get_json()
        assert count(PrestartCheck) == before


def _results(path):
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_crew_command_places_and_checks_fifty_then_a_recheck_clears_them(client, runner, tmp_path):
    s = Scene(client)
    numbers = [f.id_number() for _ in range(50)]
    ids = register(s.agency, numbers)
    for wid in ids[:30]:  # the first thirty came earlier and had the host's induction; --place finds them placed
        place(s.agency, wid, s.host.id, "general_labourer", via_id=s.agency.id)
    induct(s.host, ids[:30])
    rows = tmp_path / "crew.csv"
    rows.write_text("id_number,name\n" + "".join(f"{n},工人\n" for n in numbers), encoding="utf-8")
    out = tmp_path / "results.csv"
    args = ["prestart-crew", str(rows), "--org", s.agency.id, "--role", "general_labourer",
            "--employer", s.host.id, "--out", str(out)]
    r = runner.invoke(args=args + ["--place"])
    assert r.exit_code == 0, r.output
    assert "50 rows: 30 cleared, 20 not_cleared" in r.output and str(out) in r.output
    results = _results(out)
    assert len(results) == 50 and [x["row"] for x in results] == [str(n) for n in range(2, 52)]
    assert [x["outcome"] for x in results] == ["cleared"] * 30 + ["not_cleared"] * 20
    assert {x["reasons"] for x in results[30:]} == {"insufficient_induction"}
    assert results[0]["id_number_masked"] == numbers[0][:6] + "*" * 8 + numbers[0][-4:]
    text = out.read_text(encoding="utf-8")
    assert all(n not in text and n not in r.output for n in numbers)  # masked only
    assert count(Employment) == 50
    # The host sees who is cleared and why not.
    seen = s.host.get("/api/v1/prestart-checks?limit=100").get_json()["items"]
    assert len(seen) == 50 and sum(1 for a in seen if a["cleared"]) == 30
    # The host confirms the twenty new placements and gives them its induction; a re-check (no
    # new placements) clears them all.
    pending = [e for e in s.host.get("/api/v1/employments?limit=100").get_json()["items"] if e["status"] == "pending"]
    assert len(pending) == 20
    for emp in pending:
        f.confirmed(emp)
    induct(s.host, ids[30:], first_day=3)
    r = runner.invoke(args=args)
    assert r.exit_code == 0 and "50 rows: 50 cleared" in r.output, r.output
    assert count(Employment) == 50 and count(PrestartCheck) == 100


def test_crew_command_readable_errors(client, runner, tmp_path):
    s = Scene(client)
    good = tmp_path / "crew.csv"
    good.write_text(f"id_number\n{f.id_number()}\n", encoding="utf-8")
    headless = tmp_path / "names.csv"
    headless.write_text("name\n张三\n", encoding="utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_text("id_number\n", encoding="utf-8")
    cases = [(["--org", "nope", "--role", "general_labourer"], good, "not a registered enterprise"),
             (["--org", s.w.body.id, "--role", "general_labourer"], good, "not a registered enterprise"),
             (["--org", s.agency.id, "--role", "astronaut"], good, "unknown role"),
             (["--org", s.agency.id], good, "--role"),
             (["--org", s.agency.id, "--role", "general_labourer"], headless, "id_number or worker_id"),
             (["--org", s.agency.id, "--role", "general_labourer"], empty, "no rows"),
             (["--org", s.agency.id, "--role", "general_labourer", "--place"], good, "--employer")]
    for extra, path, words in cases:
        r = runner.invoke(args=["prestart-crew", str(path), *extra])
        assert r.exit_code == 2 and words in r.output and "Traceback" not in r.output, (extra, r.output)
    r = runner.invoke(args=["prestart-crew", str(good), "--org", s.agency.id, "--role", "general_labourer"])
    assert r.exit_code == 0 and "1 refused" in r.output  # unregistered: refused in the file, not a crash
    assert "id_number:not_registered" in _results(good.with_suffix(".csv.results.csv"))[0]["reasons"]
    help_text = runner.invoke(args=["prestart-crew", "--help"]).output
    assert "CSV or XLSX" in help_text and "--place" in help_text
