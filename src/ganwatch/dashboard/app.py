"""The dashboard's routes: a request's method, path and headers in, a :class:`Response` out.

No sockets here (``server.py`` does HTTP), so every route can be tested as a function call.
Paths are matched whole, as sent (still percent-encoded), against a short list of patterns
whose parts are digits or plain names; whatever does not match is a 404. Files are found
only through the static-file dict and the store's image index, never by joining a path
from the request, and the store is opened read-only, so the dashboard cannot write to it.
"""

from __future__ import annotations

import html
import json
import re
import sqlite3
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ganwatch import catalog
from ganwatch.dashboard import assets, data
from ganwatch.store import RunInfo, RunNotFoundError, RunStore, StrPath, resolve_store_root

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
# Scripts, styles and pictures only from the dashboard itself; nothing inline, no frames.
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})

_ID = r"(\d{1,18})"
_KIND = r"([A-Za-z0-9_-][A-Za-z0-9_.-]{0,63})"


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


def json_response(payload: object, status: int = 200) -> Response:
    body = json.dumps(payload, allow_nan=False, separators=(",", ":")).encode("utf-8")
    return Response(status, body, JSON_TYPE, {"Cache-Control": "no-store"})


def not_found(path: str, message: str = "not found") -> Response:
    """A 404 in the form the caller expects: JSON under /api/, a small page elsewhere."""
    if path.startswith("/api/"):
        return json_response({"error": message}, 404)
    page = (
        "<!doctype html><html lang=en><meta charset=utf-8><title>Not found · ganwatch</title>"
        '<link rel="stylesheet" href="/static/css/app.css">'
        '<main class="notfound"><h1>Not found</h1>'
        f'<p>{html.escape(message)}</p><p><a href="/">All runs</a></p></main></html>'
    )
    return Response(404, page.encode("utf-8"), HTML_TYPE, {"Cache-Control": "no-store"})


def image_url(run_id: int, kind: str, epoch: int) -> str:
    return f"/api/runs/{run_id}/images/{kind}/{epoch}"


def host_name(host_header: str) -> str:
    """The host part of a Host header, without the port, lower-cased."""
    host = host_header.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


