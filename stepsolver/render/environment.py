"""The one Jinja environment templates are rendered in.

Layout lives only in ``templates/``.  The environment uses StrictUndefined,
so a typo in a template -- built-in or a teacher's override passed with
``--templates DIR`` -- fails loudly, and LaTeX-friendly delimiters:

* ``((* ... *))`` statements, ``((( ... )))`` expressions, ``((= ... =))`` comments.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from ..version import __version__
from .markup import (cdata, cloze_escape, html_escape, html_paragraphs, latex_escape, mathml, md_block, md_escape,
                     moodle_category, toml_comment)


def builtin_templates() -> Path:
    """templates/ inside the installed package, or at the repository top."""
    here = Path(__file__).resolve().parent.parent  # the package
    packaged = here / "templates"
    if packaged.is_dir():
        return packaged
    return here.parent / "templates"


def _bytecode_cache(sandboxed: bool = False):
    """Compiled templates kept between runs: compiling them is most of a cold
    start (about 0.3 s), loading them takes milliseconds.  The cache lives in
    $STEPSOLVER_CACHE_DIR or $XDG_CACHE_HOME/stepsolver (~/.cache/stepsolver),
    private to the user; where it cannot be written there is simply none.
    Entries are keyed by the template's source, and Jinja invalidates them
    across Python and Jinja versions."""
    import jinja2

    base = os.environ.get("STEPSOLVER_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "stepsolver"
    )
    if os.environ.get("STEPSOLVER_CACHE_DIR", None) == "":
        return None
    path = os.path.join(base, f"templates-{__version__}" + ("-sandboxed" if sandboxed else ""))
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        if not os.access(path, os.W_OK):
            return None
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(path)


def kind_template_dirs(traces) -> tuple[str, ...]:
    """Template folders that kinds outside the package bring along (a
    plug-in's ``template_dir``, holding its ``<templates>/`` folder)."""
    dirs = []
    for t in traces:
        d = getattr(t.kind, "template_dir", None)
        if d is not None and str(d) not in dirs:
            dirs.append(str(d))
    return tuple(dirs)


@lru_cache(maxsize=8)
def environment(user_dir: str | None = None, kind_dirs: tuple[str, ...] = ()):
    """The environment: a teacher's overrides first, then the built-in
    templates, then the folders of kinds registered from outside."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    loaders = []
    if user_dir:
        loaders.append(jinja2.FileSystemLoader(user_dir))
    loaders.append(jinja2.FileSystemLoader(str(builtin_templates())))
    loaders.extend(jinja2.FileSystemLoader(d) for d in kind_dirs)
    # With --templates the environment is sandboxed: a teacher's override
    # (from a shared folder, so input too) can call our helpers but cannot
    # reach Python's internals.  The built-in templates are part of the
    # program and run without the sandbox's per-attribute checks.
    cls = SandboxedEnvironment if user_dir else jinja2.Environment
    env = cls(
        bytecode_cache=_bytecode_cache(sandboxed=bool(user_dir)),
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        block_start_string="((*",
        block_end_string="*))",
        variable_start_string="(((",
        variable_end_string=")))",
        comment_start_string="((=",
        comment_end_string="=))",
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
        auto_reload=False,
        extensions=["jinja2.ext.do"],
    )
    env.globals["latex_escape"] = latex_escape
    env.globals["md_escape"] = md_escape
    env.filters["latex_escape"] = latex_escape
    env.filters["md_escape"] = md_escape
    env.filters["md_block"] = md_block
    env.filters["toml_comment"] = toml_comment
    env.filters["ucfirst"] = lambda t: str(t)[:1].upper() + str(t)[1:]
    from . import textmath

    env.filters["tsym"] = textmath.sym
    env.filters["tdisplay"] = textmath.display
    env.filters["indent_text"] = textmath.indent
    env.filters["wrap_text"] = textmath.wrap
    env.filters["plain_text"] = textmath.plain
    env.filters["text_width"] = textmath.width
    env.globals["text_table"] = textmath.table
    from ..functions.optimizers import state_symbol

    env.globals["opt_symbol"] = state_symbol
    env.globals["point"] = lambda x, y: f"({float(x):.1f},{float(y):.1f})"
    env.globals["md_image"] = lambda alt, url: f"![{alt}]({url})"
    env.filters["mathml"] = mathml
    env.filters["html_escape"] = html_escape
    env.filters["html_paragraphs"] = html_paragraphs
    env.filters["cloze_escape"] = cloze_escape
    env.filters["moodle_category"] = moodle_category
    env.filters["cdata"] = cdata
    return env
