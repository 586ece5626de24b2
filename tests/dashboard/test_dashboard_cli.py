"""``ganwatch dashboard`` and ``ganwatch report`` on the command line, and ``serve`` itself."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from ganwatch.cli import build_parser, main
from ganwatch.dashboard import server as server_module
from ganwatch.dashboard.server import is_loopback, make_server, serve


def test_dashboard_arguments_and_defaults() -> None:
    args = build_parser().parse_args(["dashboard"])
    assert (args.host, args.port, args.store) == ("127.0.0.1", 8787, None)
    args = build_parser().parse_args(["dashboard", "--store", "s", "--host", "::1", "--port", "0"])
    assert (args.host, args.port, args.store) == ("::1", 0, "s")


def test_report_arguments() -> None:
    args = build_parser().parse_args(["report", "1", "stable", "--out", "r.html"])
    assert (args.runs, args.out) == (["1", "stable"], "r.html")
    with pytest.raises(SystemExit):
        build_parser().parse_args(["report", "1"])  # --out is required


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.10", False),
        ("example.org", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


class _FakeServer:
    """Stands in for the HTTP server so that serve() can be run without binding anything."""

    def __init__(self, root: Path) -> None:
        self.url = "http://0.0.0.0:8787/"
        self.dashboard = type("D", (), {"root": root})()
        self.closed = False

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        raise KeyboardInterrupt  # as if Ctrl-C came at once

    def server_close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(("host", "warns"), [("0.0.0.0", True), ("127.0.0.1", False)])
def test_serve_warns_when_reachable_from_other_machines(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
    tmp_path: Path,
    host: str,
    warns: bool,
) -> None:
    fake = _FakeServer(tmp_path)
    monkeypatch.setattr(server_module, "make_server", lambda store, host, port: fake)
    assert serve(tmp_path, host=host, port=8787) == 0
    captured = capsys.readouterr()
    assert ("warning" in captured.err) is warns
    assert "http://" in captured.out
    assert fake.closed  # Ctrl-C ends it cleanly, without a traceback


def test_a_busy_port_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["dashboard", "--store", str(tmp_path), "--port", str(port)])
    assert code == 2
    assert "--port" in capsys.readouterr().err


def test_make_server_on_an_ephemeral_port(tmp_path: Path) -> None:
    server = make_server(tmp_path, "127.0.0.1", 0)
    try:
        assert server.server_address[1] != 0
        assert server.url.startswith("http://127.0.0.1:")
        assert server.dashboard.loopback_only
    finally:
        server.server_close()
