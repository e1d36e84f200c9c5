"""The Canvas export (--format qti): a QTI 1.2 zip, validated against the
structure Canvas reads (there is no Canvas here to import it into), and
held to the same no-free-marks rules as the Moodle export."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
from decimal import Decimal

import pytest

from conftest import GRAPH_PROBLEMS, ROOT, run_cli

import stepsolver
from stepsolver.exact import to_float
from stepsolver.render import RenderOptions, _context, render_qti

Q = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
CP = "{http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1}"


def _zip(paths, *args, tmp_path):
    out = tmp_path / "quiz.zip"
    r = run_cli("solve", *paths, "-f", "qti", "-o", out, *args, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return zipfile.ZipFile(io.BytesIO(out.read_bytes()))


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    root = tmp_path_factory.mktemp("qti")
    r = run_cli("generate", "--layers", "2,2,1", "--count", "4", "--seed", "5", "--out", root / "v", cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return sorted((root / "v").glob("*.toml")) + [ROOT / "problems" / "online_bce.toml", GRAPH_PROBLEMS[0]]


def test_the_package_holds_a_manifest_and_the_assessment_it_names(klass, tmp_path):
    z = _zip(klass, tmp_path=tmp_path)
    names = z.namelist()
    assert "imsmanifest.xml" in names
    manifest = ET.fromstring(z.read("imsmanifest.xml"))
    (resource,) = manifest.iter(f"{CP}resource")
    assert resource.get("type") == "imsqti_xmlv1p2"
    href = resource.find(f"{CP}file").get("href")
    assert href in names
    root = ET.fromstring(z.read(href))
    assert root.tag == f"{Q}questestinterop"


def _items(klass, tmp_path, *args):
    z = _zip(klass, *args, tmp_path=tmp_path)
    href = next(n for n in z.namelist() if n != "imsmanifest.xml")
    return ET.fromstring(z.read(href))


def test_one_group_per_exercise_picking_one_variant(klass, tmp_path):
    root = _items(klass, tmp_path)
    (assessment,) = root.findall(f"{Q}assessment")
    (top,) = assessment.findall(f"{Q}section")
    assert top.get("ident") == "root_section"
    groups = top.findall(f"{Q}section")
    assert [len(g.findall(f"{Q}item")) for g in groups] == [4, 1, 1]  # the 4 variants, then two exercises
    for g in groups:
        sel = g.find(f"{Q}selection_ordering/{Q}selection")
        assert sel.find(f"{Q}selection_number").text == "1"
        per = int(sel.find(f"{Q}selection_extension/{Q}points_per_item").text)
        assert per == max(_points(i) for i in g.findall(f"{Q}item"))


def _meta(item, label):
    for f in item.iter(f"{Q}qtimetadatafield"):
        if f.find(f"{Q}fieldlabel").text == label:
            return f.find(f"{Q}fieldentry").text
    return None


def _points(item):
    return int(_meta(item, "points_possible"))


def test_every_item_is_a_fill_in_blanks_question_whose_blanks_are_in_its_text(klass, tmp_path):
    root = _items(klass, tmp_path)
    for item in root.iter(f"{Q}item"):
        assert _meta(item, "question_type") == "fill_in_multiple_blanks_question"
        html = item.find(f"{Q}presentation/{Q}material/{Q}mattext").text
        lids = item.findall(f"{Q}presentation/{Q}response_lid")
        ids = [lid.find(f"{Q}material/{Q}mattext").text for lid in lids]
        assert _points(item) == len(ids) > 0
        # every [word] of the text is a blank, in order, and every blank is in the text
        assert re.findall(r"\[([^\]]*)\]", html) == ids
        assert "\\(" in html and "<h3>" in html
        total = 0.0
        conds = item.findall(f"{Q}resprocessing/{Q}respcondition")
        assert len(conds) == len(ids)
        for lid, cond in zip(lids, conds):
            labels = {lab.get("ident") for lab in lid.iter(f"{Q}response_label")}
            refs = cond.findall(f"{Q}conditionvar/{Q}or/{Q}varequal")
            assert refs and {r.text for r in refs} == labels
            assert {r.get("respident") for r in refs} == {lid.get("ident")}
            total += float(cond.find(f"{Q}setvar").text)
        assert abs(total - 100) < 1e-3


def _accepted(lid):
    return [lab.find(f"{Q}material/{Q}mattext").text for lab in lid.iter(f"{Q}response_label")]


def _value(text):
    return Decimal(text.replace("\u2212", "-").replace("-.", "-0.").lstrip(".") if not text.startswith(".") else "0" + text)


def test_no_free_marks_and_the_rounded_value_accepted(klass, tmp_path):
    path = klass[0]
    trace = stepsolver.solve(stepsolver.load_problem(path)).trace
    item = next(_items([path], tmp_path).iter(f"{Q}item"))
    lids = item.findall(f"{Q}presentation/{Q}response_lid")
    p = _context([trace], RenderOptions())["problems"][0]
    step = trace.steps[0]
    k = 0
    checked = 0
    for q in p.quiz_items(step):
        for i, row in enumerate(q.blanks):
            for j, b in enumerate(row):
                if b.given:
                    continue
                texts = _accepted(lids[k])
                k += 1
                values = {_value(t) for t in texts}
                v = to_float(q.matrix[i, j])
                assert Decimal(f"{v:.{b.decimals or 2}f}") in values, (q.label, texts)  # honest rounding passes
                if q.label.startswith("updated"):
                    layer = int(q.label.rsplit(" ", 1)[1])
                    old = getattr(step.layers[layer - 1], "W" if " W" in q.label else "b")[i, j]
                    if old != q.matrix[i, j]:
                        assert Decimal(str(to_float(old))) not in values, (q.label, texts)  # copying passes nothing
                        checked += 1
                if q.label.startswith(("delta", "dJ")) and v:
                    assert Decimal(0) not in values and Decimal(f"{-v:.{b.decimals or 2}f}") not in values
                    checked += 1
    assert k == len(lids) and checked > 5


def test_korean_and_the_same_bytes_for_the_same_input(klass, tmp_path):
    a = (tmp_path / "a.zip")
    run_cli("solve", *klass[:2], "-f", "qti", "-o", a, "--lang", "ko", cwd=ROOT)
    b = (tmp_path / "b.zip")
    run_cli("solve", *klass[:2], "-f", "qti", "-o", b, "--lang", "ko", cwd=ROOT)
    assert a.read_bytes() == b.read_bytes()
    z = zipfile.ZipFile(a)
    text = z.read(next(n for n in z.namelist() if n != "imsmanifest.xml")).decode("utf-8")
    assert "반올림해 쓰세요" in text and "학습률" in text


def test_qti_to_a_terminal_needs_a_file():
    traces = [stepsolver.solve(stepsolver.load_problem(ROOT / "problems" / "linear_2_3_2.toml")).trace]
    assert render_qti(traces)[:2] == b"PK"
