"""Minibatch discrimination's cost: a discriminator step with the layer against one without.

One D step is the forward and backward of D's loss on a real and a fake batch, as the trainer
runs it (``separate_batches``: real and fake judged apart). Three variants of the same D, each
in a fresh process so that its peak memory is its own: ``plain`` (no layer), ``layer`` (the
layer as shipped: cdist per kernel) and ``broadcast`` (the layer's earlier formula, the whole
(B, B, K, D) tensor at once, kept here for the comparison). D is the toy MLP (2-D points)
or the article's convolutional D (MNIST), at batch 1024 and 32 kernels by default.

    python benchmarks/mbd_speed.py [--model mlp|article] [--batch 1024] [--steps 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

import torch
from torch import nn


def _broadcast_closeness(m: torch.Tensor) -> torch.Tensor:
    return torch.exp(-(m.unsqueeze(0) - m.unsqueeze(1)).abs().sum(-1)).sum(1) - 1


def _discriminator(model: str) -> tuple[nn.Module, tuple[int, ...]]:
    if model == "mlp":
        from ganwatch.models.mlp import MLPDiscriminator

        return MLPDiscriminator(in_dim=2), (2,)
    from ganwatch.models import build_models

    return build_models("article", 128, (1, 28, 28))[1], (1, 28, 28)


def one_variant(variant: str, model: str, batch: int, kernels: int, steps: int) -> dict:
    """Median seconds of a D step and the process's peak memory, for one variant."""
    from ganwatch.stabilizers import minibatch_discrimination as mbd

    torch.manual_seed(0)
    d, shape = _discriminator(model)
    if variant == "broadcast":
        mbd.batch_closeness = _broadcast_closeness  # the earlier formula, for comparison
    if variant != "plain":
        mbd.add_minibatch_discrimination(d, kernels)
    opt = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    real, fake = torch.randn(batch, *shape), torch.randn(batch, *shape)
    times = []
    for _ in range(steps + 1):
        started = time.perf_counter()
        out_real, out_fake = d(real), d(fake)
        loss = bce(out_real, torch.ones_like(out_real)) + bce(out_fake, torch.zeros_like(out_fake))
        opt.zero_grad()
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - started)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    median = sorted(times[1:])[len(times[1:]) // 2]
    return {"variant": variant, "step_s": median, "peak_mb": peak_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("mlp", "article"), default="mlp")
    parser.add_argument("--batch", type=int, default=1024)
    parser.add_argument("--kernels", type=int, default=32)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--variants", default="plain,layer,broadcast")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_variant(args.one, args.model, args.batch, args.kernels, args.steps)))
        return
    rows = []
    for variant in args.variants.split(","):
        command = [sys.executable, __file__, "--one", variant, "--model", args.model]
        command += ["--batch", str(args.batch), "--kernels", str(args.kernels)]
        command += ["--steps", str(args.steps)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
    plain = rows[0]
    print(
        f"date {time.strftime('%Y-%m-%d')}  device CPU ({os.cpu_count()} cores, "
        f"{torch.get_num_threads()} threads)  torch {torch.__version__}  model {args.model}  "
        f"batch {args.batch}  kernels {args.kernels}"
    )
    print("| D step | seconds | x plain | peak memory MB | x plain |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['variant']} | {row['step_s']:.3f} | {row['step_s'] / plain['step_s']:.2f} "
            f"| {row['peak_mb']:.0f} | {row['peak_mb'] / plain['peak_mb']:.2f} |"
        )


if __name__ == "__main__":
    main()
