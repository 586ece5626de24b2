"""Make the README's dashboard screenshots from real runs.

Trains two runs on the 8-Gaussian ring into a scratch store, one that learns the ring (the
verdict corpus's healthy ring recipe, ``ring-1-1`` at seed 0: 40 epochs, healthy from the
11th, with dips off the modes on the way, each shown) and one that fails (Adam's default beta1 of
0.9 with small batches: on the machine that made the current pictures its samples never
settle on the modes, a convergence failure), serves the dashboard on an ephemeral port of
127.0.0.1, and photographs each run's page with Debian's chromium:

    .venv/bin/python scripts/dashboard_screenshots.py [--out docs] [--store DIR]

Writes ``dashboard-run-stable.png`` and ``dashboard-run-collapsed.png``. Takes a few minutes
on two CPU cores. Whatever the store holds is shown: verdicts and metrics appear in the
pictures once training records them.
"""

from __future__ import annotations

import argparse
import io
import shutil
import tempfile
import threading
from pathlib import Path

import torch
from PIL import Image

from ganwatch.config import build_config
from ganwatch.dashboard.server import make_server
from ganwatch.store import RunStore
from ganwatch.training import train
from ganwatch.validation.corpus import recipe

RING = {"dataset": "ring", "latent_dim": 2, "device": "cpu", "seed": 0}
RUNS = {
    "stable": ("ring-stable", recipe("ring-1-1").config(seed=0)),
    "collapsed": (
        "ring-beta1-0.9",
        {"train_size": 10000, "batch_size": 64, "epochs": 10, "lr": 3e-4, "beta1": 0.9},
    ),
}
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1400, "height": 900}
MAX_BYTES = 300_000


def train_runs(root: Path) -> dict[str, int]:
    torch.set_num_threads(1)  # small MLPs: one thread is fastest and leaves the other core free
    ids = {}
    with RunStore(root) as store:
        for role, (name, values) in RUNS.items():
            result = train(build_config({**RING, **values}), store, name=name, quiet=True)
            print(f"trained {name}: run {result.run_id}, {result.status}, {result.step} steps")
            ids[role] = result.run_id
    return ids


def small_png(png: bytes, path: Path) -> None:
    """Save a screenshot with an adaptive palette: UI pictures lose nothing visible, and the
    file stays small enough for a README."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    for colors in (256, 128, 64):
        buffer = io.BytesIO()
        image.quantize(
            colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        ).save(buffer, "PNG", optimize=True)
        if buffer.tell() <= MAX_BYTES:
            break
    path.write_bytes(buffer.getvalue())
    print(f"wrote {path} ({buffer.tell() // 1024} KB)")


def photograph(root: Path, ids: dict[str, int], out: Path, chromium: str) -> None:
    from playwright.sync_api import sync_playwright

    server = make_server(root, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport=VIEWPORT, color_scheme="light")
            page.set_default_timeout(20_000)
            for role, run_id in ids.items():
                page.goto(f"{server.url}runs/{run_id}")
                page.wait_for_selector("#gw-main[data-ready]")
                page.wait_for_function(
                    "() => [...document.querySelectorAll('img.player-img')]"
                    ".every(i => i.complete && i.naturalWidth > 0)"
                )
                page.mouse.move(0, 0)
                small_png(page.screenshot(full_page=True), out / f"dashboard-run-{role}.png")
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="docs", help="folder for the PNGs (default docs)")
    parser.add_argument("--store", help="train into this store and keep it (default: scratch)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.store:
        root = Path(args.store)
        photograph(root, train_runs(root), out, args.chromium)
        return
    with tempfile.TemporaryDirectory(prefix="ganwatch-shots-") as scratch:
        root = Path(scratch) / "store"
        photograph(root, train_runs(root), out, args.chromium)


if __name__ == "__main__":
    main()
