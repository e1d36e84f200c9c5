"""The command line: a thin layer over the library.

It parses arguments, calls the library, writes the output atomically, and
turns every error into one line on stderr with an exit code:

* 0  success (``check``: everything answered is correct)
* 1  ``check`` only: something answered is wrong or carried
* 2  bad input (problem or answers file, arguments), one line naming file and key
* 3  internal error (including a failed NumPy cross-check): a bug, please report

Size: about 440 lines, nearly all of them the argument tables and their help
texts of solve, check and generate; the work is done in the library.
"""

from __future__ import annotations

import argparse
import os
import sys

from .output import Progress, write_output

EXIT_OK, EXIT_MARKED, EXIT_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
NOTATIONS = ["default", "ng", "nielsen", "grosse", "netout"]
GRAPH_NOTATIONS = ["bar", "partial", "cs231n"]  # and ng; "default" is bar for a graph


def _whole(low: int, high: int, zero_means: str = ""):
    """An argparse type: a whole number from low to high."""

    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= v <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}{zero_means}")
        return v

    return parse


_digits = _whole(0, 30)
_places = _whole(0, 10)
_seconds = _whole(0, 86_400, " (0: no limit)")
_sig_figs = _whole(1, 30)


def _lang(text: str) -> str:
    """An argparse type: a language of stepsolver/lang/ (en, ko)."""
    from .lang import languages

    if text not in languages():
        raise argparse.ArgumentTypeError(f"unknown language {text!r} (known: {', '.join(languages())})")
    return text


_LANG_HELP = "language of the prose: en (default) or ko (한국어); symbols and numbers are the same in every language"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2
        sys.stderr.write(f"error: {message} (see '{self.prog} --help')\n")
        raise SystemExit(EXIT_INPUT)


#: options whose value may start with a minus sign (a range from a negative number)
_RANGE_OPTIONS = ("--weight-range", "--input-range", "--target-range", "--weight-step", "--input-step",
                  "--target-step", "--learning-rate", "--tolerance", "--rtol", "--atol")


