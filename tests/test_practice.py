"""The practice page and its JSON API (stepsolver practice), stepsolver.mark
and the notebook form.

One real server (``python -m stepsolver practice --no-browser``, as the README
starts it) serves a folder of the shipped examples, random networks worked by
the simulated students and graph variants; the API is asked what a tool asks
and compared with ``check --format json`` on the same sheets, hostile
requests are sent, and the server must still answer.  The form's mapping
(every entry of the blank sheet to where the report names it) is checked in
process for every example.
"""

from __future__ import annotations

import copy
import json
import os
import random
import re
import select
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import pytest

import students
from conftest import PROBLEMS, ROOT, chromium_driver as _browser, run_cli
from stepsolver.tomlio import FloatText, parse_toml_bytes
from stepsolver.workbook import exercise
from stepsolver.workbook.exercise import Source

SHIPPED = ["linear_2_3_2", "sigmoid_2_2_2", "mazur_momentum", "softmax_cross_entropy", "graph_regularised_unit",
           "graph_conv_relu_maxpool", "graph_shared_variable", "ko_relu_2_2_1"]


# ------------------------------------------------------------------ sheets
def toml_of(data) -> str:
    """An answers dict as a TOML file (numbers written as the strings typed)."""
    def value(v):
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, (FloatText, int)):
            return str(v)
        return json.dumps(v)

    def tables(v):
        return isinstance(v, list) and v and all(isinstance(x, dict) for x in v)

    def emit(d, prefix, out):
        for k, v in d.items():
            if not isinstance(v, dict) and not tables(v):
                out.append(f"{k} = {value(v)}")
        for k, v in d.items():
            if isinstance(v, dict):
                out.append(f"[{prefix}{k}]")
                emit(v, f"{prefix}{k}.", out)
        for k, v in d.items():
            if tables(v):
                for x in v:
                    out.append(f"[[{prefix}{k}]]")
                    emit(x, f"{prefix}{k}.", out)

    out: list[str] = []
    emit(data, "", out)
    return "\n".join(out) + "\n"


def json_of(data) -> bytes:
    """An answers dict as request JSON, numbers as JSON numbers written as typed."""
    if isinstance(data, dict):
        return b"{" + b", ".join(json.dumps(k).encode() + b": " + json_of(v) for k, v in data.items()) + b"}"
    if isinstance(data, list):
        return b"[" + b", ".join(json_of(v) for v in data) + b"]"
    if isinstance(data, FloatText):
        return str(data).encode()
    return json.dumps(data).encode()


def walk(data, path=()):
    if isinstance(data, dict):
        for k, v in data.items():
            yield from walk(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from walk(v, path + (i,))
    else:
        yield path, data


def put(data, path, v):
    for p in path[:-1]:
        data = data[p]
    data[path[-1]] = v


def key_sheet(form: dict, key: dict, rng: random.Random, mode: str) -> dict:
    """A sheet from the true values: 'right' (exact, or rounded to 4-6
    decimals), 'mixed' (some rounded to 2, some blank, one perturbed)."""
    from decimal import ROUND_HALF_UP, Decimal
    from fractions import Fraction

    sheet = copy.deepcopy(form["blank"])
    cells = [c for g in form["groups"] for r in g["rows"] for c in r]
    wrong = rng.randrange(len(cells))
    for n, c in enumerate(cells):
        truth = key[c["place"]]
        if mode == "mixed" and rng.random() < 0.2:
            continue
        if truth.startswith("≈"):
            exact = Fraction(Decimal(truth[1:].strip()))
        else:
            exact = Fraction(truth)
        if mode == "mixed" and n == wrong:
            exact += Fraction(rng.choice([-3, 2, 7]), 10)
        places = rng.choice([4, 5, 6]) if mode == "right" else rng.choice([2, 3, 4])
        text = str(Decimal(exact.numerator) / Decimal(exact.denominator))
        if truth.startswith("≈"):  # six significant digits, as shown: rounding them again could round twice
            places = -Decimal(truth[1:].strip()).as_tuple().exponent
        text = str(Decimal(text).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP))
        if mode == "right" and not truth.startswith("≈") and "/" not in truth and rng.random() < 0.5:
            text = truth
        put(sheet, tuple(c["path"]), text)
    return sheet


