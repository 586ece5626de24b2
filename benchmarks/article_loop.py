"""The article's training loop without torchvision, for machines where torchvision won't import.

../shared/bench/seed_reference.py is the article's loop as published; it needs torchvision, whose
PyPI build does not import beside a CPU-only torch. This file keeps everything that costs time in
that loop the same: a map-style dataset that converts one image at a time (uint8 -> float in
[0, 1] -> normalised by 0.5/0.5, as ToTensor + Normalize do), a shuffling DataLoader with batch
1024, the sigmoid discriminator with nn.BCELoss, separate real and fake forward and backward
passes, a .to(device) for every batch and label tensor, and the fixed-noise grid once per epoch.
The models are the article's. Prints one RESULT line like seed_reference.py.

Usage: python article_loop.py DATA_ROOT EPOCHS [num_workers] [train_size]
"""

from __future__ import annotations

import sys
import time

import torch
from torch import nn, optim
from torch.utils.data import DataLoader, Dataset

from ganwatch.data.idx import read_idx


class MNISTLikeTorchvision(Dataset):
    """Per-item conversion, as torchvision's MNIST with ToTensor + Normalize((0.5,), (0.5,))."""

    def __init__(self, root: str, limit: int | None) -> None:
        images = read_idx(f"{root}/train-images-idx3-ubyte.gz")
        labels = read_idx(f"{root}/train-labels-idx1-ubyte.gz")
        self.images = torch.from_numpy(images[:limit].copy())
        self.labels = torch.from_numpy(labels[:limit].astype("int64"))

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int):
        x = self.images[i].unsqueeze(0).float().div(255)
        return (x - 0.5) / 0.5, int(self.labels[i])


class Generator(nn.Module):
    def __init__(self, latent_space: int) -> None:
        super().__init__()
        self.fcn = nn.Sequential(nn.Linear(latent_space, 128 * 7 * 7), nn.LeakyReLU(0.2))
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(128, 128, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.ConvTranspose2d(128, 128, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(128, 1, 3, padding=1),
            nn.Tanh(),
        )

    def forward(self, x):
        return self.deconv(self.fcn(x).view(-1, 128, 7, 7))


class Discriminator(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv2d(1, 64, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(64, 64, 4, 2, 1),
            nn.LeakyReLU(0.2),
        )
        self.classifier = nn.Sequential(nn.Linear(3136, 1), nn.Sigmoid())

    def forward(self, x):
        return self.classifier(self.conv(x).view(x.size(0), -1))


def main() -> None:
    root, epochs = sys.argv[1], int(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else None
    batch_size, sample_size, latent_dim, k = 1024, 64, 128, 1
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    data = MNISTLikeTorchvision(root, limit)
    loader = DataLoader(data, batch_size=batch_size, shuffle=True, num_workers=workers)
    generator, discriminator = Generator(latent_dim).to(device), Discriminator().to(device)
    optim_g = optim.Adam(generator.parameters(), lr=0.0002, betas=(0.5, 0.999))
    optim_d = optim.Adam(discriminator.parameters(), lr=0.0002, betas=(0.5, 0.999))
    criterion = nn.BCELoss()
    noise = torch.randn(sample_size, latent_dim).to(device)
    times = []
    for epoch in range(epochs):
        t0 = time.perf_counter()
        loss_g = loss_d_real = loss_d_fake = 0.0
        for bi, (image, _) in enumerate(loader):  # noqa: B007 (bi divides the sums, as published)
            image = image.to(device)
            n = len(image)
            for _ in range(k):
                fake = generator(torch.randn(n, latent_dim).to(device)).detach()
                optim_d.zero_grad()
                lr_ = criterion(discriminator(image), torch.ones(n, 1).to(device))
                lf_ = criterion(discriminator(fake), torch.zeros(n, 1).to(device))
                lr_.backward()
                lf_.backward()
                optim_d.step()
                loss_d_real += lr_
                loss_d_fake += lf_
            optim_g.zero_grad()
            fake = generator(torch.randn(n, latent_dim).to(device))
            lg = criterion(discriminator(fake), torch.ones(n, 1).to(device))
            lg.backward()
            optim_g.step()
            loss_g += lg
        generator(noise).cpu().detach()
        g, dr, df = (float(v / max(bi, 1)) for v in (loss_g, loss_d_real, loss_d_fake))
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        print(f"epoch {epoch} {times[-1]:.3f}s G {g:.4f} Dfake {df:.4f} Dreal {dr:.4f}", flush=True)
    steady = sorted(times[1:])[len(times[1:]) // 2] if len(times) > 1 else times[0]
    print(
        f"RESULT article_loop workers={workers} images={len(data)} "
        f"median_epoch_s={steady:.3f} img_per_s={len(data) / steady:.0f}"
    )


if __name__ == "__main__":
    main()
