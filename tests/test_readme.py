"""The README stays true: its commands run as written, and every command and
option of the command line is documented in it."""

import re
import shutil
import subprocess
import sys

import pytest

from conftest import ROOT

#: the slow layer: the README's commands in a shell
pytestmark = pytest.mark.slow

README = (ROOT / "README.md").read_text()


def shell_commands():
    """'stepsolver ...' lines of the README's sh code blocks (not the set-up)."""
    out = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("stepsolver "):
                out.append(line)
    return out


def test_readme_has_the_commands():
    cmds = shell_commands()
    assert any(c.startswith("stepsolver generate") for c in cmds)
    assert any(c.startswith("stepsolver check") for c in cmds)
    assert len(cmds) >= 10


def test_every_readme_command_runs_as_written(tmp_path):
    shutil.copytree(ROOT / "problems", tmp_path / "problems")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    # `stepsolver` here is this checkout's, whatever is installed
    (bindir / "stepsolver").write_text(f"#!/bin/sh\nexec {sys.executable} -m stepsolver \"$@\"\n")
    (bindir / "stepsolver").chmod(0o755)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(tmp_path)}
    for cmd in shell_commands():
        if "pdf" in cmd and shutil.which("pdflatex") is None:
            continue
        if cmd.startswith("stepsolver practice"):
            _serves(cmd, tmp_path, env | {"BROWSER": "true"})  # a server: it must answer, and stop on Ctrl-C
            continue
        r = subprocess.run(["bash", "-c", cmd], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        # check exits 1 when the sheet has wrong answers; the blank sheet has none
        assert r.returncode == 0, (cmd, r.stderr[-500:])


def _serves(cmd, cwd, env):
    """A server command of the README: its first line is a URL that answers; Ctrl-C stops it, exit 0."""
    import select
    import signal
    import urllib.request

    proc = subprocess.Popen(["bash", "-c", "exec " + cmd], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 120)
        assert ready, (cmd, "printed no URL")
        url = proc.stdout.readline().strip()
        with urllib.request.urlopen(url + "api/exercises", timeout=60) as r:
            assert r.status == 200 and r.read().startswith(b"[{"), cmd
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, (cmd, err[-500:])


def test_every_option_is_documented():
    from stepsolver.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, p in sub.choices.items():
        assert f"stepsolver {name}" in README, name
        for action in p._actions:
            for opt in action.option_strings:
                if opt.startswith("--") and opt != "--help":
                    assert opt in README, (name, opt)