# ------------------------------------------------------------------ the server
@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A running practice server over a folder of exercises: (url, folder)."""
    folder = tmp_path_factory.mktemp("exercises")
    for name in SHIPPED:
        shutil.copy(ROOT / "problems" / f"{name}.toml", folder / f"{name}.toml")
    rng = random.Random(26)
    for k in range(4):
        (folder / f"random_net_{k}.toml").write_text(f'title = "Random network {k}"\n' + students.problem_toml(
            students.random_exercise(rng)))
    (folder / "answers.toml").write_text("loss = 0.5\n")  # not a problem: a folder may hold answers beside
    r = run_cli("generate", "--from", ROOT / "problems" / "graph_sigmoid_neuron.toml", "--count", "2", "--seed", "3",
                "--out", folder, "--name", "graph_variant")
    assert r.returncode == 0, r.stderr
    proc, url = start_server(folder)
    yield url, folder
    stop_server(proc)


def start_server(*args):
    """``stepsolver practice --no-browser ARGS`` as the README starts it: (process, URL without the slash)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "stepsolver", "practice", "--no-browser", "--workers", "2",
                             *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=ROOT)
    ready, _, _ = select.select([proc.stdout], [], [], 90)
    assert ready, "the server printed no URL"
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:") and url.endswith("/"), url  # the first line on stdout
    return proc, url.rstrip("/")


def stop_server(proc):
    proc.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "stopped" in err, err


def http(url: str, method: str = "GET", body: bytes | None = None, timeout: float = 60):
    req = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
            status = resp.status
            ctype = resp.headers.get("content-type", "")
    except urllib.error.HTTPError as exc:
        raw, status, ctype = exc.read(), exc.code, exc.headers.get("content-type", "")
    return status, (json.loads(raw) if "json" in ctype else raw.decode("utf-8"))


def reference_report(folder, ex_id: str, sheet: dict, tmp_path) -> dict:
    """check --format json on the same sheet, written as an answers file."""
    problem = next(p for p in folder.glob("*.toml") if exercise_id(p) == ex_id)
    answers = tmp_path / f"{ex_id}-answers.toml"
    answers.write_text(toml_of(sheet))
    r = run_cli("check", problem, answers, "--format", "json")
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def exercise_id(path) -> str:
    from stepsolver.workbook.server import slug

    return slug(path.stem)


@pytest.mark.slow
def test_the_api_lists_the_exercises_and_their_blank_sheets(served):
    url, folder = served
    status, listing = http(url + "/api/exercises")
    assert status == 200
    problems = sorted(p for p in folder.glob("*.toml") if p.name != "answers.toml")
    assert sorted(e["id"] for e in listing) == sorted(exercise_id(p) for p in problems)
    assert {e["kind"] for e in listing} == {"net", "graph"}
    for p in problems:
        e = next(e for e in listing if e["id"] == exercise_id(p))
        blank_text = run_cli("check", "--blank", p).stdout
        status, blank = http(f"{url}/api/exercises/{e['id']}/blank")
        assert status == 200 and blank == tomllib.loads(blank_text)
        assert all(v == "?" for _, v in walk(blank))
        status, page = http(f"{url}/exercises/{e['id']}")
        assert status == 200 and page.count('class="entry"') == sum(1 for _ in walk(blank))
        assert e["title"] in page or "&" in e["title"]
        assert not re.search(r'(src|href|url)\s*[=(]\s*["\']?(https?:)?//', page)  # offline: nothing external


