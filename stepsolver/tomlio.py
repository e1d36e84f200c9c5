"""Reading TOML input safely, and turning its values into exact numbers.

Everything here raises :class:`InputError` with the TOML key path of the
fault; the caller attaches the file name.  Floats are never read as binary
floats: ``tomllib`` hands us the literal text and we read it exactly.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from typing import Any, Iterable

from . import limits
from .lang import Text
from .errors import InputError, LimitError
from .exact import Q


class FloatText(str):
    """The literal text of a TOML float, e.g. ``0.01`` or ``1e-3``."""


def read_toml(path: str | os.PathLike, *, label: str | None = None) -> dict:
    """Read and parse a TOML file, refusing missing files, directories, files
    that are not UTF-8 or are too large.  Errors carry ``label`` (default: the
    path as given) as their file name."""
    name = label or os.fspath(path)
    try:
        st = os.stat(path)
        if stat.S_ISDIR(st.st_mode):
            raise InputError(Text("error.is_directory"), file=name)
        if not stat.S_ISREG(st.st_mode):
            # a FIFO, socket or device would block or never end
            raise InputError(Text("error.not_regular"), file=name)
        size = st.st_size
        if size > limits.MAX_FILE_BYTES:
            raise LimitError(
                f"file is {size} bytes, larger than the limit of {limits.MAX_FILE_BYTES}",
                file=name,
            )
        with open(path, "rb") as fh:
            raw = fh.read(limits.MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError(Text("error.no_such_file"), file=name) from None
    except PermissionError:
        raise InputError(Text("error.permission_denied"), file=name) from None
    except IsADirectoryError:
        raise InputError(Text("error.is_directory"), file=name) from None
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror or exc})", file=name) from None
    if len(raw) > limits.MAX_FILE_BYTES:
        raise LimitError(f"file is larger than the limit of {limits.MAX_FILE_BYTES} bytes", file=name)
    return parse_toml_bytes(raw, name)


def parse_toml_bytes(raw: bytes, name: str) -> dict:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(Text("error.not_utf8", line=line), file=name) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\x00" in text:
        raise InputError(Text("error.nul_byte"), file=name)
    try:
        return tomllib.loads(text, parse_float=FloatText)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(Text("error.toml_syntax", detail=str(exc)), file=name) from None
    except ValueError as exc:  # e.g. an integer past Python's digit limit
        msg = str(exc)
        if "digits" in msg:
            raise LimitError(
                f"a number has too many digits (at most {limits.MAX_DIGITS} significant digits)", file=name
            ) from None
        raise InputError(Text("error.toml_syntax", detail=msg), file=name) from None
    except RecursionError:
        raise InputError("TOML syntax: values nested too deeply", file=name) from None


# ---------------------------------------------------------------- key paths
def key_join(base: str, key: str | int) -> str:
    """``layers[2]`` + ``bias`` -> ``layers[2].bias``; ints are 1-based indices."""
    if isinstance(key, int):
        return f"{base}[{key}]"
    return f"{base}.{key}" if base else key


def describe(value: Any) -> str:
    """A short human description of a TOML value, for messages."""
    if isinstance(value, bool):
        return Text("error.describe.boolean", value=str(value).lower())
    if isinstance(value, FloatText):
        return str(value)
    if isinstance(value, int):
        s = str(value)
        return s if len(s) <= 20 else s[:8] + f"... ({len(s)} digits)"
    if isinstance(value, str):
        s = value if len(value) <= 24 else value[:21] + "..."
        return Text("error.describe.text", text=repr(s))
    if isinstance(value, list):
        return Text("error.describe.list", count=len(value))
    if isinstance(value, dict):
        return Text("error.describe.table")
    return f"a {type(value).__name__.replace('datetime', 'date/time')}"


def check_keys(table: dict, allowed: Iterable[str], where: str) -> None:
    """Refuse unknown keys, suggesting the nearest known one."""
    allowed = list(allowed)
    for key in table:
        if key not in allowed:
            path = key_join(where, key)
            near = nearest(key, allowed)
            if near:
                raise InputError(Text("error.unknown_key_near", near=near[0]), key=path)
            raise InputError(Text("error.unknown_key", known=", ".join(allowed)), key=path)


def nearest(word: str, known: list[str]) -> list[str]:
    """The known name a misspelling most likely meant (case first)."""
    same_case = [k for k in known if k.lower() == word.lower()]
    if same_case:
        return same_case[:1]
    return difflib.get_close_matches(word, known, n=1, cutoff=0.6)


def expect_table(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise InputError(Text("error.expected_table", got=describe(value)), key=where)
    return value


def expect_table_list(value: Any, where: str) -> list[dict]:
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise InputError(
            f"expected an array of tables ([[{where}]] sections), got {describe(value)}", key=where
        )
    return value


# ------------------------------------------------------------------ numbers
_DEC = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_DEC_RE = re.compile(rf"^{_DEC}$")
_FRAC_RE = re.compile(rf"^({_DEC})\s*/\s*({_DEC})$")
_DEC_PARTS = re.compile(r"^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$")


def _decimal_exact(text: str, where: str, shown: str):
    m = _DEC_PARTS.match(text)
    if not m or not (m.group(2) or m.group(3)):
        raise InputError(Text("error.expected_number", got=shown), key=where)
    sign, ip, fp, ex = m.group(1), m.group(2) or "", m.group(3) or "", m.group(4)
    digits = (ip + fp).lstrip("0")
    if len(digits.rstrip("0")) > limits.MAX_DIGITS:
        raise LimitError(
            f"{shown} has more than {limits.MAX_DIGITS} significant digits", key=where
        )
    if ex is not None:
        if len(ex.lstrip("+-").lstrip("0")) > 4:
            raise LimitError(f"{shown} is out of range (|x| must be at most 1e{limits.MAX_DECIMAL_EXPONENT})", key=where)
        e = int(ex)
    else:
        e = 0
    e -= len(fp)
    n = int(ip + fp) if (ip + fp) else 0
    if n == 0:
        return Q(0)
    # magnitude check on the written value: n * 10**e
    mag = len(str(n)) - 1 + e  # floor(log10 |x|)
    if mag >= limits.MAX_DECIMAL_EXPONENT or (mag == limits.MAX_DECIMAL_EXPONENT and n > 1):
        raise LimitError(f"{shown} is out of range (|x| must be at most 1e{limits.MAX_DECIMAL_EXPONENT})", key=where)
    if mag < -limits.MAX_DECIMAL_EXPONENT:
        raise LimitError(
            f"{shown} is out of range (nonzero |x| must be at least 1e-{limits.MAX_DECIMAL_EXPONENT})", key=where
        )
    if sign == "-":
        n = -n
    return Q(n * 10**e) if e >= 0 else Q(n, 10**-e)


def parse_number(value: Any, where: str):
    """An exact rational from a TOML integer, a TOML float (read as written)
    or a string holding an integer, decimal or fraction."""
    if isinstance(value, bool):
        raise InputError(Text("error.expected_number", got=describe(value)), key=where)
    if isinstance(value, FloatText):
        text = value.replace("_", "")
        low = text.lstrip("+-")
        if low in ("inf", "nan"):
            raise InputError(Text("error.expected_finite", got=value), key=where)
        return _decimal_exact(text, where, str(value))
    if isinstance(value, int):
        if value.bit_length() > 140:
            raise LimitError(
                f"{describe(value)} is out of range (|x| must be at most 1e{limits.MAX_DECIMAL_EXPONENT})", key=where
            )
        return _decimal_exact(str(value), where, str(value))
    if isinstance(value, str):
        text = value.strip()
        if len(text) > 2 * limits.MAX_DIGITS + 20:
            raise LimitError(f"number text is too long ({len(text)} characters)", key=where)
        low = text.lower().lstrip("+-")
        if low in ("inf", "infinity", "nan"):
            raise InputError(Text("error.expected_finite", got=describe(value)), key=where)
        if _DEC_RE.match(text):
            return _decimal_exact(text, where, repr(value))
        m = _FRAC_RE.match(text)
        if m:
            num = _decimal_exact(m.group(1), where, repr(value))
            den = _decimal_exact(m.group(2), where, repr(value))
            if not den:
                raise InputError(f"{value!r} divides by zero", key=where)
            return num / den
        raise InputError(Text("error.expected_number_text", got=describe(value)), key=where)
    raise InputError(Text("error.expected_number", got=describe(value)), key=where)


def _count(n: int, why: str = "") -> str:
    return f"{n} number{'' if n == 1 else 's'}{why}"


def parse_vector(value: Any, where: str, length: int | None = None, *, why: str = "") -> list:
    """A list of numbers; a bare number is a list of one.  ``length`` is the
    expected count (None: any positive count); ``why`` explains it."""
    if isinstance(value, list):
        items = value
    elif isinstance(value, (int, str)) and not isinstance(value, bool) or isinstance(value, FloatText):
        items = [value]
        if length is not None and length != 1:
            raise InputError(f"expected {_count(length, why)}, got a single number", key=where)
    else:
        raise InputError(Text("error.expected_list", got=describe(value)), key=where)
    if length is not None and len(items) != length:
        raise InputError(f"expected {_count(length, why)}, got {len(items)}", key=where)
    if not items:
        raise InputError(Text("error.empty_list"), key=where)
    out = []
    for i, v in enumerate(items, 1):
        if isinstance(v, (list, dict)):
            raise InputError(f"expected a number, got {describe(v)} (a nested list where a number belongs)", key=f"{where}[{i}]")
        out.append(parse_number(v, f"{where}[{i}]"))
    return out


def parse_matrix(value: Any, where: str, *, cols: int | None = None, rows: int | None = None) -> list[list]:
    """A list of rows, each a list of numbers, all of one length.  A flat list
    of numbers is accepted as a single row, and a bare number as 1 x 1."""
    if not isinstance(value, list):
        if isinstance(value, (int, str)) or isinstance(value, FloatText):
            value = [[value]]
        else:
            raise InputError(Text("error.expected_matrix", got=describe(value)), key=where)
    if not value:
        raise InputError(Text("error.empty_matrix"), key=where)
    if all(not isinstance(v, (list, dict)) for v in value):
        value = [value]  # one row written flat
    if not all(isinstance(r, list) for r in value):
        raise InputError(
            "mixes numbers and rows; write every row as a list, e.g. [[1, 2], [3, 4]]", key=where
        )
    width = len(value[0])
    for i, r in enumerate(value, 1):
        if len(r) != width:
            raise InputError(
                f"ragged matrix: row {i} has {len(r)} numbers, row 1 has {width}", key=where
            )
    if rows is not None and len(value) != rows:
        raise InputError(Text("error.rows", rows=rows, got=len(value)), key=where)
    if cols is not None and width != cols:
        raise InputError(Text("error.cols", cols=cols, got=width), key=where)
    return [parse_vector(r, f"{where}[{i}]") for i, r in enumerate(value, 1)]


def parse_string(value: Any, where: str) -> str:
    if not isinstance(value, str) or isinstance(value, FloatText):
        raise InputError(Text("error.expected_text", got=describe(value)), key=where)
    return value


def parse_bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise InputError(Text("error.expected_bool", got=describe(value)), key=where)
    return value


def parse_int(value: Any, where: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or isinstance(value, FloatText):
        raise InputError(Text("error.expected_whole", got=describe(value)), key=where)
    if value < low:
        raise InputError(Text("error.at_least", low=low, got=value), key=where)
    if value > high:
        raise LimitError(f"{describe(value)} is above the limit of {high}", key=where)
    return value


def choose(value: Any, where: str, choices: dict[str, Any], what: str):
    """One of a fixed set of names (with a did-you-mean)."""
    name = parse_string(value, where)
    if name in choices:
        return choices[name]
    near = nearest(name, list(choices))
    hint = f"did you mean '{near[0]}'? " if near else ""
    shown = name if len(name) <= 30 else name[:27] + "..."
    raise InputError(Text("error.unknown_choice", what=what, shown=repr(shown), hint=hint, known=", ".join(choices)), key=where)
