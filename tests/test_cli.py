"""The command line: exit codes, one-line errors, atomic output."""

import os

import pytest

from conftest import PROBLEMS, ROOT, run_cli

LINEAR = ROOT / "problems" / "linear_2_3_2.toml"


@pytest.mark.parametrize("fmt", ["md", "latex", "json"])
@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.stem)
def test_every_example_renders_in_every_format(path, fmt):
    r = run_cli("solve", path, "--format", fmt)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert len(r.stdout) > 200


def test_markdown_is_the_default_and_states_the_conventions():
    r = run_cli("solve", LINEAR)
    assert r.returncode == 0
    assert r.stdout.startswith("# Two-layer linear network")
    assert "## Conventions" in r.stdout
    assert r"\frac{1}{2}\sum_{k}" in r.stdout  # the loss's 1/2 is printed
    assert r"\frac{1}{m}" in r.stdout  # so is the batch factor


def bad_problem(tmp_path, text, name="p.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def assert_one_line_error(r, *fragments):
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: ")
    assert "Traceback" not in r.stderr
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    assert r.stdout == ""


def test_wrong_bias_length_names_file_and_key(tmp_path):
    p = bad_problem(
        tmp_path,
        """
learning_rate = 0.1
[[layers]]
weights = [[1, 2], [3, 4], [5, 6]]
[[layers]]
weights = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
bias = [1, 2]
[[examples]]
x = [1, 1]
t = [1, 2, 3]
""",
    )
    r = run_cli("solve", p)
    assert_one_line_error(r, f"{p}: layers[2].bias: expected 3 numbers", "got 2")


def test_unknown_key_suggests_the_near_miss(tmp_path):
    p = bad_problem(tmp_path, 'learning_rat = 0.1\n[[layers]]\nweights=[[1]]\n[[examples]]\nx=1\nt=1\n')
    r = run_cli("solve", p)
    assert_one_line_error(r, "learning_rat", "did you mean 'learning_rate'")


def test_missing_file_and_directory(tmp_path):
    assert_one_line_error(run_cli("solve", tmp_path / "nope.toml"), "nope.toml", "no such file")
    assert_one_line_error(run_cli("solve", tmp_path), "directory")


def test_log_of_zero_names_loss_example_and_output(tmp_path):
    p = bad_problem(
        tmp_path,
        """
learning_rate = 0.1
loss = "binary_cross_entropy"
[[layers]]
weights = [[1]]
activation = "relu"
[[examples]]
x = 0.5
t = 0.5
[[examples]]
x = -1
t = 0.5
""",
    )
    r = run_cli("solve", p)
    assert_one_line_error(r, "binary_cross_entropy", "example 2", "output 1", "log of zero")


def test_bad_arguments_exit_2_with_one_line():
    r = run_cli("solve", LINEAR, "--format", "docx")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    r = run_cli("frobnicate")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_output_file_is_written_whole_and_replaces_the_old(tmp_path):
    out = tmp_path / "key.md"
    out.write_text("old contents")
    r = run_cli("solve", LINEAR, "-o", out)
    assert r.returncode == 0 and r.stdout == ""
    assert out.read_text().startswith("# Two-layer linear network")
    # the network picture is written beside it and linked; no temporary is left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key-network-1.svg", "key.md"]
    assert "](key-network-1.svg)" in out.read_text()
    assert (tmp_path / "key-network-1.svg").read_text().startswith("<svg")


def test_a_failed_run_leaves_the_old_output_untouched(tmp_path):
    out = tmp_path / "key.md"
    out.write_text("old contents")
    bad = bad_problem(tmp_path, "learning_rate = -1\n[[layers]]\nweights=[[1]]\n[[examples]]\nx=1\nt=1\n")
    r = run_cli("solve", LINEAR, bad, "-o", out)
    assert_one_line_error(r, "learning_rate", "greater than 0")
    assert out.read_text() == "old contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key.md", "p.toml"]


def test_refuses_to_overwrite_an_input(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text(LINEAR.read_text())
    before = p.read_bytes()
    r = run_cli("solve", p, "-o", p)
    assert_one_line_error(r, "input")
    assert p.read_bytes() == before


def test_input_files_are_never_modified(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text(LINEAR.read_text())
    stat = os.stat(p)
    run_cli("solve", p, "--format", "json")
    assert os.stat(p).st_mtime_ns == stat.st_mtime_ns


def test_a_teachers_template_overrides_the_built_in_one(tmp_path):
    tdir = tmp_path / "tpl" / "md"
    tdir.mkdir(parents=True)
    builtin = (ROOT / "templates" / "md" / "dialect.j2").read_text()
    # a teacher wants level-1 headings to carry the course name
    (tdir / "dialect.j2").write_text(builtin.replace('((( "#" * level ))) ((( text )))', '((( "#" * level ))) ((( text ))) ((( "(ML 101)" if level == 1 else "" )))'))
    r = run_cli("solve", LINEAR, "--templates", tmp_path / "tpl")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("# Two-layer linear network (ML 101)")


def test_a_typo_in_a_template_fails_loudly(tmp_path):
    tdir = tmp_path / "tpl" / "md"
    tdir.mkdir(parents=True)
    (tdir / "document.md.j2").write_text("((( problems[0].titel )))\n")
    r = run_cli("solve", LINEAR, "--templates", tmp_path / "tpl")
    assert_one_line_error(r, "template", "titel")
