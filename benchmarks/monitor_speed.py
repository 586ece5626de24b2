"""What the Monitor costs a user's loop: its first evaluation (the reference prepared) and
each later one, against the time of a training epoch, on one device.

A user's loop with ``Monitor(reference="mnist")``: the first ``end_epoch`` prepares the
reference (the classifier loaded, the features of 10,000 reference digits, the NDB bins, the
held-out pool and its bands) and measures; later ones only measure. The epoch it is compared
with is the stable preset's (the article's model, batch 1024) over ``--train-size`` images.
``--cold`` empties ganwatch's cache first (official MNIST then reads the classifier the package
carries, when it was built with it; otherwise, and for other digits, it is trained, once). A second
Monitor then starts as another process would (the in-process share of prepared references
cleared): its first evaluation reads the prepared reference from the disk cache.

    python benchmarks/monitor_speed.py --data-dir DIR [--device cuda] [--samples 2048]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time

import numpy as np
import torch

from ganwatch.config import build_config
from ganwatch.monitor import Monitor
from ganwatch.store import RunStore
from ganwatch.training import train


def time_monitor(args: argparse.Namespace, store: str, generator: torch.nn.Module) -> list[float]:
    """Seconds of each ``end_epoch`` of a loop that evaluates ``args.samples`` samples."""
    mon = Monitor("mnist", store, "bench", data_dir=args.data_dir, eval_samples=args.samples)
    times = []
    rng = np.random.default_rng(0)
    for _ in range(args.evaluations):
        for _ in range(10):
            mon.log_step(float(rng.random()), 0.6, 0.6)
        started = time.perf_counter()
        mon.end_epoch(generator=generator)
        times.append(time.perf_counter() - started)
    mon.close()
    return times


def time_epoch(args: argparse.Namespace, store: str) -> tuple[float, torch.nn.Module]:
    """Median epoch of the stable preset (recording on, metrics off) and its generator."""
    config = build_config(
        {
            "preset": "stable",
            "epochs": 3,
            "data_dir": args.data_dir,
            "train_size": args.train_size,
            "device": args.device,
            "metrics": False,
            "checkpoint_every": 100,
        }
    )
    with RunStore(store) as opened:
        result = train(config, opened, quiet=True, name="epoch")
        epochs = opened.epoch_metrics(result.run_id)
    from ganwatch.models import build_models

    generator, _ = build_models("article", 128, (1, 28, 28))
    generator.to(args.device if args.device != "auto" else "cpu")
    return statistics.median(e["time/epoch_s"] for e in epochs[1:]), generator


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=os.environ.get("GANWATCH_DATA_DIR"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--samples", type=int, default=None, help="default: 512 CPU, 2048 GPU")
    parser.add_argument("--evaluations", type=int, default=4)
    parser.add_argument("--train-size", type=int, default=None, help="images per epoch")
    parser.add_argument("--cold", action="store_true", help="start from an empty cache")
    args = parser.parse_args()
    if not args.data_dir:
        parser.error("--data-dir (or $GANWATCH_DATA_DIR) is required")
    with tempfile.TemporaryDirectory() as tmp:
        if args.cold:
            os.environ["GANWATCH_CACHE_DIR"] = os.path.join(tmp, "cache")
        epoch, generator = time_epoch(args, os.path.join(tmp, "epoch"))
        times = time_monitor(args, os.path.join(tmp, "monitor"), generator)
        from ganwatch.monitor import measure

        measure._SHARED.clear()  # what a new process finds: only the disk cache
        again = time_monitor(args, os.path.join(tmp, "monitor-again"), generator)
        if args.cold:
            shutil.rmtree(os.path.join(tmp, "cache"), ignore_errors=True)
    device = (
        torch.cuda.get_device_name()
        if args.device == "cuda"
        else (f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads)")
    )
    later = statistics.median(times[1:]) if len(times) > 1 else float("nan")
    print(
        f"date {time.strftime('%Y-%m-%d')}  device {device}  torch {torch.__version__}  "
        f"samples {args.samples or 'default'}  cache {'cold' if args.cold else 'warm'}"
    )
    print("| measure | seconds | share of a stable-preset epoch |")
    print("|---|---:|---:|")
    print(f"| stable-preset epoch ({args.train_size or 'all'} images) | {epoch:.2f} | - |")
    print(f"| first evaluation (reference prepared) | {times[0]:.2f} | {times[0] / epoch:.1%} |")
    print(f"| later evaluation (median) | {later:.2f} | {later / epoch:.1%} |")
    print(
        f"| first evaluation of the next process (prepared reference on disk) | {again[0]:.2f} "
        f"| {again[0] / epoch:.1%} |"
    )
    print(
        f"RESULT first_eval_s={times[0]:.2f} later_eval_s={later:.3f} overhead={later / epoch:.3f}"
        f" next_first_eval_s={again[0]:.2f}"
    )


if __name__ == "__main__":
    main()
