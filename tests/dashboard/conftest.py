"""Fixtures for the dashboard tests: a store with a real short training run, a dashboard
server on an ephemeral port of 127.0.0.1, and Debian's chromium driven by Playwright.

The browser tests skip when chromium or Playwright is missing, unless
``GANWATCH_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from dashboard_support import (
    CHROMIUM_ARGS,
    SCRIPT_NAME,
    PageWatch,
    StoreRuns,
    build_collapsed_run,
    chromium_path,
    ring_config,
    start_server,
    stop_server,
    write_epoch,
)

from ganwatch.dashboard.server import DashboardServer
from ganwatch.store import RunStore


@pytest.fixture(scope="session")
def runs(tmp_path_factory: pytest.TempPathFactory) -> StoreRuns:
    """One store for the tests that only read: a real run, a collapsed run, a hostile name."""
    from ganwatch.training import train

    root = tmp_path_factory.mktemp("dashboard") / "store"
    with RunStore(root) as store:
        trained = train(ring_config(), store, name="ring-real", quiet=True).run_id
        collapsed = build_collapsed_run(store)
        script = store.create_run(SCRIPT_NAME, {"dataset": "ring", "epochs": 1})
        write_epoch(store, script, 1, 4, np.random.default_rng(1))
    return StoreRuns(root, trained, collapsed, script)


@pytest.fixture
def serve() -> Iterator:
    """Start a dashboard on some store; returns its base URL (no trailing slash)."""
    started: list[tuple[DashboardServer, threading.Thread]] = []

    def start(root: Path) -> str:
        server, thread = start_server(root)
        started.append((server, thread))
        return server.url.rstrip("/")

    yield start
    for server, thread in started:
        stop_server(server, thread)


@pytest.fixture
def base_url(runs: StoreRuns, serve) -> str:
    return serve(runs.root)


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium under Playwright (never Playwright's own browser download)."""
    required = os.environ.get("GANWATCH_REQUIRE_BROWSER") == "1"
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        if required:
            pytest.fail("playwright is not installed: pip install -e '.[dev]'")
        pytest.skip("playwright is not installed (pip install -e '.[dev]')")
    if executable is None:
        if required:
            pytest.fail("chromium is missing: apt-get install -y chromium")
        pytest.skip("chromium is missing (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator[PageWatch]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    watch = PageWatch(context.new_page())
    yield watch
    context.close()