@pytest.mark.slow
def test_the_check_endpoint_is_check_json_entry_by_entry(served, tmp_path):
    url, folder = served
    rng = random.Random(7)
    compared = 0
    for p in sorted(folder.glob("*.toml")):
        if p.name == "answers.toml":
            continue
        ex_id = exercise_id(p)
        status, form = http(f"{url}/api/exercises/{ex_id}")
        status, key = http(f"{url}/api/exercises/{ex_id}/key")
        assert status == 200
        for mode in ("right", "mixed"):
            sheet = key_sheet(form | {"blank": http(f"{url}/api/exercises/{ex_id}/blank")[1]}, key, rng, mode)
            status, report = http(f"{url}/api/exercises/{ex_id}/check", "POST", json.dumps({"answers": sheet}).encode())
            assert status == 200, report
            assert report == reference_report(folder, ex_id, sheet, tmp_path)
            if mode == "right":
                assert report["counts"]["correct"] == form["count"] and report["ok"], (ex_id, report["counts"])
            compared += 1
    # simulated students on the random networks, numbers sent as JSON numbers written as typed
    for k in range(4):
        p = folder / f"random_net_{k}.toml"
        P = None
        rng2 = random.Random(26)
        for _ in range(k + 1):
            P = students.random_exercise(rng2)
        for slip in (None, "missing_bias", "missing_activation_derivative"):
            if slip and not students.applicable(P, slip):
                continue
            where = students.slip_layer(P, slip, rng) if slip else None
            text, _ = students.sheet(P, 2, slip, where)
            data = parse_toml_bytes(text.encode(), "answers")
            status, report = http(f"{url}/api/exercises/{exercise_id(p)}/check", "POST",
                                  b'{"answers": ' + json_of(data) + b"}")
            answers = tmp_path / "student.toml"
            answers.write_text(text)
            assert status == 200 and report == json.loads(run_cli("check", p, answers, "-f", "json").stdout)
            compared += 1
    assert compared >= 30


@pytest.mark.slow
def test_hostile_requests_get_a_4xx_and_the_server_keeps_serving(served):
    url, _ = served
    check = url + "/api/exercises/linear-2-3-2/check"
    cases = [
        (check, "POST", b'{"answers": {"loss": "' + b"1" * (11 * 1024 * 1024) + b'"}}', 413),  # 10 MB
        (check, "POST", b'{"answers": {"loss": 0.5', 400),  # malformed
        (check, "POST", b"[" * 100_000 + b"]" * 100_000, 400),  # deep nesting
        (check, "POST", b'{"answers": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}", 400),
        (check, "POST", b'{"answers": {"loss": 1e999999}}', 422),
        (check, "POST", b'{"answers": {"loss": NaN}}', 400),
        (check, "POST", b'{"answers": {"loss": ' + b"9" * 5000 + b"}}", 400),
        (check, "POST", b'{"answers": {"layers": [{"z": [[["0"]]]}]}}', 422),
        (check, "POST", b'{"answers": {"lossy": 0.5}}', 422),
        (check, "POST", b'{"answers": [1, 2]}', 422),
        (check, "POST", b'{"other": {}}', 400),
        (check, "POST", b"\xff\xfe\x00", 400),
        (check, "GET", None, 405),
        (url + "/api/exercises/nope/check", "POST", b'{"answers": {}}', 404),
        (url + "/api/exercises/..%2F..%2Fetc%2Fpasswd/blank", "GET", None, 404),
        (url + "/api/exercises/%2Fetc%2Fpasswd/blank", "GET", None, 404),
        (url + "/api/exercises/linear-2-3-2/step/999", "GET", None, 422),
        (url + "/api/exercises/linear-2-3-2/step/-1", "GET", None, 404),
        (url + "/api/unknown", "GET", None, 404),
    ]
    for target, method, body, want in cases:
        status, answer = http(target, method, body)
        assert status == want, (target, body[:60] if body else None, status, answer)
        assert isinstance(answer, dict) and answer["error"].count("\n") == 0 and "Traceback" not in answer["error"]
    status, _ = http(url + "/exercises/..%2Fsecret")
    assert status == 404
    status, listing = http(url + "/api/exercises")  # still serving
    assert status == 200 and listing


@pytest.mark.slow
def test_fifty_checks_at_once_are_all_answered(served, tmp_path):
    url, folder = served
    status, form = http(url + "/api/exercises/sigmoid-2-2-2")
    _, key = http(url + "/api/exercises/sigmoid-2-2-2/key")
    rng = random.Random(50)
    sheets = [key_sheet(form, key, rng, "mixed") for _ in range(50)]

    def post(sheet):
        return http(url + "/api/exercises/sigmoid-2-2-2/check", "POST", json.dumps({"answers": sheet}).encode())

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(post, sheets))
    assert all(status == 200 for status, _ in answers)
    for sheet, (_, report) in list(zip(sheets, answers))[:5]:
        assert report == reference_report(folder, "sigmoid-2-2-2", sheet, tmp_path)


