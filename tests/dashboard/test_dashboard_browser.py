"""The dashboard in a real headless Chromium: what a user sees, including live updates."""

from __future__ import annotations

import numpy as np
from dashboard_support import SCRIPT_NAME, PageWatch, StoreRuns, write_epoch

from ganwatch.store import RunStore


def points(page, selector: str) -> int:
    return int(page.get_attribute(selector, "data-points") or 0)


def test_runs_list_shows_the_runs_with_status_and_verdict(
    page: PageWatch, base_url: str, runs: StoreRuns
) -> None:
    page.open(base_url + "/")
    row = page.page.locator(f'tr[data-run-id="{runs.trained}"]')
    assert row.locator(".run-name").text_content() == "ring-real"
    assert row.locator(".badge.status").text_content() == "finished"
    collapsed = page.page.locator(f'tr[data-run-id="{runs.collapsed}"]')
    assert collapsed.locator(".badge.verdict").get_attribute("data-verdict") == "mode_collapse"
    assert page.page.locator("#runs-table tbody tr").count() == 3
    assert page.errors == []


def test_runs_list_filters_by_verdict_and_status(
    page: PageWatch, base_url: str, runs: StoreRuns
) -> None:
    page.open(base_url + "/")
    rows = page.page.locator("#runs-table tbody tr")
    page.page.select_option('select[name="verdict"]', "mode_collapse")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-run-id") == str(runs.collapsed)
    page.page.select_option('select[name="verdict"]', "")
    page.page.select_option('select[name="status"]', "running")
    assert rows.count() == 1
    assert rows.first.get_attribute("data-run-id") == str(runs.script)
    assert "status=running" in page.page.url  # the filter is kept in the address


def test_run_page_draws_the_losses_and_the_grid(
    page: PageWatch, base_url: str, runs: StoreRuns
) -> None:
    page.open(f"{base_url}/runs/{runs.trained}")
    chart = "#chart-losses"
    assert page.page.locator(f"{chart} canvas").count() >= 1
    assert points(page.page, chart) == 8  # 2 epochs of 4 steps
    assert page.page.get_attribute(chart, "data-series") == "3"
    page.page.wait_for_function(
        "() => { const i = document.querySelector('#images-grid img.player-img');"
        " return i && i.complete && i.naturalWidth > 0; }"
    )
    assert page.page.locator("h1.run-title").text_content() == "ring-real"
    assert page.errors == []


def test_run_page_toggles_d_outputs_and_gradient_norms(
    page: PageWatch, base_url: str, runs: StoreRuns
) -> None:
    page.open(f"{base_url}/runs/{runs.trained}")
    page.page.check('input[data-toggle="showD"]')
    assert page.page.get_attribute("#chart-losses", "data-series") == "5"
    page.page.check('input[data-toggle="showGrad"]')
    assert page.page.get_attribute("#chart-losses", "data-series") == "7"
    page.page.click('button[data-resolution="epoch"]')
    assert points(page.page, "#chart-losses") == 2  # one point per epoch
    assert page.errors == []


