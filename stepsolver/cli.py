"""The command line: a thin layer over the library.

It parses arguments, calls the library, writes the output atomically, and
turns every error into one line on stderr with an exit code:

* 0  success (``check``: everything answered is correct)
* 1  ``check`` only: something answered is wrong or carried
* 2  bad input (problem or answers file, arguments), one line naming file and key
* 3  internal error (including a failed NumPy cross-check): a bug, please report
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

EXIT_OK, EXIT_MARKED, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
NOTATIONS = ["default", "ng", "nielsen", "grosse", "netout"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        sys.stderr.write(f"error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_INPUT)


def _digits(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= v <= 30:
        raise argparse.ArgumentTypeError("must be between 0 and 30")
    return v


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = _Parser(
        prog="stepsolver",
        description="Exact, step-by-step worked solutions of backpropagation exercises.",
    )
    parser.add_argument("--version", action="version", version=f"stepsolver {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    solve = sub.add_parser("solve", help="work a problem file step by step")
    solve.add_argument("files", nargs="+", metavar="FILE", help="problem file(s) (TOML); several make one document")
    solve.add_argument("--format", "-f", default="md", choices=["md", "latex", "pdf", "html", "text", "json"], help="output format (default md)")
    solve.add_argument("-o", "--output", metavar="OUT", help="write to OUT (atomically) instead of stdout")
    solve.add_argument("--digits", type=_digits, default=4, help="decimal places of rounded values (default 4)")
    solve.add_argument("--flavor", choices=["plain", "github"], default="plain", help="Markdown flavour: github writes display math as ```math fences")
    solve.add_argument("--detail", choices=["matrix", "element"], default="matrix", help="whole matrices, or entry by entry (z_2 = w_21 x_1 + w_22 x_2 + b_2 = ...)")
    solve.add_argument("--notation", choices=NOTATIONS, default="default", help="symbol names: " + ", ".join(NOTATIONS))
    solve.add_argument("--exact", action="store_true", help="show short closed forms such as 1/(1+e^{-7/10}) for irrational values")
    solve.add_argument("--figures", choices=["auto", "inline", "none"], default="auto", help="the network picture: auto (Markdown: an SVG file beside -o, none on stdout), inline (a data URI), or none")
    solve.add_argument("--templates", metavar="DIR", help="directory of templates overriding the built-in ones")
    solve.add_argument("--time-limit", type=_seconds, default=None, metavar="S", help="seconds one problem may take (default 120; 0: no limit)")
    solve.set_defaults(run=cmd_solve)

    check = sub.add_parser("check", help="mark a hand calculation against the exact solution")
    check.add_argument("problem", metavar="PROBLEM", help="the problem file (TOML)")
    check.add_argument("answers", metavar="ANSWERS", nargs="?", help="the student's answers file (TOML)")
    check.add_argument("--format", "-f", default="text", choices=["md", "text", "json"], help="report format (default text)")
    check.add_argument("-o", "--output", metavar="OUT", help="write to OUT (atomically) instead of stdout")
    check.add_argument("--blank", action="store_true", help="write an empty answers sheet for PROBLEM instead")
    check.add_argument("--rtol", metavar="R", help="accept |given - value| <= atol + R*|value| (replaces the default rule)")
    check.add_argument("--atol", metavar="A", help="absolute tolerance (replaces the default rule)")
    check.add_argument("--sig-figs", type=_sig_figs, metavar="N", help="accept agreement to N significant figures")
    check.add_argument("--digits", type=_digits, default=4, help="decimal places of rounded values shown (default 4)")
    check.add_argument("--templates", metavar="DIR", help="directory of templates overriding the built-in ones")
    check.add_argument("--time-limit", type=_seconds, default=None, metavar="S", help="seconds the check may take (default 120; 0: no limit)")
    check.set_defaults(run=cmd_check)
    return parser


def _seconds(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected whole seconds, got {text!r}") from None
    if v < 0:
        raise argparse.ArgumentTypeError("must be 0 (no limit) or more")
    return v


class time_limit:
    """Stop a problem that runs past its time budget with a clear error
    (SIGALRM, where the platform has it): nothing may just hang."""

    def __init__(self, seconds: int | None, what: str):
        from . import limits

        self.seconds = limits.TIME_LIMIT if seconds is None else seconds
        self.what = what
        self.active = False

    def _expired(self, signum, frame):
        from .errors import LimitError

        raise LimitError(
            f"took longer than {self.seconds} s (--time-limit); the problem is too large for an exact "
            "solve: use fewer examples, units or steps",
            file=self.what,
        )

    def __enter__(self):
        import signal

        if self.seconds and hasattr(signal, "SIGALRM"):
            self.previous = signal.signal(signal.SIGALRM, self._expired)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
            self.active = True
        return self

    def __exit__(self, *exc):
        if self.active:
            import signal

            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
        return False


def _sig_figs(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 1 <= v <= 30:
        raise argparse.ArgumentTypeError("must be between 1 and 30")
    return v


def _rule(args):
    from .check import DefaultRule, SigFigsRule, ToleranceRule
    from .errors import InputError
    from .exact import ZERO
    from .tomlio import parse_number

    if args.sig_figs is not None:
        if args.rtol is not None or args.atol is not None:
            raise InputError("--sig-figs cannot be combined with --rtol or --atol")
        return SigFigsRule(args.sig_figs)
    if args.rtol is None and args.atol is None:
        return DefaultRule()
    tol = {}
    for name in ("rtol", "atol"):
        text = getattr(args, name)
        value = ZERO if text is None else parse_number(text, f"--{name}")
        if value < 0:
            raise InputError(f"--{name}: must be 0 or more, got {text}")
        tol[name] = value
    return ToleranceRule(tol["rtol"], tol["atol"])


def cmd_check(args) -> int:
    from .answers import load_answers
    from .check import check
    from .engine import solve
    from .errors import InputError, StepsolverError
    from .printing import NumberStyle
    from .problem import load_problem
    from .render import RenderOptions, render_blank, render_report

    inputs = [args.problem] + ([args.answers] if args.answers else [])
    _refuse_overwriting_inputs(args.output, inputs)
    options = RenderOptions(style=NumberStyle(digits=args.digits), templates=args.templates)
    with time_limit(args.time_limit, args.problem):
        problem = load_problem(args.problem)
        try:
            trace = solve(problem).trace
        except StepsolverError as exc:
            raise exc.located(args.problem)
    if args.blank:
        if args.answers:
            raise InputError("--blank writes an empty answers sheet: give only the problem file")
        write_output(render_blank(trace, options), args.output)
        return EXIT_OK
    if not args.answers:
        raise InputError("give the answers file to check (or --blank to write an empty one)")
    rule = _rule(args)
    sheet = load_answers(args.answers, trace)
    report = check(trace, sheet, rule)
    write_output(render_report(report, args.format, options), args.output)
    return EXIT_OK if report.ok else EXIT_MARKED


def cmd_solve(args) -> int:
    from .engine import solve
    from .errors import InputError, StepsolverError
    from .printing import NumberStyle
    from .problem import load_problem
    from .render import RenderOptions, render, render_with_files

    _refuse_overwriting_inputs(args.output, args.files)
    if args.templates and not os.path.isdir(args.templates):
        raise InputError("--templates: not a directory", file=args.templates)
    traces = []
    for path in args.files:
        with time_limit(args.time_limit, path):
            problem = load_problem(path)
            try:
                traces.append(solve(problem).trace)
            except StepsolverError as exc:
                raise exc.located(path)
    prefix = None
    figures = args.figures
    if args.output and args.output != "-":
        prefix = os.path.splitext(os.path.basename(args.output))[0]
    elif figures == "auto" and args.format == "md":
        figures = "none"  # no base64 blob in a terminal; -o writes an SVG file, --figures inline embeds it
    options = RenderOptions(
        style=NumberStyle(digits=args.digits, exact=args.exact),
        templates=args.templates,
        flavor=args.flavor,
        detail=args.detail,
        notation=args.notation,
        figures=figures,
        figure_prefix=prefix,
    )
    if args.format == "pdf":
        from .pdf import build_pdf

        if (not args.output or args.output == "-") and sys.stdout.isatty():
            raise InputError("--format pdf writes binary data: give -o FILE.pdf (or redirect stdout)")
        write_output(build_pdf(render(traces, "latex", options)), args.output)
        return EXIT_OK
    text, files = render_with_files(traces, args.format, options)
    if args.output and args.output != "-":
        directory = os.path.dirname(os.path.abspath(args.output))
        for name, content in files.items():
            write_output(content, os.path.join(directory, name))
    write_output(text, args.output)
    return EXIT_OK


def _refuse_overwriting_inputs(output: str | None, inputs) -> None:
    from .errors import InputError

    if not output or output == "-":
        return
    out = os.path.realpath(output)
    for path in inputs:
        if os.path.exists(path) and os.path.realpath(path) == out:
            raise InputError("refusing to overwrite an input file with the output", file=output)
    if os.path.isdir(output):
        raise InputError("is a directory; give a file name for the output", file=output)


def write_output(text: str | bytes, output: str | None) -> None:
    """stdout, or a file replaced only once the whole text is written."""
    binary = isinstance(text, bytes)
    if not output or output == "-":
        if binary:
            sys.stdout.buffer.write(text)
        else:
            sys.stdout.write(text)
        sys.stdout.flush()
        return
    from .errors import InputError

    directory = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(directory):
        raise InputError("the output's directory does not exist", file=output)
    fd, tmp = tempfile.mkstemp(prefix=".stepsolver-", suffix=".tmp", dir=directory)
    try:
        with (os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8", newline="\n")) as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if os.path.exists(output):
            try:
                os.chmod(tmp, os.stat(output).st_mode & 0o777)
            except OSError:
                pass
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, output)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .errors import StepsolverError

    try:
        return args.run(args)
    except StepsolverError as exc:
        sys.stderr.write(exc.line() + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`); nothing more to say
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK
    except RecursionError:
        sys.stderr.write("error: input nested too deeply to process\n")
        return EXIT_INPUT
    except MemoryError:
        sys.stderr.write("error: out of memory: the input is too large\n")
        return EXIT_INPUT
    except OSError as exc:
        name = getattr(exc, "filename", None)
        where = f"{name}: " if name else ""
        sys.stderr.write(f"error: {where}{exc.strerror or exc}\n")
        return EXIT_INPUT
    except Exception as exc:  # a bug: still one line, never a traceback
        msg = str(exc).replace("\n", " ")[:300]
        sys.stderr.write(
            f"error: internal error ({type(exc).__name__}: {msg}); this is a bug in stepsolver, please report it\n"
        )
        if os.environ.get("STEPSOLVER_DEBUG"):
            raise
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