@pytest.mark.slow
def test_a_new_variant_has_the_same_shape_and_its_own_page(served):
    url, _ = served
    for ex_id in ("linear-2-3-2", "graph-regularised-unit", "mazur-momentum"):
        status, made = http(f"{url}/api/exercises/{ex_id}/variant", "POST")
        assert status == 201, made
        new = made["id"]
        assert new != ex_id and new.startswith(ex_id)
        _, old_blank = http(f"{url}/api/exercises/{ex_id}/blank")
        _, new_blank = http(f"{url}/api/exercises/{new}/blank")
        assert [p for p, _ in walk(old_blank)] == [p for p, _ in walk(new_blank)]
        assert http(f"{url}/exercises/{new}")[0] == 200
        assert any(e["id"] == new for e in http(url + "/api/exercises")[1])
        _, old_key = http(f"{url}/api/exercises/{ex_id}/key")
        _, new_key = http(f"{url}/api/exercises/{new}/key")
        assert old_key != new_key  # fresh numbers


@pytest.mark.slow
def test_each_quantity_shows_its_step(served):
    url, _ = served
    for ex_id in ("linear-2-3-2", "graph-regularised-unit", "mazur-momentum", "ko-relu-2-2-1"):
        _, form = http(f"{url}/api/exercises/{ex_id}")
        for n, g in enumerate(form["groups"]):
            status, step = http(f"{url}/api/exercises/{ex_id}/step/{n}")
            assert status == 200 and step["label"] == g["label"]
            assert "<math" in step["html"], (ex_id, g["label"])


# ------------------------------------------------------------------ in process
def _source(path, lang="en") -> Source:
    return Source(path.stem.replace("_", "-"), path.read_text(encoding="utf-8"), str(path), lang)


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_every_entry_of_the_blank_sheet_has_one_input_where_the_report_names_it(path):
    src = _source(path)
    f = exercise.form(src)
    cells = [c for g in f["groups"] for r in g["rows"] for c in r]
    leaves = [p for p, _ in walk(f["blank"])]
    assert sorted(tuple(c["path"]) for c in cells) == sorted(leaves) and len(cells) == f["count"]
    assert len({c["place"] for c in cells}) == len(cells)
    assert len({c["id"] for c in cells}) == len(cells) and all(c["label"] for c in cells)
    # in worked order: the first quantity is a forward value, never the loss or a gradient
    first = f["groups"][0]["rows"][0][0]["place"]
    assert '"z"' in first or '"value"' in first, first
    # the key is the truth: a sheet of exact true values is all correct
    sheet = copy.deepcopy(f["blank"])
    for c in cells:
        truth = f["key"][c["place"]]
        if not truth.startswith("≈"):
            put(sheet, tuple(c["path"]), truth)
    report = json.loads(exercise.check_json(src, sheet))
    assert report["counts"]["wrong"] == 0 and report["counts"]["carried"] == 0


def test_request_json_keeps_the_digits_written():
    data = exercise.loads_json(b'{"answers": {"loss": 0.50, "x": [1e-3, 2], "y": "3/4"}}')
    assert data["answers"]["loss"] == "0.50" and isinstance(data["answers"]["loss"], FloatText)
    assert data["answers"]["x"] == ["1e-3", 2]
    for bad in (b"{", b'{"a": NaN}', b"[" * 50_000, b'{"a": Infinity}'):
        with pytest.raises(Exception) as info:
            exercise.loads_json(bad)
        assert type(info.value).__name__ == "InputError"


