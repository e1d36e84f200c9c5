"""Writing results: atomically to files, and a progress bar for long runs."""

from __future__ import annotations

import os
import sys
import tempfile


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


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a
    terminal (never in pipes, logs or CI), and only for runs of several items."""

    def __init__(self, total: int, label: str, stream=None):
        self.total = total
        self.label = label
        self.stream = stream or sys.stderr
        try:
            self.active = total > 1 and self.stream.isatty()
        except (AttributeError, ValueError):
            self.active = False

    def __call__(self, done: int, total: int | None = None) -> None:
        if not self.active:
            return
        total = total or self.total
        width = 30
        filled = int(width * done / total)
        self.stream.write(f"\r{self.label} [{'#' * filled}{' ' * (width - filled)}] {done}/{total}")
        if done >= total:
            self.stream.write("\n")
        self.stream.flush()
