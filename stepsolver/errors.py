"""Every exception stepsolver raises on purpose.

The command line turns each of them into one line on stderr,
``error: FILE: KEY: what is wrong (what was expected)``, and exits with the
class's ``exit_code``.  Library users catch :class:`StepsolverError`.
"""

from __future__ import annotations


class StepsolverError(Exception):
    """Base class.  ``file`` and ``key`` (a TOML key path such as
    ``layers[2].bias``) say where the fault is, when it has a place."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None):
        super().__init__(message)
        self.message = message
        self.file = file
        self.key = key

    def located(self, file: str) -> "StepsolverError":
        """Attach the file name if none is set yet; returns self."""
        if self.file is None:
            self.file = file
        return self

    def line(self, tr=None) -> str:
        """The one-line message the command line prints: control characters
        from the input (newlines, terminal escape sequences) are shown
        escaped, so the message stays one harmless line.  With ``tr`` (the
        messages of a language, lang.messages) the word "error" and a message
        given as a sentence of the language tables are written in that
        language; a message given as plain text stays as it is."""
        parts = [tr("error.word") if tr is not None else "error"]
        if self.file:
            parts.append(self.file)
        if self.key:
            parts.append(self.key)
        parts.append(tr.text(self.message) if tr is not None else self.message)
        return ": ".join(_printable(p) for p in parts)

    def __str__(self) -> str:
        return self.line()


def _printable(text: str) -> str:
    out = []
    for ch in str(text):
        o = ord(ch)
        if o < 32 or 0x7F <= o < 0xA0 or 0x202A <= o <= 0x202E or 0x2066 <= o <= 0x2069:
            out.append(f"\\x{o:02x}" if o < 256 else f"\\u{o:04x}")
        else:
            out.append(ch)
    return "".join(out)


class InputError(StepsolverError):
    """A problem or answers file is unreadable, malformed or inconsistent:
    TOML syntax, unknown keys, wrong types, shapes that do not fit, values out
    of range.  Raised while loading, before anything is computed."""


class LimitError(InputError):
    """The input is well formed but larger than a documented limit (units,
    parameters, examples, steps, expression size, digits of a number, or the
    size exact values grow to during a solve)."""


class SolveError(InputError):
    """The input is well formed but the mathematics is undefined for it: a log
    of zero or of a negative number in a loss or activation, a division by zero
    in a custom activation.  Names the quantity, example and unit."""


class TimeLimitError(StepsolverError):
    """The time budget (--time-limit) ran out.  Not a LimitError: the handlers
    that turn a limit met in a companion computation (the cost after the update,
    a rounded key, a discarded variant) into a note or a retry must not swallow
    it, whenever the clock happens to stop."""


class RenderError(StepsolverError):
    """A template failed to render (for instance a typo in a teacher's
    template passed with ``--templates``), or an output format is unknown."""


class ToolMissingError(StepsolverError):
    """An external program needed for the requested output (pdflatex for
    ``--format pdf``) is not installed or failed."""


class CrossCheckError(StepsolverError):
    """The exact solve and the independent NumPy recomputation disagree beyond
    what float64 can explain.  This is a bug in stepsolver, never in the
    input; it is reported loudly with exit code 3."""

    exit_code = 3