def test_mark_agrees_with_check(tmp_path):
    import stepsolver

    rng = random.Random(11)
    for name in ("linear_2_3_2", "graph_regularised_unit", "mazur_momentum"):
        path = ROOT / "problems" / f"{name}.toml"
        f = exercise.form(_source(path))
        for mode in ("right", "mixed"):
            sheet = key_sheet(f, f["key"], rng, mode)
            answers = tmp_path / "a.toml"
            answers.write_text(toml_of(sheet))
            want = json.loads(run_cli("check", path, answers, "-f", "json").stdout)
            marked = stepsolver.mark(path, sheet)
            assert marked.to_dict() == want
            assert stepsolver.mark(str(path), answers).to_dict() == want  # an answers file too
            c = want["counts"]
            blank = f["count"] - len(want["items"])
            assert marked.counts == c | {"blank": blank}
            assert marked.score == pytest.approx((c["correct"] + c["carried"]) / f["count"])
            assert "<table" in marked._repr_html_() and marked._repr_markdown_().startswith("# ")
    empty = stepsolver.mark(ROOT / "problems" / "linear_2_3_2.toml", {})
    assert empty.score == 0 and empty.counts["blank"] == empty.total == 50  # no marks for work not done
    with pytest.raises(stepsolver.InputError) as info:
        stepsolver.mark(ROOT / "problems" / "linear_2_3_2.toml", {"loss": "abc"})
    assert "loss" in str(info.value)


def test_the_notebook_form_marks_what_is_typed():
    ipywidgets = pytest.importorskip("ipywidgets")
    import stepsolver

    path = ROOT / "problems" / "graph_regularised_unit.toml"
    widget = stepsolver.practice(str(path))
    assert isinstance(widget, ipywidgets.VBox)
    boxes = [w for w in _widgets(widget) if isinstance(w, ipywidgets.Text)]
    f = exercise.form(_source(path))
    assert len(boxes) == f["count"]
    cells = [c for g in f["groups"] for r in g["rows"] for c in r]
    for box, c in zip(boxes, cells):
        box.value = f["key"][c["place"]] if c is not cells[0] else "99"
    button = next(w for w in _widgets(widget) if isinstance(w, ipywidgets.Button))
    button.click()
    assert boxes[0].description == "✗" and all(b.description in ("✓", "↪") for b in boxes[1:])


def _widgets(w):
    yield w
    for child in getattr(w, "children", ()):
        yield from _widgets(child)


