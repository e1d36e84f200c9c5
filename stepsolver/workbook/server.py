"""``stepsolver practice``: the local practice page and its JSON API.

Built on Starlette (ASGI routing, requests and responses) served by uvicorn
(HTTP/1.1 parsing, keep-alive, graceful shutdown on Ctrl-C): both small,
pure Python, maintained by the Encode team and used by FastAPI, so no HTTP is
parsed by hand here.  Starlette over Flask/werkzeug because its requests are
streamed (the body limit is enforced while reading, not after) and its async
handlers let a slow check wait in the worker pool without holding a thread.

The work (solving, checking, drawing variants) runs in a pool of worker
processes (``workbook/exercise.py`` holds what they run): a check cannot
stall the server, each is stopped by its own time limit (SIGALRM in the
worker's main thread), several are marked at once on several cores, and at
most ``MAX_PENDING`` wait; past that the server answers 503 at once.

Routes (README, "Practice"):

    GET  /                                   the exercises, as a page
    GET  /exercises/{id}                     an exercise's practice page
    GET  /api/exercises                      [{"id", "title", "kind"}]
    GET  /api/exercises/{id}                 its form: quantities, entries, labels
    GET  /api/exercises/{id}/blank           the blank sheet ("?" per entry)
    POST /api/exercises/{id}/check           {"answers": {...}} -> check --format json
    GET  /api/exercises/{id}/step/{n}        {"label", "html"}: the n-th quantity's derivation
    GET  /api/exercises/{id}/key             {place: true value}: what "reveal" shows
    POST /api/exercises/{id}/variant         {"id"} of a fresh exercise of the same shape

Every refusal is a 4xx (5xx only for a busy or failing server) whose JSON is
{"error": one line}; ids are the server's own (no path from a client reaches
the file system).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sys
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from .. import limits
from ..errors import InputError, StepsolverError
from ..lang import messages
from . import exercise
from .exercise import Source

#: a request body larger than this is refused (413): the limit of an answers file
MAX_BODY = limits.MAX_FILE_BYTES
#: a larger body up to this is read (and dropped) before the 413, so that the client hears it
MAX_DRAINED = 64 * 1024 * 1024
#: checks and variants waiting for a worker at once; more are refused (503)
MAX_PENDING = 64
#: variants kept in memory (the oldest go first)
MAX_VARIANTS = 500
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")


# ------------------------------------------------------------------ work in the workers
def _work(name: str, *args):
    """Run ``exercise.<name>(*args)`` in a worker: ("ok", result), or
    ("refused", one line) for bad input or a limit (exceptions do not cross
    processes faithfully)."""
    try:
        return "ok", getattr(exercise, name)(*args)
    except StepsolverError as exc:
        return "refused", exc.line().removeprefix("error: ")
    except RecursionError:
        return "refused", "nested too deeply"


def _warm() -> int:
    """Start a worker (its imports) before the first request."""
    return os.getpid()


def slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60]
    return s or "exercise"


class Refused(Exception):
    def __init__(self, status: int, line: str):
        super().__init__(line)
        self.status = status
        self.line = line


class Practice:
    """The exercises the server knows, and the pool that works them."""

    def __init__(self, sources: list[Source], lang: str = "en", workers: int = 2, time_limit: int | None = None):
        self.lang = lang
        self.tr = messages(lang)
        self.time_limit = limits.TIME_LIMIT if time_limit is None else time_limit
        self.exercises: OrderedDict[str, Source] = OrderedDict((s.id, s) for s in sources)
        self.originals = [s.id for s in sources]
        self.variants: OrderedDict[str, None] = OrderedDict()
        self.described: dict[str, dict] = {}
        self.forms: dict[str, dict] = {}
        self.questions: dict[str, dict] = {}
        self.workers = max(1, workers)
        self.pool = None
        self.pending = None  # made in the server's event loop
        self._seed = 0

    # -- the pool ----------------------------------------------------------------
    def start(self) -> None:
        import multiprocessing

        self.pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        sources = list(self.exercises.values())
        warm = [self.pool.submit(_warm) for _ in range(self.workers)]
        described = [(s, self.pool.submit(_work, "describe", s)) for s in sources]
        for s, fut in described:
            status, value = fut.result()
            if status != "ok":
                raise InputError(value)
            self.described[s.id] = value
        for fut in warm:
            fut.result()

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None

    async def run(self, name: str, *args, seconds: float | None = None):
        """exercise.<name>(*args) in the pool, bounded in waiting and in time."""
        if self.pending is None:
            self.pending = asyncio.Semaphore(MAX_PENDING)
        if self.pending.locked():
            raise Refused(503, "the server is busy: try again in a moment")
        async with self.pending:
            loop = asyncio.get_running_loop()
            try:
                fut = loop.run_in_executor(self.pool, _work, name, *args)
                status, value = await asyncio.wait_for(fut, (seconds or self.time_limit) + 10)
            except asyncio.TimeoutError:
                raise Refused(503, f"took longer than {self.time_limit} s") from None
            except BrokenProcessPool:
                self.stop()
                self.start()
                raise Refused(503, "a worker stopped; the server restarted its workers: try again") from None
        if status != "ok":
            raise Refused(422, value)
        return value

    # -- exercises -------------------------------------------------------------------
    def get(self, ex_id: str) -> Source:
        if not _ID.match(ex_id) or ex_id not in self.exercises:
            raise Refused(404, f"no exercise {ex_id[:80]!r}")
        return self.exercises[ex_id]

    def listing(self) -> list[dict]:
        return [self.described[i] for i in self.exercises if i in self.described]

    async def form(self, src: Source) -> dict:
        if src.id not in self.forms:
            self.forms[src.id] = await self.run("form", src)
        return self.forms[src.id]

    async def question(self, src: Source) -> dict:
        if src.id not in self.questions:
            self.questions[src.id] = await self.run("question_html", src)
        return self.questions[src.id]

    async def variant(self, src: Source) -> Source:
        self._seed += 1
        base = src.id.split("--")[0]
        seed = int.from_bytes(os.urandom(4), "big")
        new_id = f"{base}--{self._seed}"
        new = await self.run("variant", src, seed, new_id)
        digest = hashlib.sha1(new.text.encode()).hexdigest()[:6]
        new = Source(f"{base}--{digest}", new.text, f"variant of {src.name}", new.lang)
        self.exercises[new.id] = new
        self.variants[new.id] = None
        while len(self.variants) > MAX_VARIANTS:
            old, _ = self.variants.popitem(last=False)
            for table in (self.exercises, self.described, self.forms, self.questions):
                table.pop(old, None)
        self.described[new.id] = await self.run("describe", new)
        return new


# ------------------------------------------------------------------ the web application
def app(practice: Practice):
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    from .page import exercise_page, index_page

    def refuse(status: int, line: str):
        return JSONResponse({"error": line}, status_code=status)

    async def body_json(request: Request):
        too_large = Refused(413, f"the request is larger than {MAX_BODY} bytes (the limit of an answers file)")
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_DRAINED):
            raise too_large  # refused before reading: the connection closes
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_DRAINED:
                raise too_large
            if size <= MAX_BODY:
                chunks.append(chunk)
        # a body past the limit is read and dropped, not kept, so that the client hears the 413
        if size > MAX_BODY:
            raise too_large
        raw = b"".join(chunks)
        if not raw.strip():
            return None
        try:
            return exercise.loads_json(raw)
        except InputError as exc:
            raise Refused(400, exc.message) from None

    def api(handler):
        async def run(request: Request):
            try:
                return await handler(request)
            except Refused as exc:
                return refuse(exc.status, exc.line)
        return run

    @api
    async def list_exercises(request):
        return JSONResponse(practice.listing())

    @api
    async def show(request):
        src = practice.get(request.path_params["id"])
        f = await practice.form(src)
        return JSONResponse({k: v for k, v in f.items() if k != "key"})

    @api
    async def blank(request):
        src = practice.get(request.path_params["id"])
        return JSONResponse(await practice.run("blank", src))

    @api
    async def check(request):
        src = practice.get(request.path_params["id"])
        data = await body_json(request)
        if not isinstance(data, dict) or set(data) != {"answers"}:
            raise Refused(400, 'expected {"answers": {...}}: the answers file\'s structure as JSON')
        report = await practice.run("check_json", src, data["answers"], practice.time_limit)
        return Response(report, media_type="application/json")

    @api
    async def step(request):
        src = practice.get(request.path_params["id"])
        n = request.path_params["n"]
        if not n.isdigit() or len(n) > 6:
            raise Refused(404, f"no step {n[:20]!r}")
        return JSONResponse(await practice.run("step_html", src, int(n)))

    @api
    async def key(request):
        src = practice.get(request.path_params["id"])
        f = await practice.form(src)
        return JSONResponse(f["key"])

    @api
    async def variant(request):
        src = practice.get(request.path_params["id"])
        await body_json(request)  # bounded and well-formed, though nothing is needed
        new = await practice.variant(src)
        return JSONResponse({"id": new.id}, status_code=201)

    async def index(request):
        return HTMLResponse(index_page(practice.listing(), practice.tr))

    async def page(request):
        try:
            src = practice.get(request.path_params["id"])
            f = await practice.form(src)
            q = await practice.question(src)
        except Refused as exc:
            return HTMLResponse(index_page(practice.listing(), practice.tr, error=exc.line),
                                status_code=exc.status)
        return HTMLResponse(exercise_page(src, f, q, practice.tr))

    async def not_found(request, exc: HTTPException):
        if request.url.path.startswith("/api/"):
            return refuse(exc.status_code, exc.detail if isinstance(exc.detail, str) else "not found")
        return HTMLResponse(index_page(practice.listing(), practice.tr, error=str(exc.detail)),
                            status_code=exc.status_code)

    async def failed(request, exc: Exception):  # a bug: still one line, and the server keeps serving
        line = f"internal error ({type(exc).__name__}); this is a bug in stepsolver, please report it"
        sys.stderr.write(f"error: {request.url.path}: {line}: {str(exc)[:300]}\n")
        return refuse(500, line)

    routes = [
        Route("/", index),
        Route("/exercises/{id}", page),
        Route("/api/exercises", list_exercises),
        Route("/api/exercises/{id}", show),
        Route("/api/exercises/{id}/blank", blank),
        Route("/api/exercises/{id}/check", check, methods=["POST"]),
        Route("/api/exercises/{id}/step/{n}", step),
        Route("/api/exercises/{id}/key", key),
        Route("/api/exercises/{id}/variant", variant, methods=["POST"]),
    ]
    return Starlette(routes=routes, exception_handlers={HTTPException: not_found, Exception: failed})


# ------------------------------------------------------------------ the command
def sources_from(paths: list[str], lang: str) -> list[Source]:
    """The exercises of the files and folders named (a folder: its *.toml files
    that are problems; a file that is not a problem is refused by name)."""
    from ..kinds import load_problem
    from ..tomlio import read_toml

    files: list[tuple[str, bool]] = []
    for p in paths:
        if os.path.isdir(p):
            files.extend((os.path.join(p, f), False) for f in sorted(os.listdir(p)) if f.endswith(".toml"))
        else:
            files.append((p, True))
    sources, seen = [], set()
    for path, named in files:
        try:
            read_toml(path)
            load_problem(path)
        except StepsolverError:
            if named:
                raise
            continue  # a folder may hold answers files and class lists beside its problems
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        base = slug(os.path.splitext(os.path.basename(path))[0])
        ex_id, k = base, 1
        while ex_id in seen:
            k += 1
            ex_id = f"{base}-{k}"
        seen.add(ex_id)
        sources.append(Source(ex_id, text, path, lang))
    if not sources:
        raise InputError("no exercises: give problem files or folders holding them", key="practice")
    return sources


def serve(paths: list[str], host: str = "127.0.0.1", port: int = 0, lang: str = "en", browser: bool = True,
          workers: int | None = None, time_limit: int | None = None, out=None) -> int:
    """Serve the practice page until Ctrl-C; the URL is the first line on ``out``."""
    import socket

    import uvicorn

    out = out or sys.stdout
    sources = sources_from(paths, lang)
    practice = Practice(sources, lang, workers or min(4, os.cpu_count() or 1), time_limit)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", key="--port") from None
    sock.listen(128)
    bound = sock.getsockname()[1]
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else (f"[{host}]" if ":" in host else host)
    url = f"http://{shown}:{bound}/"
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.stderr.write(f"warning: serving on {host}: anyone who can reach this machine on port {bound} can use "
                         "the page (there is no login); each check is bounded in size and time\n")
    try:
        practice.start()
    except BaseException:
        practice.stop()
        sock.close()
        raise
    out.write(url + "\n")
    out.flush()
    config = uvicorn.Config(app(practice), log_level="warning", access_log=False, lifespan="off",
                            limit_concurrency=1000, timeout_keep_alive=5, timeout_graceful_shutdown=3)
    server = uvicorn.Server(config)
    if browser:
        import threading
        import webbrowser

        threading.Timer(0.5, lambda: webbrowser.open(url)).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn has shut down gracefully and passes Ctrl-C on: the end of a session
        pass
    finally:
        practice.stop()
        sock.close()
    sys.stderr.write("stopped\n")
    return 0


__all__ = ["Practice", "app", "serve", "sources_from", "slug", "MAX_BODY", "MAX_PENDING"]
