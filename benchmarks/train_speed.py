"""Time per epoch of the stable preset: ganwatch's trainer beside the article's own loop.

Both run in this one invocation, on the same device, model, batch (1024) and update rule;
ganwatch records everything it normally records (per-step metrics, epoch metrics, grid PNGs,
checkpoints) into a temporary store. The article's loop is ../shared/bench/seed_reference.py when
torchvision imports, else benchmarks/article_loop.py (the same loop without torchvision).
The first epoch of each is warm-up and left out of the median.

    python benchmarks/train_speed.py --data-dir DIR [--epochs 5] [--train-size N]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from ganwatch.config import build_config
from ganwatch.store import RunStore
from ganwatch.training import train

HERE = Path(__file__).resolve().parent
SEED_REFERENCE = HERE.parent.parent / "shared" / "bench" / "seed_reference.py"


def median(values: list[float]) -> float:
    values = sorted(values)
    return values[len(values) // 2]


def time_ganwatch(args: argparse.Namespace) -> tuple[float, int]:
    overrides = {
        "preset": "stable",
        "epochs": args.epochs,
        "data_dir": args.data_dir,
        "train_size": args.train_size,
        "device": args.device,
        "precision": args.precision,
        "checkpoint_every": 1,
        "metrics": args.metrics,
    }
    config = build_config(overrides)
    with tempfile.TemporaryDirectory() as tmp, RunStore(tmp) as store:
        result = train(config, store, name="bench", quiet=True)
        epochs = store.epoch_metrics(result.run_id)
    times = [e["time/epoch_s"] for e in epochs[1:]] or [epochs[0]["time/epoch_s"]]
    images = round(epochs[-1]["speed/images_per_s"] * epochs[-1]["time/epoch_s"])
    return median(times), images


def time_article(args: argparse.Namespace) -> tuple[float, int, str]:
    has_torchvision = importlib.util.find_spec("torchvision") is not None
    if has_torchvision and SEED_REFERENCE.exists() and args.train_size is None:
        cmd = [sys.executable, str(SEED_REFERENCE), args.data_dir, str(args.epochs)]
        name = "seed_reference.py"
    else:
        cmd = [
            sys.executable,
            str(HERE / "article_loop.py"),
            args.data_dir,
            str(args.epochs),
            "0",
            str(args.train_size or 0),
        ]
        name = "article_loop.py"
        if not args.train_size:
            cmd.pop()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    match = re.search(r"images=(\d+) median_epoch_s=([\d.]+)", out)
    if not match:
        raise RuntimeError(f"no RESULT line from {name}:\n{out}")
    return float(match.group(2)), int(match.group(1)), name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("GANWATCH_DATA_DIR"),
        help="folder with the MNIST IDX files (default $GANWATCH_DATA_DIR)",
    )
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument(
        "--train-size",
        type=int,
        default=None,
        help="first N training images only (keeps CPU runs short)",
    )
    parser.add_argument("--device", default="auto")
    parser.add_argument("--precision", default="auto")
    parser.add_argument(
        "--metrics",
        action="store_true",
        help="also run the monitor's per-epoch metrics (off: recording only)",
    )
    args = parser.parse_args()
    if not args.data_dir:
        parser.error("--data-dir (or $GANWATCH_DATA_DIR) is required")
    device = (
        torch.cuda.get_device_name()
        if torch.cuda.is_available() and args.device != "cpu"
        else f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"
    )
    started = time.strftime("%Y-%m-%d")
    ours, images = time_ganwatch(args)
    ref, ref_images, ref_name = time_article(args)
    ours_ips, ref_ips = images / ours, ref_images / ref
    print(f"date {started}  device {device}  torch {torch.__version__}  precision {args.precision}")
    print("| loop | images/epoch | median epoch (s) | images/s |")
    print("|---|---|---|---|")
    print(f"| article ({ref_name}) | {ref_images} | {ref:.3f} | {ref_ips:,.0f} |")
    print(f"| ganwatch train (recording on) | {images} | {ours:.3f} | {ours_ips:,.0f} |")
    print(f"RESULT ratio ganwatch/article images_per_s = {ours_ips / ref_ips:.2f}x")


if __name__ == "__main__":
    main()