def _join_negative_values(argv: list[str]) -> list[str]:
    """``--weight-range -3,3`` as users type it: argparse would read ``-3,3``
    as an unknown option, so such a value is joined to its option
    (``--weight-range=-3,3``) before parsing."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        if a in _RANGE_OPTIONS and i + 1 < len(argv) and argv[i + 1].startswith("-") and argv[i + 1][1:2] in "0123456789.,":
            out.append(f"{a}={argv[i + 1]}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out


def build_parser() -> argparse.ArgumentParser:
    from .version import __version__

    parser = _Parser(
        prog="stepsolver",
        description="Exact, step-by-step worked solutions of backpropagation exercises.",
    )
    parser.add_argument("--version", action="version", version=f"stepsolver {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    solve = sub.add_parser("solve", help="work a problem file step by step")
    solve.add_argument("files", nargs="+", metavar="FILE", help="problem file(s) (TOML); several make one document")
    solve.add_argument("--format", "-f", default="md", choices=["md", "latex", "pdf", "html", "text", "json", "moodle", "qti", "csv", "numbas", "prairielearn"], help="output format (default md); qti: a QTI 1.2 zip for Canvas; numbas: a Numbas .exam with adaptive marking; prairielearn: questions/<qid>/ folders under the directory -o")
    solve.add_argument("-o", "--output", metavar="OUT", help="write to OUT (atomically) instead of stdout")
    solve.add_argument("--digits", type=_digits, default=4, help="decimal places of rounded values (default 4)")
    solve.add_argument("--flavor", choices=["plain", "github"], default="plain", help="Markdown flavour: github writes display math as ```math fences")
    solve.add_argument("--tolerance", metavar="T", default=None, help="absolute tolerance of Moodle answers (default 1%% of the value, at least 0.005)")
    solve.add_argument("--round", type=_places, default=None, metavar="N", help="also show the key of a student who rounds every value to N decimals")
    solve.add_argument("--sheet", choices=["answers", "questions", "both"], default="answers", help="the worked solutions (default), the exercise sheet without answers, or both")
    solve.add_argument("--detail", choices=["matrix", "element"], default="matrix", help="whole matrices, or entry by entry (z_2 = w_21 x_1 + w_22 x_2 + b_2 = ...)")
    solve.add_argument("--notation", choices=NOTATIONS + GRAPH_NOTATIONS, default="default",
                       help="symbol names: " + ", ".join(NOTATIONS) + " (networks); bar, partial, cs231n, ng (graphs)")
    solve.add_argument("--exact", action="store_true", help="show short closed forms such as 1/(1+e^{-7/10}) for irrational values")
    solve.add_argument("--figures", choices=["auto", "inline", "none"], default="auto", help="the network picture: auto (Markdown: an SVG file beside -o, none on stdout), inline (a data URI), or none")
    solve.add_argument("--lang", type=_lang, default="en", metavar="LANG", help=_LANG_HELP)
    solve.add_argument("--templates", metavar="DIR", help="directory of templates overriding the built-in ones")
    solve.add_argument("--time-limit", type=_seconds, default=None, metavar="S", help="seconds one problem may take (default 120; 0: no limit)")
    solve.set_defaults(run=cmd_solve)

    gen = sub.add_parser("generate", help="write distinct variants of an exercise, one problem file each")
    gen.add_argument("--layers", metavar="N0,N1,...", help="units per layer, inputs first: 2,3,2 (networks)")
    gen.add_argument("--from", dest="source", metavar="GRAPH.toml", help="a computation-graph problem to make variants of")
    gen.add_argument("--vary", metavar="NAME[,NAME...]", help="with --from: the leaves to vary (default: every input and constant)")
    gen.add_argument("--activation", default="sigmoid", metavar="NAME[,NAME...]", help="one activation for every layer, or one per layer (default sigmoid)")
    gen.add_argument("--loss", default="half_sse", help="the loss (default half_sse)")
    gen.add_argument("--learning-rate", default="0.1", metavar="ETA", help="learning rate (default 0.1)")
    gen.add_argument("--batch-size", type=int, default=1, metavar="M", help="examples per problem (default 1)")
    gen.add_argument("--batch", choices=["mean", "sum"], default="mean", help="how the losses of a batch combine (default mean)")
    gen.add_argument("--update", choices=["batch", "online"], default="batch")
    gen.add_argument("--steps", type=int, default=1, help="passes over the examples (default 1)")
    gen.add_argument("--weight-range", default="-2,2", metavar="LO,HI", help="range of weights and biases (default -2,2)")
    gen.add_argument("--weight-step", default=None, metavar="S", help="spacing of weights and biases (default 1; 0.5 with sigmoid, tanh or softmax)")
    gen.add_argument("--input-range", default="-2,2", metavar="LO,HI", help="range of inputs (default -2,2)")
    gen.add_argument("--input-step", default="1", metavar="S", help="spacing of inputs (default 1)")
    gen.add_argument("--target-range", default=None, metavar="LO,HI", help="range of targets (default: fitted to the output activation and loss)")
    gen.add_argument("--target-step", default="1", metavar="S")
    gen.add_argument("--optimizer", default=None, metavar="NAME[,KEY=VALUE...]",
                     help="the update rule of every variant: sgd (default), momentum, nesterov, adagrad, rmsprop or adam, "
                          "with settings as in [optimizer], e.g. adam,beta1=0.8 or momentum,momentum=0.5 (networks)")
    gen.add_argument("--allow-kinks", action="store_true", help="allow a relu pre-activation of exactly 0")
    gen.add_argument("--decimals", type=_whole(1, 12), default=4, metavar="D", help="every nonzero update must show at D decimals (default 4)")
    gen.add_argument("--count", type=int, default=30, help="how many variants (default 30)")
    gen.add_argument("--seed", type=int, default=0, help="the same seed gives the same files, byte for byte")
    gen.add_argument("--out", required=True, metavar="DIR", help="directory for the problem files")
    gen.add_argument("--name", default="variant", help="file name prefix (default variant: DIR/variant-01.toml ...)")
    gen.add_argument("--title", default=None, help="title of each variant (default: 'Backpropagation exercise', in --lang)")
    gen.add_argument("--lang", type=_lang, default="en", metavar="LANG", help="language of the variants' titles and descriptions: en (default) or ko")
    gen.set_defaults(run=cmd_generate)

    check = sub.add_parser("check", help="mark a hand calculation against the exact solution")
    check.add_argument("problem", metavar="PROBLEM", nargs="?", help="the problem file (TOML)")
    check.add_argument("answers", metavar="ANSWERS", nargs="?", help="the student's answers file (TOML)")
    check.add_argument("--format", "-f", default=None, choices=["md", "text", "json", "html", "gradescope"],
                       help="report format (default text; md with --roster); gradescope: Gradescope's results.json")
    check.add_argument("--roster", metavar="ROSTER.csv", help="mark a whole class: a CSV with the columns student,problem,answers "
                       "(paths relative to it); -o OUT gets gradebook.csv and feedback/STUDENT.md")
    check.add_argument("-o", "--output", metavar="OUT", help="write to OUT (atomically) instead of stdout")
    check.add_argument("--blank", action="store_true", help="write an empty answers sheet for PROBLEM instead")
    check.add_argument("--rtol", metavar="R", help="accept |given - value| <= atol + R*|value| (replaces the default rule)")
    check.add_argument("--atol", metavar="A", help="absolute tolerance (replaces the default rule)")
    check.add_argument("--sig-figs", type=_sig_figs, metavar="N", help="accept agreement to N significant figures")
    check.add_argument("--digits", type=_digits, default=4, help="decimal places of rounded values shown (default 4)")
    check.add_argument("--lang", type=_lang, default="en", metavar="LANG", help=_LANG_HELP)
    check.add_argument("--templates", metavar="DIR", help="directory of templates overriding the built-in ones")
    check.add_argument("--time-limit", type=_seconds, default=None, metavar="S", help="seconds the check may take (default 120; 0: no limit)")
    check.set_defaults(run=cmd_check)

    practice = sub.add_parser("practice", help="a local practice page: type a hand calculation, check it entry by entry")
    practice.add_argument("paths", nargs="*", metavar="PROBLEM.toml|DIR",
                          help="problem files, or folders of them (default: the current folder)")
    practice.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 serves a class)")
    practice.add_argument("--port", type=_whole(0, 65535), default=0, help="port (default 0: a free one)")
    practice.add_argument("--no-browser", dest="browser", action="store_false", help="do not open a browser")
    practice.add_argument("--lang", type=_lang, default="en", metavar="LANG", help=_LANG_HELP)
    practice.add_argument("--workers", type=_whole(1, 64), default=None, metavar="N",
                          help="worker processes that mark sheets (default: the cores, at most 4)")
    practice.add_argument("--time-limit", type=_seconds, default=None, metavar="S", help="seconds one check may take (default 120)")
    practice.set_defaults(run=cmd_practice)
    return parser


def cmd_practice(args) -> int:
    from .workbook.server import serve

    return serve(args.paths or ["."], host=args.host, port=args.port, lang=args.lang, browser=args.browser,
                 workers=args.workers, time_limit=args.time_limit)


_FLAGS = {
    "learning_rate": "--learning-rate", "loss": "--loss", "activation": "--activation", "steps": "--steps",
    "examples": "--batch-size", "layers": "--layers", "batch": "--batch", "update": "--update",
}


def cmd_generate(args) -> int:
    import re

    from .errors import InputError, StepsolverError
    from .generate import generate, variant_spec, write_variants

    if args.source is None and args.layers is None:
        raise InputError("give --layers (a network) or --from GRAPH.toml (a computation graph)", key="--layers")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        raise InputError("exists and is not a directory", file=args.out)
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,60}", args.name):
        raise InputError("use letters, digits, '-', '_' or '.'", key="--name")
    options = dict(vars(args))
    options["title"] = None if args.title is None else args.title.replace('"', "'").replace("\\", "/")
    options["optimizer"] = _optimizer_option(args.optimizer)
    # the command that made the files (a file varied by --from: its kind writes it)
    options["command"] = _generate_command(args) if args.source is None else None
    try:
        kind, spec = variant_spec(options)
        texts = generate(spec, args.count, args.seed, progress=Progress(args.count, "generating"), kind=kind)
    except StepsolverError as exc:
        if exc.file in (None, "generated") or (exc.file or "").startswith("variant"):
            exc.file = None
            head = (exc.key or "").split(".")[-1].split("[")[0]
            exc.key = _FLAGS.get(head, exc.key)
        raise
    paths = write_variants(texts, args.out, args.name)
    from .lang import messages

    tr = messages(args.lang)
    sys.stderr.write(tr("summary.generated", count=len(paths), folder=os.path.normpath(args.out),
                        first=os.path.basename(paths[0]), last=os.path.basename(paths[-1])) + "\n")
    return EXIT_OK


def _optimizer_option(text):
    """--optimizer NAME[,KEY=VALUE...] as the lines of an [optimizer] table
    (checked as a problem file's table is), or None for plain descent."""
    import re

    from .errors import InputError
    from .functions import optimizers
    from .tomlio import parse_toml_bytes

    if text is None:
        return None
    parts = [p.strip() for p in text.split(",")]
    lines = [f'name = "{parts[0]}"']
    if not re.fullmatch(r"[a-z]{1,20}", parts[0]):
        raise InputError(f"expected an optimizer name such as adam, got {parts[0]!r}", key="--optimizer")
    for part in parts[1:]:
        m = re.fullmatch(r"([a-z_0-9]{1,20})\s*=\s*([-+0-9.eE/]{1,30}|true|false)", part)
        if not m:
            raise InputError(f"expected KEY=VALUE such as beta1=0.8, got {part!r}", key="--optimizer")
        value = m.group(2)
        lines.append(f"{m.group(1)} = {value if re.fullmatch(r'[-+0-9.eE]+|true|false', value) else chr(34) + value + chr(34)}")
    try:
        table = parse_toml_bytes(("\n".join(lines) + "\n").encode(), "--optimizer")
    except InputError as exc:
        raise InputError(f"cannot read {text!r}: {exc.message}", key="--optimizer") from None
    try:
        opt = optimizers.read(table, "optimizer")
    except InputError as exc:
        raise InputError(exc.message, key="--optimizer") from None
    return None if opt.plain else tuple(lines)


def _generate_command(args) -> str:
    """The options that define the exercise (not where the files go)."""
    parts = ["stepsolver generate", f"--layers {args.layers}", f"--activation {_quote(args.activation)}",
             f"--loss {args.loss}", f"--learning-rate {args.learning_rate}"]
    optional = [("--batch-size", args.batch_size, 1), ("--batch", args.batch, "mean"), ("--update", args.update, "batch"),
                ("--steps", args.steps, 1), ("--weight-range", args.weight_range, "-2,2"), ("--weight-step", args.weight_step, None),
                ("--input-range", args.input_range, "-2,2"), ("--input-step", args.input_step, "1"),
                ("--target-range", args.target_range, None), ("--target-step", args.target_step, "1"),
                ("--optimizer", args.optimizer, None)]
    parts += [f"{flag} {_quote(str(v))}" for flag, v, default in optional if v != default]
    if args.allow_kinks:
        parts.append("--allow-kinks")
    if args.decimals != 4:
        parts.append(f"--decimals {args.decimals}")
    parts += [f"--count {args.count}", f"--seed {args.seed}"]
    return "generated by: " + " ".join(parts)


def _quote(arg: str) -> str:
    import shlex

    return shlex.quote(arg)


def _tolerance(text):
    if text is None:
        return None
    from .errors import InputError
    from .tomlio import parse_number

    v = parse_number(text, "--tolerance")
    if v <= 0:
        raise InputError("must be greater than 0", key="--tolerance")
    return v


def time_limit(seconds, what):
    from .solution import time_limit as limit

    return limit(seconds, what)


def _rule(args):
    from .marking.rules import DefaultRule, SigFigsRule, ToleranceRule
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
    from .errors import InputError, StepsolverError
    from . import load_problem
    from .render import RenderOptions, render_blank, render_report
    from .render.numbers import NumberStyle
    from .solution import check, load_answers, solve

    if args.roster:
        return _check_roster(args)
    if not args.problem:
        raise InputError("give the problem file (or --roster ROSTER.csv to mark a class)")
    args.format = args.format or "text"
    inputs = [args.problem] + ([args.answers] if args.answers else [])
    _refuse_overwriting_inputs(args.output, inputs)
    options = RenderOptions(style=NumberStyle(digits=args.digits), templates=args.templates, lang=args.lang)
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


def _check_roster(args) -> int:
    """check --roster ROSTER.csv -o OUT: a whole class in one process."""
    from .errors import InputError
    from .render import RenderOptions
    from .render.numbers import NumberStyle
    from .roster import mark_class, read_roster

    if args.problem or args.answers:
        raise InputError("--roster names each student's problem and answers: give no PROBLEM or ANSWERS")
    if args.blank:
        raise InputError("--blank and --roster cannot be combined")
    if not args.output or args.output == "-":
        raise InputError("--roster writes a gradebook and feedback files: give -o OUT (a directory)")
    if os.path.exists(args.output) and not os.path.isdir(args.output):
        raise InputError("exists and is not a directory", file=args.output)
    options = RenderOptions(style=NumberStyle(digits=args.digits), templates=args.templates, lang=args.lang)
    rule = _rule(args)
    rows = mark_class(args.roster, args.output, rule=rule, fmt=args.format or "md", options=options,
                      progress=Progress(len(read_roster(args.roster)), "marking"))
    errors = sum(1 for r in rows if r.error)
    full = sum(1 for r in rows if not r.error and r.percent == 100.0)
    from .lang import messages

    tr = messages(args.lang)
    sys.stderr.write(tr("summary.marked", done=len(rows) - errors, total=len(rows), full=full, errors=errors,
                        book=os.path.join(os.path.normpath(args.output), "gradebook.csv")) + "\n")
    return EXIT_OK


def cmd_solve(args) -> int:
    from .errors import InputError, StepsolverError
    from . import load_problem
    from .render import RenderOptions, render, render_with_files
    from .render.numbers import NumberStyle
    from .solution import solve

    if args.format == "prairielearn":
        if not args.output or args.output == "-":
            raise InputError("--format prairielearn writes question folders: give -o DIR (the course directory)")
        if os.path.exists(args.output) and not os.path.isdir(args.output):
            raise InputError("--format prairielearn: -o must be a directory (the course directory)", file=args.output)
    else:
        _refuse_overwriting_inputs(args.output, args.files)
    if args.templates and not os.path.isdir(args.templates):
        raise InputError("--templates: not a directory", file=args.templates)
    traces = []
    progress = Progress(len(args.files), "solving")
    for k, path in enumerate(args.files, 1):
        progress(k - 1)
        with time_limit(args.time_limit, path):
            problem = load_problem(path)
            try:
                traces.append(solve(problem, round_places=args.round).trace)
            except StepsolverError as exc:
                raise exc.located(path)
    progress(len(args.files))
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
        sheet=args.sheet,
        notation=args.notation,
        figures=figures,
        figure_prefix=prefix,
        tolerance=_tolerance(args.tolerance),
        lang=args.lang,
    )
    if args.format == "qti":
        from .render import render_qti

        if (not args.output or args.output == "-") and sys.stdout.isatty():
            raise InputError("--format qti writes a zip file: give -o FILE.zip (or redirect stdout)")
        with time_limit(args.time_limit, "rendering"):
            write_output(render_qti(traces, options), args.output)
        return EXIT_OK
    if args.format == "prairielearn":
        from .render import render_prairielearn

        with time_limit(args.time_limit, "rendering"):
            files = render_prairielearn(traces, options)
        for name, content in files.items():
            path = os.path.join(args.output, *name.split("/"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            write_output(content, path)
        return EXIT_OK
    if args.format == "numbas":
        from .render import render_numbas

        with time_limit(args.time_limit, "rendering"):
            write_output(render_numbas(traces, options), args.output)
        return EXIT_OK
    if args.format == "pdf":
        from .render.pdf import build_pdf

        if (not args.output or args.output == "-") and sys.stdout.isatty():
            raise InputError("--format pdf writes binary data: give -o FILE.pdf (or redirect stdout)")
        with time_limit(args.time_limit, "rendering"):
            latex = render(traces, "latex", options)
        write_output(build_pdf(latex), args.output)
        return EXIT_OK
    with time_limit(args.time_limit, "rendering"):
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


def main(argv: list[str] | None = None) -> int:
    import gc

    # A solve builds many small objects and almost no reference cycles: with
    # the default thresholds the cyclic collector walks the whole growing
    # heap again and again (15-20 % of a 200-problem run).  Collect rarely.
    gc.set_threshold(100_000, 50, 100)
    parser = build_parser()
    args = parser.parse_args(_join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    from .errors import StepsolverError
    from .lang import messages

    tr = messages(getattr(args, "lang", None) or "en")

    def say(key, **params):
        sys.stderr.write(f"{tr('error.word')}: {tr(key, **params)}\n")

    try:
        return args.run(args)
    except StepsolverError as exc:
        sys.stderr.write(exc.line(tr) + "\n")
        return exc.exit_code
    except KeyboardInterrupt:
        say("error.interrupted")
        return 130
    except BrokenPipeError:
        # the reader went away (e.g. `| head`); nothing more to say
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        return EXIT_OK
    except RecursionError:
        say("error.nested")
        return EXIT_INPUT
    except MemoryError:
        say("error.memory")
        return EXIT_INPUT
    except ModuleNotFoundError as exc:
        package = {"flint": "python-flint"}.get(exc.name or "", exc.name)
        say("error.package", package=package)
        return EXIT_INPUT
    except OSError as exc:
        name = getattr(exc, "filename", None)
        where = f"{name}: " if name else ""
        sys.stderr.write(f"{tr('error.word')}: {where}{exc.strerror or exc}\n")
        return EXIT_INPUT
    except Exception as exc:  # a bug: still one line, never a traceback
        msg = str(exc).replace("\n", " ")[:300]
        say("error.internal", detail=f"{type(exc).__name__}: {msg}")
        if os.environ.get("STEPSOLVER_DEBUG"):
            raise
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
