"""What one evaluation costs on 3x32x32 pictures: 1,000 samples against a 10,000-image reference.

The reference is real 32x32 RGB crops of scikit-image's photographs (``examples/real_data``;
12,000 crops: 10,000 kept as the reference, 2,000 held out for the bands), given to
``Monitor(reference=..., labels=...)`` as NHWC uint8. The first ``end_epoch`` prepares the
reference (the seeded random conv net's features of 10,000 images, the linear probe, the
realism thresholds, the bands of held-out real data) and measures; later ones only measure,
with NDB every fifth one as the Monitor does by default. Each is timed; the table says which
ran NDB.

    python benchmarks/picture_eval_cost.py [--samples 1000] [--evaluations 6]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from ganwatch.monitor import Monitor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from real_data import PHOTOS, photo_patches  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--reference", type=int, default=10_000, help="reference images kept")
    parser.add_argument("--evaluations", type=int, default=6)
    args = parser.parse_args()
    per_photo = -(-(args.reference * 6 // 5) // len(PHOTOS))  # a sixth more, held out
    patches, labels = photo_patches(per_photo)
    samples, _ = photo_patches(-(-args.samples // len(PHOTOS)), "held_out", seed=1)
    samples = samples[: args.samples]
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        mon = Monitor(patches, tmp, "bench", labels=labels, eval_samples=args.samples)
        kept = None
        rng = np.random.default_rng(0)
        for _ in range(args.evaluations):
            for _ in range(10):
                mon.log_step(float(rng.random()), 0.6, 0.6)
            started = time.perf_counter()
            mon.end_epoch(samples=samples)
            times.append(time.perf_counter() - started)
            kept = kept or len(mon.measurement.prepared().reference)
        mon.close()
    device = f"CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads)"
    print(
        f"date {time.strftime('%Y-%m-%d')}  device {device}  torch {torch.__version__}  "
        f"reference {kept} x 3x32x32  samples {args.samples}"
    )
    print("| evaluation | NDB | seconds |")
    print("|---|---|---:|")
    for i, seconds in enumerate(times):
        what = "first (reference prepared)" if i == 0 else f"{i + 1}"
        print(f"| {what} | {'yes' if i % 5 == 0 else 'no'} | {seconds:.2f} |")
    later = [t for i, t in enumerate(times) if i % 5]
    print(
        f"RESULT first_eval_s={times[0]:.2f} "
        f"later_eval_s={statistics.median(later) if later else float('nan'):.3f}"
    )


if __name__ == "__main__":
    main()
