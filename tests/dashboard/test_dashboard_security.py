"""The server over real HTTP: no file outside the store, escaped user text, 404 for the
unknown, security headers, loopback-only Host names, and no writes to the store."""

from __future__ import annotations

import hashlib
import http.client
import json
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from dashboard_support import SCRIPT_NAME, StoreRuns

from ganwatch.store import RunStore


def fetch(base_url: str, path: str, method: str = "GET", headers: dict | None = None):
    """Send ``path`` byte for byte (urllib would normalise it); (status, headers, body)."""
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        skip_host = any(name.lower() == "host" for name in headers or {})
        connection.putrequest(method, path, skip_host=skip_host, skip_accept_encoding=True)
        for name, value in (headers or {}).items():
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


TRAVERSALS = [
    "/../runs.sqlite",
    "/runs.sqlite",
    "/runs/1/grid/epoch_0001.png",
    "/static/../app.py",
    "/static/../../store.py",
    "/static/..%2f..%2fstore.py",
    "/static/%2e%2e/%2e%2e/store.py",
    "/static/%2E%2E%2F%2E%2E%2Fstore.py",
    "/static/..%5c..%5cstore.py",
    "/static/%252e%252e/app.py",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/js/../../app.py",
    "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "//etc/passwd",
    "/etc/passwd",
    "/api/runs/1/../../../runs.sqlite",
    "/api/runs/1/images/grid/..%2f..%2f..%2fruns.sqlite",
    "/api/runs/1/images/..%2F..%2F..%2Fruns.sqlite/1",
    "/api/runs/1/images/../../../../runs.sqlite/1",
    "/api/runs/1/images/grid/1/../../../../runs.sqlite",
    "/api/runs/1/images/%2e%2e/1",
    "/api/runs/1/images/grid/%31",
    "/api/runs/1/images/grid/-1",
    "/runs/1/../../runs.sqlite",
    "/runs/%2e%2e%2fruns.sqlite",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_is_404(base_url: str, runs: StoreRuns, path: str) -> None:
    status, _, body = fetch(base_url, path)
    assert status == 404
    assert b"SQLite format" not in body
    assert b"root:" not in body
    assert b"import " not in body


def test_unknown_runs_are_404(base_url: str) -> None:
    for path in (
        "/runs/999",
        "/runs/abc",
        "/api/runs/999",
        "/api/runs/999/steps",
        "/api/runs/999/epochs",
        "/api/runs/999/events",
        "/api/runs/999/images/grid/1",
        "/api/runs/1/images/grid/999",
        "/api/runs/1/images/nokind/1",
        "/api/nothing",
    ):
        status, headers, _ = fetch(base_url, path)
        assert status == 404, path
        if path.startswith("/api/"):
            assert headers["Content-Type"].startswith("application/json")


def test_a_script_name_stays_text(base_url: str, runs: StoreRuns) -> None:
    status, headers, body = fetch(base_url, "/api/runs")
    assert status == 200
    assert headers["Content-Type"].startswith("application/json")
    assert headers["X-Content-Type-Options"] == "nosniff"
    names = {run["id"]: run["name"] for run in json.loads(body)}
    assert names[runs.script] == SCRIPT_NAME
    # The pages are a fixed shell: the name is never in the HTML the server sends.
    status, headers, body = fetch(base_url, f"/runs/{runs.script}")
    assert status == 200
    assert b"alert(1)" not in body
    # and an unknown run's 404 page escapes what it echoes
    status, _, body = fetch(base_url, "/runs/123456789")
    assert status == 404
    assert b"<script>" not in body.lower().replace(b"<script src", b"")


def test_security_headers(base_url: str, runs: StoreRuns) -> None:
    for path in ("/", f"/runs/{runs.trained}", "/api/runs", "/static/js/app.js"):
        status, headers, _ = fetch(base_url, path)
        assert status == 200, path
        assert headers["X-Content-Type-Options"] == "nosniff"
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
    _, headers, _ = fetch(base_url, f"/api/runs/{runs.trained}/images/grid/1")
    assert headers["Content-Type"] == "image/png"


def test_only_get_and_head(base_url: str) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        status, headers, _ = fetch(base_url, "/api/runs", method=method)
        assert status == 405
        assert headers["Allow"] == "GET, HEAD"
    status, headers, body = fetch(base_url, "/api/runs", method="HEAD")
    assert status == 200 and body == b""


def test_foreign_host_names_are_refused(base_url: str) -> None:
    """A page on some site that rebinds its DNS name to 127.0.0.1 must not read the runs."""
    status, _, _ = fetch(base_url, "/api/runs", headers={"Host": "evil.example:8787"})
    assert status == 403
    for host in ("localhost:8787", "127.0.0.1", "[::1]:8787"):
        status, _, _ = fetch(base_url, "/api/runs", headers={"Host": host})
        assert status == 200, host


def test_the_dashboard_writes_nothing(serve, runs: StoreRuns, tmp_path: Path) -> None:
    def snapshot(root: Path) -> dict[str, str]:
        return {
            str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(root.rglob("*"))
            if path.is_file() and not path.name.endswith(("-wal", "-shm"))
        }

    before = snapshot(runs.root)
    base = serve(runs.root)
    for path in (
        "/",
        "/api/runs",
        f"/api/runs/{runs.collapsed}",
        f"/runs/{runs.collapsed}",
        f"/api/runs/{runs.collapsed}/steps?after=3",
        f"/api/runs/{runs.collapsed}/epochs",
        f"/api/runs/{runs.collapsed}/images/ndb/1",
        "/compare?runs=1,2",
    ):
        assert fetch(base, path)[0] == 200, path
    assert snapshot(runs.root) == before


def test_a_missing_store_is_empty_until_it_appears(serve, tmp_path: Path) -> None:
    root = tmp_path / "later"
    base = serve(root)
    status, _, body = fetch(base, "/api/runs")
    assert (status, json.loads(body)) == (200, [])
    assert not root.exists()  # the dashboard did not create it
    with RunStore(root) as store:
        run_id = store.create_run("first", {"dataset": "ring"})
    status, _, body = fetch(base, "/api/runs")
    assert [(run["id"], run["name"]) for run in json.loads(body)] == [(run_id, "first")]


def test_bad_query_values_are_400(base_url: str, runs: StoreRuns) -> None:
    status, _, body = fetch(base_url, f"/api/runs/{runs.trained}/steps?after=abc")
    assert status == 400
    assert "after" in json.loads(body)["error"]
