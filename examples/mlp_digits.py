"""A user's own MLP GAN on scikit-learn's 8x8 digits, watched by ganwatch's Monitor.

The digits are 8x8 floats in [0, 1] (the Monitor detects the range); their labels give class
coverage. The lines marked ``# +`` are all that the Monitor adds to the loop.

    python examples/mlp_digits.py [--epochs 60] [--store ganwatch_runs]
"""

from __future__ import annotations

import argparse

import torch
from real_data import digits
from torch import nn

import ganwatch  # +


def main(argv: list[str] | None = None) -> ganwatch.monitor.Monitor:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--latent-dim", type=int, default=16)
    parser.add_argument("--store", default="ganwatch_runs")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    images, labels = digits()
    real = torch.from_numpy(images).reshape(len(images), 64)  # in [0, 1], as loaded
    g = nn.Sequential(nn.Linear(args.latent_dim, 128), nn.ReLU(), nn.Linear(128, 64), nn.Sigmoid())
    d = nn.Sequential(nn.Linear(64, 128), nn.LeakyReLU(0.2), nn.Linear(128, 1))
    opt_g = torch.optim.Adam(g.parameters(), 1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 1e-3, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    with ganwatch.Monitor(images, args.store, "mlp-digits", vars(args), labels=labels) as mon:  # +
        for _ in range(args.epochs):
            for batch in real[torch.randperm(len(real))].split(64):
                fake = g(torch.randn(len(batch), args.latent_dim))
                loss_real = bce(d(batch), torch.ones(len(batch), 1))
                loss_fake = bce(d(fake.detach()), torch.zeros(len(batch), 1))
                opt_d.zero_grad()
                (loss_real + loss_fake).backward()
                opt_d.step()
                loss_g = bce(d(fake), torch.ones(len(batch), 1))
                opt_g.zero_grad()
                loss_g.backward()
                opt_g.step()
                mon.log_step(loss_g.detach(), loss_real.detach(), loss_fake.detach())  # +
            with torch.no_grad():
                samples = g(torch.randn(600, args.latent_dim)).reshape(-1, 8, 8)
            verdict = mon.end_epoch(samples=samples)  # +
            print(f"epoch {mon.epoch}: {verdict.kind}")
    return mon


if __name__ == "__main__":
    main()
