"""``ganwatch dashboard``: HTTP on the standard library, in front of :class:`Dashboard`.

One thread per request (``ThreadingHTTPServer``), so a page polling for new steps never
waits behind another. This module only speaks HTTP: it passes method, path and headers to
the dashboard, adds the security headers, and writes the answer back.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TextIO

from ganwatch.dashboard.app import SECURITY_HEADERS, Dashboard, Response
from ganwatch.store import StrPath

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8787


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Handler(BaseHTTPRequestHandler):
    server: DashboardServer
    server_version = "ganwatch"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    # Browsers keep connections open between polls; one idle for a minute is closed so
    # that closed tabs do not hold threads.
    timeout = 60

    def do_GET(self) -> None:  # the names http.server dispatches to
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _not_allowed(self) -> None:
        # The request's body is never read, so the connection ends here: a body left in it
        # must not be parsed as the next request.
        self.close_connection = True
        self._answer(send_body=True)

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    def _answer(self, send_body: bool) -> None:
        try:
            response = self.server.dashboard.handle(self.command, self.path, self.headers)
        except Exception:  # a bug must cost one request, not the server, and leak nothing
            self.log_error("error answering %s", self.path)
            response = Response(500, b'{"error":"internal error"}', "application/json")
        self.send_response(response.status)
        headers = {**SECURITY_HEADERS, **response.headers}
        headers["Content-Type"] = response.content_type
        headers["Content-Length"] = str(len(response.body))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if send_body and response.body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        # A page polls every two seconds; logging each request would bury everything else.
        # Errors still go to stderr through log_error.
        return

    def log_error(self, format: str, *args: object) -> None:
        sys.stderr.write(f"ganwatch dashboard: {format % args}\n")


class DashboardServer(ThreadingHTTPServer):
    """The HTTP server; ``dashboard`` answers its requests."""

    daemon_threads = True
    allow_reuse_address = True
    # A page's burst of requests (a compare view loads six runs' grids) must not be reset by
    # the default listen queue of 5.
    request_queue_size = 128

    def __init__(self, dashboard: Dashboard, host: str, port: int) -> None:
        self.dashboard = dashboard
        if ":" in host.strip("[]"):
            self.address_family = socket.AF_INET6
        super().__init__((host.strip("[]"), port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}/"

    def handle_error(self, request: object, client_address: object) -> None:
        # A tab closed mid-answer is routine, not worth a traceback; anything else is.
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)

    def server_close(self) -> None:
        super().server_close()
        self.dashboard.close()


def make_server(
    store: StrPath | None = None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT
) -> DashboardServer:
    """A bound, not yet serving, dashboard server (port 0 picks a free port)."""
    dashboard = Dashboard(store, loopback_only=is_loopback(host))
    try:
        return DashboardServer(dashboard, host, port)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise OSError(
                error.errno, f"port {port} on {host} is in use; pass --port N (0: any free port)"
            ) from error
        raise


def serve(
    store: StrPath | None = None,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    *,
    out: TextIO | None = None,
) -> int:
    """Serve the dashboard until Ctrl-C; warns on stderr when reachable from other machines."""
    out = out or sys.stdout
    server = make_server(store, host, port)
    if not is_loopback(host):
        print(
            f"ganwatch dashboard: warning: listening on {host}, so other machines can read "
            "every run in this store; the dashboard has no login. Use --host 127.0.0.1 to "
            "keep it on this machine.",
            file=sys.stderr,
        )
    print(
        f"ganwatch dashboard: {server.url}  (store {server.dashboard.root}; Ctrl-C stops it)",
        file=out,
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
