"""``ganwatch report``: one self-contained HTML file that opens with no server and no network."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from dashboard_support import SCRIPT_NAME, PageWatch, StoreRuns

from ganwatch.cli import main
from ganwatch.dashboard.report import build_report, pick_evenly, write_report
from ganwatch.store import RunStore


def embedded(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="gw-data">(.*?)</script>', html, re.S)
    assert match is not None
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def report(runs: StoreRuns, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report") / "sub" / "report.html"
    argv = ["report", str(runs.trained), "latent-2-collapsed", str(runs.script)]
    assert main([*argv, "--out", str(out), "--store", str(runs.root)]) == 0
    return out


def test_report_is_one_file_with_everything_inline(report: Path, runs: StoreRuns) -> None:
    html = report.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"<link[^>]+stylesheet", html)
    assert not re.search(r"""(src|href)=["']?(https?:)?//|url\(\s*["']?(https?:)?//""", html)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src &#x27;none&#x27;" in csp
    assert "unsafe" not in csp
    data = embedded(html)
    assert [run["id"] for run in data["runs"]] == [runs.trained, runs.collapsed, runs.script]
    frames = data["details"][str(runs.collapsed)]["images"]["grid"]
    assert len(frames) == 5 and frames[0]["url"].startswith("data:image/png;base64,")
    assert data["runs"][1]["preview"] == frames[-1]["url"]
    assert data["start"] == f"/compare?runs={runs.trained},{runs.collapsed},{runs.script}"


def test_report_data_cannot_close_its_script_element(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    data_block = re.search(r'id="gw-data">(.*?)</script>', html, re.S).group(1)
    assert "<" not in data_block and ">" not in data_block
    assert embedded(html)["runs"][2]["name"] == SCRIPT_NAME


def test_report_leaves_no_partial_file_and_names_unknown_runs(
    runs: StoreRuns, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "r.html"
    assert main(["report", "nope", "--out", str(out), "--store", str(runs.root)]) == 2
    assert "no run 'nope'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    assert main(["report", "1", "--out", str(out), "--store", str(tmp_path / "none")]) == 2
    assert "no run store" in capsys.readouterr().err


def test_pick_evenly_keeps_first_and_last() -> None:
    assert pick_evenly(list(range(10)), 20) == list(range(10))
    assert pick_evenly(list(range(101)), 5) == [0, 25, 50, 75, 100]
    assert pick_evenly(list(range(7)), 1) == [6]


def test_report_caps_pictures_per_kind(runs: StoreRuns) -> None:
    with RunStore(runs.root, read_only=True) as store:
        data = embedded(build_report(store, [runs.collapsed], max_images=2))
    assert [f["epoch"] for f in data["details"][str(runs.collapsed)]["images"]["grid"]] == [1, 5]
    assert data["start"] == f"/runs/{runs.collapsed}"


def open_offline(browser, path: Path) -> tuple[PageWatch, list[str], object]:
    """Open a file with the network off and every non-file request refused and recorded."""
    context = browser.new_context(offline=True, viewport={"width": 1360, "height": 900})
    outside: list[str] = []

    def guard(route) -> None:
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    watch = PageWatch(context.new_page())
    watch.page.on(
        "request",
        lambda request: (
            None if request.url.startswith(("file:", "data:")) else outside.append(request.url)
        ),
    )
    watch.open(path.as_uri())
    return watch, outside, context


def test_report_opens_offline_with_every_view(browser, report: Path, runs: StoreRuns) -> None:
    watch, outside, context = open_offline(browser, report)
    try:
        page = watch.page
        # Three runs: it opens on their comparison.
        assert (
            page.locator('#compare-losses .chart-box[data-key="loss/g"]').get_attribute(
                "data-series"
            )
            == "3"
        )
        page.wait_for_function(
            "() => [...document.querySelectorAll('#compare-grids img.player-img')]"
            ".every(i => i.complete && i.naturalWidth > 0)"
        )
        # A run page, reached by its link, inside the same file.
        page.click(f'#compare-grids figure[data-run-id="{runs.collapsed}"] figcaption a')
        page.wait_for_selector("#gw-main[data-ready] #chart-losses[data-points='50']")
        assert page.url.startswith(report.as_uri())
        image = page.locator("#images-grid img.player-img")
        first = image.get_attribute("src")
        page.locator("#images-grid input.player-slider").fill("0")
        assert image.get_attribute("src") != first
        page.wait_for_function(
            "() => document.querySelector('#images-grid img.player-img').naturalWidth > 0"
        )
        assert page.locator("#verdict .badge.verdict").get_attribute("data-verdict") == (
            "mode_collapse"
        )
        # The runs list, with the hostile name as text.
        page.click("a.crumb")
        page.wait_for_selector("#runs-table tbody tr")
        assert page.locator(f'tr[data-run-id="{runs.script}"] .run-name').text_content() == (
            SCRIPT_NAME
        )
        assert outside == []
        assert watch.dialogs == []
        assert watch.errors == []  # CSP violations would be console errors
    finally:
        context.close()


def test_single_run_report_opens_on_its_page(browser, runs: StoreRuns, tmp_path: Path) -> None:
    out = write_report(runs.root, [str(runs.trained)], tmp_path / "one.html")
    watch, outside, context = open_offline(browser, out)
    try:
        assert watch.page.locator("h1.run-title").text_content() == "ring-real"
        assert watch.page.get_attribute("#chart-losses", "data-points") == "8"
        assert outside == [] and watch.errors == []
    finally:
        context.close()
