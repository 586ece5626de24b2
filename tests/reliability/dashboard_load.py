"""The dashboard under load (the reliability check harness.py measures): concurrent GETs from
many threads, then a POST whose body smuggles a second request, which must never be answered."""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class LoadFigures:
    requests: int
    concurrency: int
    failures: int
    median_s: float
    smuggled_answered: int


def dashboard_load(store: Path, requests: int, concurrency: int) -> LoadFigures:
    """``requests`` GETs to a local dashboard from ``concurrency`` threads at once (loopback
    only), then one POST with a body that holds a second request."""
    import http.client
    import socket

    from ganwatch.dashboard.server import make_server

    server = make_server(store, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    port = server.server_address[1]
    times: list[float] = []
    failures = 0
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency)

    def hammer(n: int) -> None:
        nonlocal failures
        barrier.wait()
        for _ in range(n):
            started = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", "/api/runs")
                ok = conn.getresponse().status == 200
                conn.close()
            except OSError:
                ok = False
            with lock:
                times.append(time.perf_counter() - started)
                failures += not ok

    per = max(1, requests // concurrency)
    threads = [threading.Thread(target=hammer, args=(per,)) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    smuggled = b"GET /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    post = (
        b"POST /api/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
        + str(len(smuggled)).encode()
        + b"\r\n\r\n"
        + smuggled
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(post)
        sock.settimeout(3)
        answer = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                answer += chunk
    server.shutdown()
    server.server_close()
    times.sort()
    return LoadFigures(
        per * concurrency,
        concurrency,
        failures,
        times[len(times) // 2],
        answer.count(b"HTTP/1.1 ") - 1,
    )
