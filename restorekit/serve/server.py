"""Run the app with uvicorn on a socket bound here, so that the real address (``--port 0``)
is known before the first request and a busy port is one clear error."""

from __future__ import annotations

import socket
from typing import Callable

from restorekit.errors import RestorekitError
from restorekit.serve import DEFAULT_MAX_UPLOAD_MB

LOOPBACK = ("127.0.0.1", "localhost", "::1")
_ANY = ("0.0.0.0", "::", "")


def make_server(host: str = "127.0.0.1", port: int = 8000, *, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
                **app_options):
    """A ready-to-run ``(uvicorn.Server, listening socket, page URL)``.

    Run it with ``server.run(sockets=[sock])`` (blocking; Ctrl-C stops it) or in a thread,
    stopping it with ``server.should_exit = True``.
    """
    import uvicorn

    from restorekit.serve.app import create_app

    sock = _bind(host, port)
    port = sock.getsockname()[1]
    url_host = f"[{host}]" if ":" in host else host
    # Answer only to the Host names this server is reached by (DNS-rebinding guard).
    allowed = None if host in _ANY else {"127.0.0.1", "localhost", "[::1]", url_host.lower()}
    app = create_app(max_upload_mb=max_upload_mb, allowed_hosts=allowed, **app_options)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            limit_concurrency=64, timeout_keep_alive=5)
    return uvicorn.Server(config), sock, f"http://{url_host}:{port}/"


def serve(host: str, port: int, *, max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB,
          on_ready: Callable[[str], None] | None = None) -> None:
    """Serve until Ctrl-C; ``on_ready(url)`` once the socket listens."""
    server, sock, url = make_server(host, port, max_upload_mb=max_upload_mb)
    try:
        if on_ready is not None:
            on_ready(url)
        server.run(sockets=[sock])
    finally:
        sock.close()
        server.config.app.state.jobs.close()  # in case the lifespan's shutdown did not run


def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise RestorekitError(f"cannot listen on {host!r}: {exc.strerror or exc}") from None
    family, _, _, _, address = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise RestorekitError(f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
                              "pick another --port (0: any free one)") from None
    sock.set_inheritable(True)
    return sock
