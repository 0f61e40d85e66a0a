"""The Starlette application of ``restorekit serve``: the page, its static files, a JSON API.

    GET    /                        the page (static/index.html)
    GET    /api/options             kernels on offer, the upload limit
    POST   /api/jobs                one image (+ reference, kernel file) and its settings -> a job
    GET    /api/jobs                this browser's jobs
    GET    /api/jobs/{id}           one job's state and progress (the page polls it)
    GET    /api/jobs/{id}/before.png, after.png    8-bit previews, full resolution
    GET    /api/jobs/{id}/download  the result, in the input's format; the job is then removed
    DELETE /api/jobs/{id}           remove a job and its files

Every request carries a session cookie (set on the first one); a job is visible only to the
session that created it. User errors are JSON ``{"error": "one line"}`` with a 4xx status.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
from http.cookies import SimpleCookie

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from restorekit.errors import RestorekitError
from restorekit.serve import DEFAULT_MAX_UPLOAD_MB
from restorekit.serve.jobs import DONE, Job, JobQueue, QueueFullError
from restorekit.serve.process import FILE_FIELDS, KERNELS, check_upload, parse_settings, process
from restorekit.serve.upload import UploadTooLargeError, display_name, receive_form

log = logging.getLogger("restorekit.serve")

COOKIE = "restorekit_session"
_SESSION_RE = re.compile(r"[A-Za-z0-9_-]{32,64}")
_MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".tif": "image/tiff", ".bmp": "image/bmp"}
# The page loads nothing from elsewhere: scripts, styles and images come from this server.
_HEADERS = [
    (b"content-security-policy", b"default-src 'self'; img-src 'self' blob: data:; object-src 'none'; "
                                 b"base-uri 'none'; frame-ancestors 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


def create_app(*, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, allowed_hosts=("127.0.0.1", "localhost", "[::1]"),
               ttl_s: float = 1800.0, process_job=process) -> Starlette:
    """The ASGI app. ``allowed_hosts``: the Host headers answered (None: any), which keeps a
    page on another site from reaching this server through DNS rebinding."""
    limit = int(max_upload_mb * 1e6)
    jobs = JobQueue(process_job, ttl_s=ttl_s)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        yield
        jobs.close()  # every upload and result goes with the server

    routes = [
        Route("/", _index),
        Route("/api/options", lambda request: _options(limit)),
        Route("/api/jobs", _create, methods=["POST"]),
        Route("/api/jobs", _list, methods=["GET"]),
        Route("/api/jobs/{job_id}", _status, methods=["GET"]),
        Route("/api/jobs/{job_id}", _delete, methods=["DELETE"]),
        Route("/api/jobs/{job_id}/{view:str}.png", _preview),
        Route("/api/jobs/{job_id}/download", _download),
        Mount("/static", StaticFiles(packages=[("restorekit.serve", "static")]), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: _http_error, Exception: _internal_error})
    app.state.jobs = jobs
    app.state.limit = limit
    app.add_middleware(_Guard, allowed_hosts=allowed_hosts)
    return app


# -----------------------------------------------------------------------------------------
# endpoints


async def _index(request: Request) -> Response:
    from importlib.resources import files

    html = (files("restorekit.serve") / "static" / "index.html").read_text(encoding="utf-8")
    return Response(html, media_type="text/html; charset=utf-8", headers={"cache-control": "no-store"})


def _options(limit: int) -> JSONResponse:
    return JSONResponse({"kernels": [{"spec": spec, "label": label} for spec, label in KERNELS],
                         "max_upload_bytes": limit})


async def _create(request: Request) -> Response:
    jobs: JobQueue = request.app.state.jobs
    session = _session(request)
    try:
        jobs.check_room(session)
        job_id, folder = jobs.new_folder()
    except QueueFullError as exc:
        return _error(429, str(exc))
    except RestorekitError as exc:
        return _error(503, str(exc))
    try:
        upload = await receive_form(request, folder, request.app.state.limit, FILE_FIELDS)
        settings = parse_settings(upload.fields, "kernel_file" in upload.files)
        facts = await run_in_threadpool(check_upload, settings, upload.files)
    except UploadTooLargeError as exc:
        _discard(folder)
        return _error(413, str(exc))
    except RestorekitError as exc:
        _discard(folder)
        return _error(400, str(exc))
    except Exception as exc:  # a decoder's bug on a strange file is still the file's problem to the user
        log.exception("upload check failed")
        _discard(folder)
        return _error(400, f"this file could not be read ({type(exc).__name__})")
    job = Job(job_id, session, folder, display_name(upload.files["image"][0]), settings,
              files=upload.files, result=facts)
    jobs.submit(job)
    return JSONResponse(jobs.status(job), status_code=201, headers={"cache-control": "no-store"})


async def _list(request: Request) -> Response:
    return JSONResponse({"jobs": request.app.state.jobs.list(_session(request))}, headers={"cache-control": "no-store"})


async def _status(request: Request) -> Response:
    job = _job(request)
    return JSONResponse(request.app.state.jobs.status(job), headers={"cache-control": "no-store"})


async def _delete(request: Request) -> Response:
    request.app.state.jobs.remove(_job(request))
    return Response(status_code=204)


async def _preview(request: Request) -> Response:
    view = request.path_params["view"]
    if view not in ("before", "after"):
        raise HTTPException(404, "not found")
    job = _done_job(request)
    path = job.folder / f"{view}.png"
    if not path.is_file():
        raise HTTPException(404, "this image is no longer on the server")
    return FileResponse(path, media_type="image/png", headers={"cache-control": "private, no-store"})


async def _download(request: Request) -> Response:
    jobs: JobQueue = request.app.state.jobs
    job = _done_job(request)
    path = job.result_path
    if path is None or not path.is_file():
        raise HTTPException(404, "this image is no longer on the server")
    # Streamed from the private folder, which goes once the whole file has been sent.
    return FileResponse(path, media_type=_MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
                        filename=job.result["download_name"], headers={"cache-control": "private, no-store"},
                        background=BackgroundTask(jobs.remove, job))


# -----------------------------------------------------------------------------------------
# helpers


def _session(request: Request) -> str:
    return request.scope["restorekit.session"]


def _job(request: Request) -> Job:
    job = request.app.state.jobs.get(_session(request), request.path_params["job_id"])
    if job is None:  # unknown, expired, downloaded, or another browser's: all look the same
        raise HTTPException(404, "no such image on the server (it may have been downloaded or expired)")
    return job


def _done_job(request: Request) -> Job:
    job = _job(request)
    if job.state != DONE:
        raise HTTPException(409, f"this image is not ready ({job.state})")
    return job


def _discard(folder) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers={"cache-control": "no-store"})


async def _http_error(request: Request, exc: HTTPException) -> Response:
    return _error(exc.status_code, str(exc.detail))


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.exception("internal error", exc_info=exc)
    return _error(500, f"internal error ({type(exc).__name__}); see the server's log")


class _Guard:
    """ASGI middleware: refuses unknown Host headers, gives each browser a session cookie,
    and adds the security headers to every response."""

    def __init__(self, app, allowed_hosts=None):
        self.app = app
        self.allowed = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.lower(): v for k, v in scope.get("headers", [])}
        host = headers.get(b"host", b"").decode("latin-1").lower()
        host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        if self.allowed is not None and host not in self.allowed:
            response = _error(400, f"unexpected Host header {host!r}; open the address restorekit serve printed")
            return await response(scope, receive, send)

        session = _cookie(headers.get(b"cookie", b""))
        fresh = session is None
        if fresh:
            session = secrets.token_urlsafe(32)
        scope["restorekit.session"] = session

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                extra = list(_HEADERS)
                if fresh:
                    extra.append((b"set-cookie", f"{COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict".encode()))
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cookie(raw: bytes) -> str | None:
    cookies = SimpleCookie()
    try:
        cookies.load(raw.decode("latin-1"))
    except Exception:  # a malformed Cookie header: start a new session
        return None
    morsel = cookies.get(COOKIE)
    return morsel.value if morsel is not None and _SESSION_RE.fullmatch(morsel.value) else None
