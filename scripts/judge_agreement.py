"""Does the corpus judge's "recognisable" share depend on its classifier? A check for issue 10.

The corpus judge (``ganwatch.validation.judge``) calls a sample recognisable when its fully
connected classifier is 90% sure of it, its ink is in real digits' range and its pixels are
as near real digits' principal subspace as 99% of real digits are; fewer than 30%
recognisable is a convergence failure, more (with classes missing) a mode collapse. This
script trains corpus recipes at a seed outside the corpus (18 by default: the corpus uses
0 to 5 and 8 to 17; docs/diagnosis.md's figures were measured at seed 10 when that was
outside it) and after every epoch measures, beside the judge's share on its 10,000 samples, the
same kind of share by another classifier: the Monitor's CNN, on 512 other samples, with
"sure" meaning at least as confident as it is of 95% of real test digits, and the judge's
ink range. If "recognisable" were a property of the samples, the two shares would rise and fall
together. It prints one row per epoch and the correlations, as markdown.

    GANWATCH_DATA_DIR=../shared/data/mnist python scripts/judge_agreement.py \\
        [--recipes mnist-mlp,mnist-latent-2,...] [--seed 18] [--jobs 2] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch

DEFAULT_RECIPES = "mnist-mlp,mnist-latent-2,mnist-latent-1,mnist-adam-default-betas"
MONITOR_SAMPLES = 512
REAL_QUANTILE = 0.05  # "sure": at least as confident as for 95% of real test digits


def study(name: str, seed: int, data_dir: str, out: str) -> list[dict[str, Any]]:
    """Train recipe ``name`` at ``seed``; per epoch, the judge's share and the CNN's."""
    from ganwatch.config import build_config
    from ganwatch.data import load_dataset
    from ganwatch.metrics.classifier import classifier_probs
    from ganwatch.metrics.classifier_training import load_classifier
    from ganwatch.metrics.realism import ink
    from ganwatch.store import RunStore
    from ganwatch.training import train
    from ganwatch.training.preview import evaluation_generator
    from ganwatch.validation.corpus import recipe
    from ganwatch.validation.judge import judge_generator, load_judge

    torch.set_num_threads(1)
    values = {**recipe(name).config(seed), "data_dir": data_dir}
    config = build_config(values)
    judge = load_judge(data_dir)
    cnn = load_classifier("mnist", data_dir=data_dir)
    real = load_dataset("mnist", split="test", data_dir=data_dir).data[:5000]
    sure = float(classifier_probs(cnn, real).max(dim=1).values.quantile(REAL_QUANTILE))
    low, high = judge.ink_range.tolist()  # the judge's own ink range
    rows: dict[int, dict[str, Any]] = {}

    @torch.no_grad()
    def on_epoch(state: Any) -> None:
        generator = evaluation_generator(state)
        truth = judge_generator(generator, state.latent_dim, config.dataset, state.epoch, judge)
        noise = torch.randn(
            MONITOR_SAMPLES,
            state.latent_dim,
            generator=torch.Generator().manual_seed(999 + state.epoch),
        )
        device = next(generator.parameters()).device
        x = generator(noise.to(device)).float().cpu().reshape(-1, 1, 28, 28)
        confident = classifier_probs(cnn, x).max(dim=1).values >= sure
        amount = ink(x)
        inked = (amount >= low) & (amount <= high)
        rows[state.epoch] = {
            "recipe": name,
            "epoch": state.epoch,
            "truth": truth.label,
            "judge_share": truth.quality,
            "cnn_share": float((confident & inked).float().mean()),
        }

    with RunStore(Path(out) / f"{name}-{seed}") as store:
        result = train(config, store, name=f"{name}/seed={seed}", quiet=True, on_epoch=on_epoch)
        for row in store.epoch_metrics(result.run_id):
            if row["epoch"] in rows:
                rows[row["epoch"]]["realism"] = row.get("metric/realism")
    return [rows[epoch] for epoch in sorted(rows)]


def _correlation(rows: list[dict[str, Any]], key: str) -> float:
    pairs = [(r[key], r["judge_share"]) for r in rows if r.get(key) is not None]
    a, b = np.array(pairs, dtype=float).T
    return float(np.corrcoef(a, b)[0, 1])


def report(rows: list[dict[str, Any]], seed: int) -> str:
    """The rows as a markdown table, then the correlations with the judge's share."""
    lines = [
        f"Seed {seed}; the judge's share of 10,000 samples against the CNN's of 512.",
        "",
        "| recipe | epoch | judge's truth | judge's share | CNN's share | Monitor's realism |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        realism = "-" if r.get("realism") is None else f"{r['realism']:.2f}"
        lines.append(
            f"| {r['recipe']} | {r['epoch']} | {r['truth']} | {r['judge_share']:.2f} "
            f"| {r['cnn_share']:.2f} | {realism} |"
        )
    decisive = [r for r in rows if r["truth"] in ("convergence_failure", "mode_collapse")]
    lines += [
        "",
        f"Correlation with the judge's share over {len(rows)} evaluations: CNN's share "
        f"{_correlation(rows, 'cnn_share'):.2f}, realism {_correlation(rows, 'realism'):.2f}; "
        f"over the {len(decisive)} the judge calls convergence_failure or mode_collapse: "
        f"{_correlation(decisive, 'cnn_share'):.2f} and {_correlation(decisive, 'realism'):.2f}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default=DEFAULT_RECIPES)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None, help="keep the runs' stores here")
    args = parser.parse_args()
    data_dir = os.environ.get("GANWATCH_DATA_DIR")
    if not data_dir:
        parser.error("set GANWATCH_DATA_DIR to the MNIST folder")
    names = args.recipes.split(",")
    with tempfile.TemporaryDirectory() as scratch:
        out = str(args.out or scratch)
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(study, n, args.seed, data_dir, out) for n in names]
            rows = [row for future in futures for row in future.result()]
    if args.out:
        (args.out / "judge_agreement.json").write_text(json.dumps(rows, indent=1))
    print(report(rows, args.seed))


if __name__ == "__main__":
    main()
