"""A user's own DCGAN-style loop on 32x32 RGB photo patches, watched by ganwatch's Monitor.

The Monitor takes the real patches as its reference (NHWC uint8, as the photos come), the
photo each patch is from as its labels (so it can tell a collapse onto one photo), and a
generator to draw samples from after every epoch. The lines marked ``# +`` are all that the
Monitor adds to the loop.

    python examples/dcgan_photos.py [--epochs 20] [--store ganwatch_runs]
"""

from __future__ import annotations

import argparse

import torch
from real_data import photo_patches
from torch import nn

import ganwatch  # +


class Generator(nn.Module):
    def __init__(self, latent_dim: int = 64) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, 128, 4, 1, 0),
            nn.BatchNorm2d(128),
            nn.ReLU(),
            nn.ConvTranspose2d(128, 64, 4, 2, 1),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.ConvTranspose2d(64, 32, 4, 2, 1),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.ConvTranspose2d(32, 3, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None])


def discriminator() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 32, 4, 2, 1),
        nn.LeakyReLU(0.2),
        nn.Conv2d(32, 64, 4, 2, 1),
        nn.BatchNorm2d(64),
        nn.LeakyReLU(0.2),
        nn.Conv2d(64, 128, 4, 2, 1),
        nn.BatchNorm2d(128),
        nn.LeakyReLU(0.2),
        nn.Flatten(),
        nn.Linear(128 * 4 * 4, 1),
    )


def main(argv: list[str] | None = None) -> ganwatch.monitor.Monitor:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--per-photo", type=int, default=400)
    parser.add_argument("--store", default="ganwatch_runs")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    patches, photos = photo_patches(args.per_photo)
    real = torch.from_numpy(patches).permute(0, 3, 1, 2).float() / 127.5 - 1  # NCHW in [-1, 1]
    g, d = Generator(), discriminator()
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = nn.BCEWithLogitsLoss()
    mon = ganwatch.Monitor(patches, args.store, "dcgan-photos", vars(args), labels=photos)  # +
    with mon:  # +
        for _ in range(args.epochs):
            for batch in real[torch.randperm(len(real))].split(64):
                fake = g(torch.randn(len(batch), g.latent_dim))
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
            verdict = mon.end_epoch(generator=g)  # +
            print(f"epoch {mon.epoch}: {verdict.kind}")
    return mon


if __name__ == "__main__":
    main()
