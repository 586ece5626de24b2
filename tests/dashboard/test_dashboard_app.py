"""The dashboard's routes, called as functions (no sockets): the API's shapes and its files."""

from __future__ import annotations

import json

import pytest
from dashboard_support import StoreRuns

from ganwatch.dashboard import assets
from ganwatch.dashboard.app import Dashboard, host_name


@pytest.fixture
def app(runs: StoreRuns):
    dashboard = Dashboard(runs.root)
    yield dashboard
    dashboard.close()


def get_json(app: Dashboard, target: str):
    response = app.handle("GET", target, {"Host": "127.0.0.1:8787"})
    assert response.status == 200, (target, response.body[:200])
    assert response.content_type.startswith("application/json")
    return json.loads(response.body)


def test_api_runs_lists_ids_and_names(app: Dashboard, runs: StoreRuns) -> None:
    listed = get_json(app, "/api/runs")
    assert {(run["id"], run["name"]) for run in listed} >= {
        (runs.trained, "ring-real"),
        (runs.collapsed, "latent-2-collapsed"),
    }
    assert [run["id"] for run in listed] == sorted((run["id"] for run in listed), reverse=True)
    trained = next(run for run in listed if run["id"] == runs.trained)
    assert trained["preview"] == f"/api/runs/{runs.trained}/images/grid/2"  # the newest grid


def test_api_catalog_labels_every_verdict_status_and_key(app: Dashboard) -> None:
    """The pages take their vocabulary from here, so a new verdict or metric needs no JS."""
    from ganwatch import catalog

    served = get_json(app, "/api/catalog")
    assert set(served["verdicts"]) == set(catalog.VERDICTS)
    assert served["verdicts"]["mode_collapse"]["label"] == "Mode collapse"
    assert set(served["statuses"]) == set(catalog.STATUSES)
    assert served["keys"]["metric/fid"]["better"] == "lower"
    assert served["keys"]["metric/coverage"]["better"] == "higher"
    assert served["keys"]["loss/g"]["label"] == "G loss"
    assert served["metric_groups"]["prdc"].startswith("Precision")


def test_api_run_steps_epochs_events(app: Dashboard, runs: StoreRuns) -> None:
    detail = get_json(app, f"/api/runs/{runs.trained}")
    assert detail["config"]["dataset"] == "ring"
    assert detail["images"]["grid"][1] == {
        "epoch": 2,
        "step": 8,
        "url": f"/api/runs/{runs.trained}/images/grid/2",
    }
    steps = get_json(app, f"/api/runs/{runs.trained}/steps")
    assert steps["steps"] == list(range(1, 9))
    assert set(steps["series"]) == {
        "loss/g",
        "loss/d_real",
        "loss/d_fake",
        "d/real",
        "d/fake",
        "grad/g",
        "grad/d",
    }
    assert get_json(app, f"/api/runs/{runs.trained}/steps?after=6")["steps"] == [7, 8]
    epochs = get_json(app, f"/api/runs/{runs.trained}/epochs")
    assert [(e["epoch"], e["step"]) for e in epochs] == [(1, 4), (2, 8)]
    events = get_json(app, f"/api/runs/{runs.trained}/events")
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert set(kinds[1:-1]) == {"verdict"}  # the trainer's monitor records its verdicts


def test_images_come_from_the_index_with_etags(app: Dashboard, runs: StoreRuns) -> None:
    target = f"/api/runs/{runs.trained}/images/grid/1"
    response = app.handle("GET", target, {})
    assert response.status == 200
    assert response.body.startswith(b"\x89PNG")
    etag = response.headers["ETag"]
    again = app.handle("GET", target, {"If-None-Match": etag})
    assert (again.status, again.body) == (304, b"")


def test_static_files_are_served_from_the_package_only(app: Dashboard) -> None:
    for name in assets.SCRIPTS + assets.STYLES:
        response = app.handle("GET", f"/static/{name}", {})
        assert response.status == 200, name
        assert response.body == assets.static_files()[name].body
    assert app.handle("GET", "/static/js/app.js", {}).content_type.startswith("text/javascript")
    assert app.handle("GET", "/static/vendor/LICENSE-uPlot", {}).status == 404
    assert app.handle("GET", "/static/app.html", {}).status == 404


def test_pages_share_one_shell(app: Dashboard, runs: StoreRuns) -> None:
    pages = [app.handle("GET", path, {}) for path in ("/", f"/runs/{runs.trained}", "/compare")]
    assert {page.status for page in pages} == {200}
    assert len({page.body for page in pages}) == 1
    body = pages[0].body.decode()
    for name in assets.SCRIPTS:
        assert f'<script src="/static/{name}" defer></script>' in body
    assert "<script>" not in body  # nothing inline, so the CSP can forbid inline scripts


@pytest.mark.parametrize(
    ("header", "name"),
    [
        ("127.0.0.1:8787", "127.0.0.1"),
        ("LOCALHOST", "localhost"),
        ("[::1]:80", "[::1]"),
        ("evil.example:1", "evil.example"),
        ("::1", "::1"),
    ],
)
def test_host_name(header: str, name: str) -> None:
    assert host_name(header) == name


def test_exposed_dashboard_accepts_any_host(runs: StoreRuns) -> None:
    dashboard = Dashboard(runs.root, loopback_only=False)
    try:
        assert dashboard.handle("GET", "/api/runs", {"Host": "box.lan:8787"}).status == 200
    finally:
        dashboard.close()