class Dashboard:
    """Answers the dashboard's requests from one store, opened read-only on first need.

    A store that does not exist yet is an empty list rather than an error, so the dashboard
    may be started before the first run; it is opened once it appears.
    """

    def __init__(self, root: StrPath | None = None, *, loopback_only: bool = True) -> None:
        self.root: Path = resolve_store_root(root)
        # Bound to loopback, a request naming another host is a DNS-rebinding attempt by
        # some web page: refuse it. Bound elsewhere, the user chose to expose it.
        self.loopback_only = loopback_only
        self._store: RunStore | None = None
        self._lock = threading.Lock()
        self._summaries: dict[int, tuple[float, dict]] = {}
        self._page = assets.server_page().encode("utf-8")
        self._routes: list[tuple[re.Pattern[str], Callable[..., Response]]] = [
            (re.compile(r"/"), self._page_view),
            (re.compile(rf"/runs/{_ID}"), self._run_page),
            (re.compile(r"/compare"), self._page_view),
            (re.compile(r"/static/([A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*)"), self._static),
            (re.compile(r"/api/catalog"), self._api_catalog),
            (re.compile(r"/api/runs"), self._api_runs),
            (re.compile(rf"/api/runs/{_ID}"), self._api_run),
            (re.compile(rf"/api/runs/{_ID}/steps"), self._api_steps),
            (re.compile(rf"/api/runs/{_ID}/epochs"), self._api_epochs),
            (re.compile(rf"/api/runs/{_ID}/events"), self._api_events),
            (re.compile(rf"/api/runs/{_ID}/images/{_KIND}/(\d{{1,9}})"), self._api_image),
        ]

    # -- plumbing ------------------------------------------------------------------------

    def store(self) -> RunStore | None:
        with self._lock:
            if self._store is None:
                try:
                    self._store = RunStore(self.root, read_only=True)
                except FileNotFoundError:
                    return None
            return self._store

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def handle(
        self, method: str, target: str, headers: Mapping[str, str] | None = None
    ) -> Response:
        """Answer one request; ``target`` is the request line's path and query, as sent."""
        headers = headers or {}
        if method not in ("GET", "HEAD"):
            response = json_response({"error": "the dashboard is read-only"}, 405)
            response.headers["Allow"] = "GET, HEAD"
            return response
        if self.loopback_only and host_name(headers.get("Host", "localhost")) not in (
            LOOPBACK_NAMES
        ):
            return json_response({"error": "unexpected Host header"}, 403)
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        for pattern, route in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            try:
                return route(path, query, headers, *match.groups())
            except RunNotFoundError:
                return not_found(path, f"no run {match.group(1)} in this store")
            except sqlite3.Error as error:
                return json_response({"error": f"the store could not be read: {error}"}, 503)
            except ValueError as error:
                return json_response({"error": str(error)}, 400)
        return not_found(path)

    def _run(self, run_id: str) -> tuple[RunStore, RunInfo]:
        store = self.store()
        if store is None:
            raise RunNotFoundError(run_id)
        return store, store.get_run(int(run_id))

    # -- pages ---------------------------------------------------------------------------

    def _page_view(self, path: str, query: dict, headers: Mapping[str, str]) -> Response:
        return Response(200, self._page, HTML_TYPE, {"Cache-Control": "no-store"})

    def _run_page(self, path: str, query: dict, headers: Mapping[str, str], run_id: str):
        self._run(run_id)  # an unknown run is a 404, not an empty page
        return self._page_view(path, query, headers)

    def _static(self, path: str, query: dict, headers: Mapping[str, str], name: str):
        asset = assets.static_files().get(name)
        if asset is None or name == assets.SHELL:
            return not_found(path)
        return Response(200, asset.body, asset.content_type, {"Cache-Control": "no-cache"})

    # -- JSON ----------------------------------------------------------------------------

    def _summary(self, store: RunStore, run: RunInfo) -> dict:
        """A run's summary, recomputed only when the run has been written to since."""
        with self._lock:
            cached = self._summaries.get(run.id)
        if cached is not None and cached[0] == run.updated:
            summary = dict(cached[1])
        else:
            summary = data.run_summary(store, run, image_url=image_url)
            with self._lock:
                self._summaries[run.id] = (run.updated, summary)
        summary["stale"] = data.is_stale(run)
        return summary

    def _api_catalog(self, path: str, query: dict, headers: Mapping[str, str]) -> Response:
        """The names the pages label and colour things by (verdicts, statuses, keys)."""
        return json_response(catalog.as_json())

    def _api_runs(self, path: str, query: dict, headers: Mapping[str, str]) -> Response:
        store = self.store()
        runs = [] if store is None else store.list_runs()
        return json_response([self._summary(store, run) for run in runs])

    def _api_run(self, path: str, query: dict, headers: Mapping[str, str], run_id: str):
        store, run = self._run(run_id)
        return json_response(data.run_detail(store, run, image_url))

    def _api_steps(self, path: str, query: dict, headers: Mapping[str, str], run_id: str):
        store, run = self._run(run_id)
        after = query.get("after", ["0"])[-1]
        if not re.fullmatch(r"-?\d{1,18}", after):
            raise ValueError("after must be a step number")
        return json_response(data.step_columns(store, run.id, int(after)))

    def _api_epochs(self, path: str, query: dict, headers: Mapping[str, str], run_id: str):
        store, run = self._run(run_id)
        return json_response(data.epoch_rows(store, run.id))

    def _api_events(self, path: str, query: dict, headers: Mapping[str, str], run_id: str):
        store, run = self._run(run_id)
        return json_response(data.run_events(store, run.id))

    def _api_image(
        self, path: str, query: dict, headers: Mapping[str, str], run_id: str, kind: str, epoch: str
    ) -> Response:
        store, run = self._run(run_id)
        found = [file for e, _, file in store.images(run.id, kind) if e == int(epoch)]
        if not found:
            return not_found(path, "no such image")
        file = found[0].resolve()
        # The index is trusted, but a store folder holding a symlink (or a doctored row)
        # must still not lead outside the store.
        if file.suffix != ".png" or not file.is_relative_to(self.root.resolve()):
            return not_found(path, "no such image")
        try:
            stat = file.stat()
            etag = f'"{stat.st_mtime_ns:x}-{stat.st_size:x}"'
            if headers.get("If-None-Match") == etag:
                return Response(304, b"", "image/png", {"ETag": etag, "Cache-Control": "no-cache"})
            body = file.read_bytes()
        except OSError:
            return not_found(path, "no such image")
        return Response(200, body, "image/png", {"ETag": etag, "Cache-Control": "no-cache"})