def test_practice_refuses_what_is_not_an_exercise(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("layers = 3\n")
    r = run_cli("practice", "--no-browser", bad)
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "bad.toml" in r.stderr, r.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    r = run_cli("practice", "--no-browser", empty)
    assert r.returncode == 2 and "no exercises" in r.stderr, r.stderr


# ------------------------------------------------------------------ in a real browser
def _inputs(b) -> list[dict]:
    return b.execute_script(
        "return Array.from(document.querySelectorAll('input.entry')).map(function (i) {"
        " return {id: i.id, place: i.dataset.place, path: JSON.parse(i.dataset.path), label: i.getAttribute('aria-label'),"
        " verdict: i.parentNode.className.replace('cell', '').trim()}; });")


def _type_sheet(b, sheet: dict, typed: int = 3):
    """Enter each value of an answers dict in its input: the first ``typed``
    key by key as a student types them, the rest set at once (typing every key
    through the driver costs a second per dozen entries)."""
    from selenium.webdriver.common.by import By

    values = dict(walk(sheet))
    cells = _inputs(b)
    text = {c["id"]: ("" if values.get(tuple(c["path"]), "?") == "?" else str(values[tuple(c["path"])]))
            for c in cells}
    b.execute_script(
        "var v = arguments[0]; Object.keys(v).forEach(function (id) { var i = document.getElementById(id);"
        " i.value = v[id]; i.dispatchEvent(new Event('input', {bubbles: true})); });",
        {c["id"]: text[c["id"]] for c in cells[typed:]})
    for c in cells[:typed]:
        el = b.find_element(By.ID, c["id"])
        el.clear()
        if text[c["id"]]:
            el.send_keys(text[c["id"]])


def _check(b):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    b.execute_script("document.getElementById('summary').textContent = '';")
    checking = b.execute_script("return JSON.parse(document.getElementById('practice-data').textContent).text.checking;")
    b.find_elements(By.CSS_SELECTOR, "input.entry")[-1].send_keys(Keys.ENTER)  # Enter checks
    WebDriverWait(b, 30).until(lambda d: d.find_element(By.ID, "summary").text.strip() not in ("", checking))
    return b.find_element(By.ID, "summary").text


def _console_errors(b) -> list:
    return [e for e in b.get_log("browser") if e["level"] == "SEVERE"]


def _page_verdicts_are_the_reports(b, url, ex_id, sheet):
    status, report = http(f"{url}/api/exercises/{ex_id}/check", "POST", json.dumps({"answers": sheet}).encode())
    assert status == 200
    from stepsolver.workbook.exercise import place

    want = {place(it): it["verdict"] for it in report["items"]}
    shown = {c["place"]: c["verdict"].removeprefix("v-") for c in _inputs(b)}
    assert shown == {p: want.get(p, "blank") for p in shown}
    return report


@pytest.mark.slow
@pytest.mark.parametrize("ex_id", ["linear-2-3-2", "graph-regularised-unit", "graph-conv-relu-maxpool",
                                   "mazur-momentum"])  # a Korean page: test_the_korean_page_in_chromium
def test_a_student_works_the_page_in_chromium(served, browser, ex_id):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, _ = served
    b = browser
    b.get(f"{url}/exercises/{ex_id}")
    b.execute_script("localStorage.clear();")
    b.get(f"{url}/exercises/{ex_id}")
    _, form = http(f"{url}/api/exercises/{ex_id}")
    _, key = http(f"{url}/api/exercises/{ex_id}/key")
    cells = _inputs(b)
    assert len(cells) == form["count"] and all(c["label"] for c in cells)
    assert [c["place"] for c in cells] == [c["place"] for g in form["groups"] for r in g["rows"] for c in r]
    origins = b.execute_script("return performance.getEntriesByType('resource').map(function (r) { return r.name; });")
    assert all(o.startswith(url) for o in origins), origins  # offline: nothing fetched from elsewhere
    # a right sheet, every entry at 4 to 6 decimals
    rng = random.Random(hash(ex_id) % 1000)
    right = key_sheet(form, key, rng, "right")
    _type_sheet(b, right)
    summary = _check(b)
    assert all(c["verdict"] == "v-correct" for c in _inputs(b)), summary
    assert str(form["count"]) in summary
    _page_verdicts_are_the_reports(b, url, ex_id, right)
    # typed answers survive a reload
    b.refresh()
    kept = {c["id"]: b.find_element(By.ID, c["id"]).get_attribute("value") for c in _inputs(b)}
    assert kept == {c["id"]: str(dict(walk(right))[tuple(c["path"])]) for c in _inputs(b)}
    # a copied sheet: the new values written as the old ones earn nothing where the update moves them
    copied = copy.deepcopy(right)
    problem = next(p for p in PROBLEMS if exercise_id(p) == ex_id)
    trace_json = json.loads(run_cli("solve", problem, "-f", "json").stdout)
    updates = [tuple(c["path"]) for g in form["groups"] for r in g["rows"] for c in r
               if "W_new" in c["path"] or "b_new" in c["path"] or c["path"][0] == "new"]
    for p in updates:
        put(copied, p, _old_value(trace_json, p))
    if updates:
        _type_sheet(b, copied)
        _check(b)
        report = _page_verdicts_are_the_reports(b, url, ex_id, copied)
        moved = [it for it in report["items"] if it["quantity"] in ("W_new", "b_new", "new")
                 and Fraction(it["given"]) != Fraction(it["expected"])]
        assert moved and all(it["verdict"] != "correct" for it in moved)
    # the step of the first quantity, on request; the true values, on request
    button = b.find_element(By.CSS_SELECTOR, "button.show-step")
    button.click()
    region = b.find_element(By.ID, button.get_attribute("aria-controls"))
    WebDriverWait(b, 30).until(lambda d: region.is_displayed())
    assert region.find_elements(By.TAG_NAME, "math") and button.get_attribute("aria-expanded") == "true"
    b.find_element(By.ID, "reveal").click()
    first = b.find_element(By.ID, "t-" + cells[0]["id"])
    WebDriverWait(b, 30).until(lambda d: first.is_displayed() and first.text)
    assert key[cells[0]["place"]].replace("≈ ", "") in first.text
    assert _console_errors(b) == []


def _old_value(trace_json, path):
    """The old value of the parameter an update entry names (the copied sheet)."""
    if path[0] == "new":  # a graph: [new] name
        node = next(n for n in trace_json["nodes"] if n["name"] == path[1])
        v = node["value"]["exact"]
        for i in path[2:]:
            v = v[i]
        while isinstance(v, list):
            v = v[0]
        return v
    steps = path[0] == "steps"
    layer = path[3] if steps else path[1]
    q = path[4] if steps else path[2]
    idx = path[5:] if steps else path[3:]
    L = trace_json["layers"][layer] if "layers" in trace_json else trace_json["steps"][0]["layers"][layer]
    M = L["W" if q == "W_new" else "b"]
    M = M.get("exact", M) if isinstance(M, dict) else M
    for i in idx:
        M = M[i]
    while isinstance(M, list):  # a 1x1 quantity is written as one number
        M = M[0]
    return M


@pytest.mark.slow
def test_a_student_with_a_slip_sees_it_named_and_what_follows_carried(served, browser):
    from selenium.webdriver.common.by import By

    url, folder = served
    b = browser
    rng = random.Random(4)
    seen = set()
    for k in range(4):
        rng2 = random.Random(26)
        for _ in range(k + 1):
            P = students.random_exercise(rng2)
        for slip in ("missing_bias", "missing_activation_derivative", "wrong_update_sign")[k % 3:][:1]:
            if not students.applicable(P, slip):
                continue
            text, expected = students.sheet(P, 2, slip, students.slip_layer(P, slip, rng))
            ex_id = f"random-net-{k}"
            written = dict(walk(parse_toml_bytes(text.encode(), "answers")))  # columns written as [[x], [y]]
            sheet = http(f"{url}/api/exercises/{ex_id}/blank")[1]
            for path, _ in list(walk(sheet)):
                put(sheet, path, written.get(path, written.get(path + (0,), "?")))
            b.get(f"{url}/exercises/{ex_id}")
            _type_sheet(b, sheet)
            summary = _check(b)
            report = _page_verdicts_are_the_reports(b, url, ex_id, sheet)
            verdicts = {it["verdict"] for it in report["items"]}
            seen |= verdicts
            if "wrong" in verdicts:
                first = next(it for it in report["items"] if it["verdict"] == "wrong")
                cell = next(c for c in _inputs(b) if c["verdict"] == "v-wrong")
                assert cell["label"] in summary
                note = b.find_element(By.ID, "v-" + cell["id"]).text
                assert note.startswith("✗") and (first["hint"] is None or first["hint"]["text"] in note)
    assert {"wrong", "carried"} <= seen
    assert _console_errors(b) == []


@pytest.mark.slow
def test_a_new_variant_from_the_page(served, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    url, _ = served
    b = browser
    b.get(f"{url}/exercises/linear-2-3-2")
    b.find_element(By.ID, "variant").click()
    WebDriverWait(b, 60).until(lambda d: "/exercises/linear-2-3-2--" in d.current_url)
    WebDriverWait(b, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "input.entry"))
    assert len(_inputs(b)) == 50 and _console_errors(b) == []


@pytest.mark.slow
def test_the_korean_page_in_chromium(browser):
    from selenium.webdriver.common.by import By

    proc, url = start_server("--lang", "ko", ROOT / "problems" / "ko_relu_2_2_1.toml",
                             ROOT / "problems" / "ko_graph_regularised_unit.toml")
    try:
        b = browser
        for ex_id in ("ko-relu-2-2-1", "ko-graph-regularised-unit"):
            b.get(f"{url}/exercises/{ex_id}")
            assert b.find_element(By.TAG_NAME, "html").get_attribute("lang") == "ko"
            assert b.find_element(By.ID, "check").text == "채점"
            _, form = http(f"{url}/api/exercises/{ex_id}")
            _, key = http(f"{url}/api/exercises/{ex_id}/key")
            _type_sheet(b, key_sheet(form, key, random.Random(1), "right"))
            summary = _check(b)
            assert summary.startswith("점수") and "모든 원소가 맞습니다" in summary, summary
            assert all(c["verdict"] == "v-correct" for c in _inputs(b))
            assert "맞음" in b.find_element(By.ID, "v-" + _inputs(b)[0]["id"]).text
            assert _console_errors(b) == []
    finally:
        stop_server(proc)