def test_slider_changes_the_grid(page: PageWatch, base_url: str, runs: StoreRuns) -> None:
    page.open(f"{base_url}/runs/{runs.collapsed}")
    image = page.page.locator("#images-grid img.player-img")
    assert image.get_attribute("src").endswith("/images/grid/5")  # follows the newest
    page.page.locator("#images-grid input.player-slider").fill("1")
    assert image.get_attribute("src").endswith("/images/grid/2")
    page.page.wait_for_function(
        "() => { const i = document.querySelector('#images-grid img.player-img');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    assert page.page.locator("#images-grid").get_attribute("data-epoch") is None
    assert page.page.locator("#images-grid .player").get_attribute("data-epoch") == "2"
    page.page.click('#images-grid button[aria-label="Next epoch"]')
    assert image.get_attribute("src").endswith("/images/grid/3")


def test_run_page_shows_verdicts_metrics_and_ndb_bins(
    page: PageWatch, base_url: str, runs: StoreRuns
) -> None:
    page.open(f"{base_url}/runs/{runs.collapsed}")
    verdict_card = page.page.locator("#verdict")
    assert verdict_card.locator(".badge.verdict").get_attribute("data-verdict") == "mode_collapse"
    assert "--latent-dim 128" in verdict_card.text_content()
    groups = page.page.locator("#metrics .chart-box")
    assert sorted(groups.evaluate_all("els => els.map(e => e.dataset.group)")) == [
        "classes",
        "ndb",
        "prdc",
    ]
    assert (
        page.page.locator('#metrics .chart-box[data-group="prdc"]').get_attribute("data-series")
        == "2"
    )
    assert page.page.locator("#images-ndb img.player-img").count() == 1
    kinds = page.page.locator("#timeline .tl-item").evaluate_all(
        "els => els.map(e => e.dataset.kind)"
    )
    # started, warming_up, healthy, mode_collapse (twice, folded into one), finished
    assert kinds == ["started", "verdict", "verdict", "verdict", "finished"]
    assert page.errors == []


def test_a_training_run_gains_points_without_a_reload(page: PageWatch, serve, tmp_path) -> None:
    rng = np.random.default_rng(0)
    with RunStore(tmp_path / "live") as store:
        run_id = store.create_run("live", {"dataset": "ring", "epochs": 3})
        write_epoch(store, run_id, 1, 6, rng)
        base = serve(tmp_path / "live")
        page.open(f"{base}/runs/{run_id}")
        assert points(page.page, "#chart-losses") == 6
        page.page.evaluate("() => { window.__sameDocument = true; }")

        write_epoch(store, run_id, 2, 6, rng)  # the trainer's next epoch, from "elsewhere"
        page.page.wait_for_function(
            "() => document.querySelector('#chart-losses').dataset.points === '12'"
        )
        assert page.page.evaluate("() => window.__sameDocument") is True
        # The grid follows the newest epoch, the header counts it.
        page.page.wait_for_function(
            "() => document.querySelector('#images-grid .player').dataset.epoch === '2'"
        )
        store.log_event(run_id, "verdict", {"kind": "healthy", "since_step": 6}, step=12)
        page.page.wait_for_function(
            "() => document.querySelector('#verdict .badge.verdict').dataset.verdict === 'healthy'"
        )
        # A resume records the steps after its checkpoint again: the page fetches all anew.
        store.log_event(run_id, "resumed", {"epoch": 1}, step=6)
        write_epoch(store, run_id, 2, 6, rng)
        write_epoch(store, run_id, 3, 6, rng)
        page.page.wait_for_function(
            "() => document.querySelector('#chart-losses').dataset.points === '18'"
        )
        assert page.page.evaluate("() => window.__sameDocument") is True
    assert page.errors == []


def test_the_verdict_sentence_follows_its_evidence(page: PageWatch, serve, tmp_path) -> None:
    with RunStore(tmp_path / "cf") as store:
        run_id = store.create_run("noise", {"dataset": "mnist", "epochs": 3})
        write_epoch(store, run_id, 1, 6, np.random.default_rng(0))
        precision = {"metric": "metric/precision", "value": 0.01, "threshold": 0.1, "op": "<"}
        payload = {"kind": "convergence_failure", "since_step": 6, "evidence": [precision]}
        store.log_event(run_id, "verdict", payload, step=6)
    page.open(f"{serve(tmp_path / 'cf')}/runs/{run_id}")
    note = page.page.locator("#verdict .verdict-note").text_content()
    assert note.startswith("The samples are far from the real data (low precision), since step 6")
    assert "overpowers" not in note
    assert page.errors == []


def test_a_held_verdict_says_what_the_latest_evaluation_found(
    page: PageWatch, serve, tmp_path
) -> None:
    with RunStore(tmp_path / "held") as store:
        run_id = store.create_run("ring", {"dataset": "ring", "epochs": 3})
        write_epoch(store, run_id, 1, 6, np.random.default_rng(0))
        store.log_event(run_id, "verdict", {"kind": "healthy", "since_step": 6}, step=6)
        held = {"kind": "healthy", "raw_kind": "mode_collapse", "since_step": 6}
        store.log_event(run_id, "verdict", {**held, "confidence": 0.08}, step=12)
    page.open(f"{serve(tmp_path / 'held')}/runs/{run_id}")
    pending = page.page.locator("#verdict .verdict-pending").text_content()
    assert pending.startswith("The latest evaluation says “Mode collapse”")
    assert "confirmed 2 times" not in page.page.locator("#verdict .verdict-note").text_content()
    summary = page.page.locator('.timeline li[data-kind="verdict"] summary').last.text_content()
    assert "8% confident · latest evaluation: “Mode collapse”, not yet confirmed" in summary
    assert page.errors == []


def test_the_reference_event_summarises_its_bands(page: PageWatch, serve, tmp_path) -> None:
    """The reference's real-data bands are a nested payload: one short line, not raw JSON."""
    with RunStore(tmp_path / "ref") as store:
        run_id = store.create_run("ring", {"dataset": "ring", "epochs": 3})
        write_epoch(store, run_id, 1, 6, np.random.default_rng(0))
        band = {"mean": 0.99, "std": 0.002, "low": 0.98, "high": 0.995}
        bands = {f"metric/{k}": band for k in ("high_quality", "mode_kl", "modes", "x", "y")}
        store.log_event(run_id, "reference", {"n": 512, "draws": 5, "bands": bands}, step=6)
    page.open(f"{serve(tmp_path / 'ref')}/runs/{run_id}")
    item = page.page.locator('.timeline li[data-kind="reference"]')
    assert item.locator("strong").text_content() == "Reference prepared"
    shown = item.locator("dd").all_text_contents()
    assert shown[:2] == ["512", "5"]
    assert shown[2] == "5 entries: high_quality, mode_kl, modes, x, …"
    assert '"mean"' in item.locator("dd").nth(2).get_attribute("title")  # the whole, on hover
    assert page.errors == []


def test_compare_page_overlays_two_runs(page: PageWatch, base_url: str, runs: StoreRuns) -> None:
    page.open(f"{base_url}/compare?runs={runs.trained},{runs.collapsed}")
    losses = page.page.locator('#compare-losses .chart-box[data-key="loss/g"]')
    assert losses.get_attribute("data-series") == "2"
    # One x axis, the union of both runs' steps (1..8 and 1..50), each run with its own line.
    assert int(losses.get_attribute("data-points")) == 50
    assert page.page.locator("#compare-grids figure").count() == 2
    header = page.page.locator("#compare-table thead th").all_text_contents()
    assert header[1:] == ["ring-real", "latent-2-collapsed"]
    assert page.errors == []


def test_runs_list_links_to_a_comparison(page: PageWatch, base_url: str, runs: StoreRuns) -> None:
    page.open(base_url + "/")
    page.page.check(f'tr[data-run-id="{runs.trained}"] input[type="checkbox"]')
    page.page.check(f'tr[data-run-id="{runs.collapsed}"] input[type="checkbox"]')
    page.page.click("a.btn.primary")
    page.page.wait_for_selector("#gw-main[data-ready]")
    assert "/compare?runs=" in page.page.url
    assert page.page.locator("#compare-grids figure").count() == 2


def test_a_script_name_is_shown_as_text(page: PageWatch, base_url: str, runs: StoreRuns) -> None:
    page.open(base_url + "/")
    assert page.page.locator(f'tr[data-run-id="{runs.script}"] .run-name').text_content() == (
        SCRIPT_NAME
    )
    page.open(f"{base_url}/runs/{runs.script}")
    assert page.page.locator("h1.run-title").text_content() == SCRIPT_NAME
    assert page.page.evaluate("() => document.querySelectorAll('main script').length") == 0
    assert page.dialogs == []
    assert page.errors == []
