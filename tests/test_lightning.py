"""The Lightning callback on a small LightningModule GAN on the 8-Gaussian ring."""

from __future__ import annotations

import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset

from ganwatch.data import load_dataset
from ganwatch.integrations.lightning import GanwatchCallback
from ganwatch.losses import bce_discriminator_loss, bce_generator_loss
from ganwatch.models import MLPDiscriminator, MLPGenerator
from ganwatch.store import RunStore


class RingGAN(L.LightningModule):
    def __init__(self, lr: float = 1e-3) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.generator, self.discriminator = MLPGenerator(2), MLPDiscriminator()

    def training_step(self, batch, batch_idx):
        (real,) = batch
        opt_g, opt_d = self.optimizers()
        fake = self.generator(torch.randn(len(real), 2))
        real_logits, fake_logits = self.discriminator(real), self.discriminator(fake.detach())
        loss_real, loss_fake = bce_discriminator_loss(real_logits, fake_logits)
        opt_d.zero_grad()
        self.manual_backward(loss_real + loss_fake)
        opt_d.step()
        loss_g = bce_generator_loss(self.discriminator(fake))
        opt_g.zero_grad()
        self.manual_backward(loss_g)
        opt_g.step()
        self.log_dict(
            {
                "loss_g": loss_g,
                "loss_d_real": loss_real,
                "loss_d_fake": loss_fake,
                "d_real": torch.sigmoid(real_logits).mean(),
            },
            on_step=True,
        )

    def configure_optimizers(self):
        adam = lambda m: torch.optim.Adam(m.parameters(), self.hparams.lr, betas=(0.5, 0.999))  # noqa: E731
        return adam(self.generator), adam(self.discriminator)


def _fit(callback: GanwatchCallback, max_epochs: int) -> None:
    """Train RingGAN on 1,024 ring points (8 batches an epoch) with ``callback``."""
    torch.manual_seed(0)
    points = load_dataset("ring", size=1024).data
    loader = DataLoader(TensorDataset(points), batch_size=128, shuffle=True)
    trainer = L.Trainer(
        max_epochs=max_epochs,
        callbacks=[callback],
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(RingGAN(), loader)


def test_callback_records_and_diagnoses_a_lightning_gan(tmp_path):
    _fit(GanwatchCallback(reference="ring", store=tmp_path, name="lightning-ring"), 3)
    with RunStore(tmp_path) as store:
        run = store.get_run("lightning-ring")
        assert run.status == "finished" and run.config["lr"] == 1e-3
        assert list(store.step_metrics(run.id)["loss/g"][0]) == list(range(1, 25))
        epochs = store.epoch_metrics(run.id)
        assert [e["epoch"] for e in epochs] == [1, 2, 3]
        assert "metric/modes_captured" in epochs[-1] and "d/real" in epochs[-1]
        assert store.events(run.id, "verdict")


def test_monitor_options_pass_through_the_callback(tmp_path):
    """``stop_min_epochs`` (any Monitor option) reaches the Monitor: the untrained ring is a
    convergence failure from its first epoch, and the run stops at the grace period's end."""
    callback = GanwatchCallback(
        reference="ring",
        store=tmp_path,
        name="grace",
        stop_on=["convergence_failure"],
        stop_min_epochs=2,
    )
    _fit(callback, 5)
    with RunStore(tmp_path) as store:
        run = store.get_run("grace")
        assert run.status == "stopped"
        assert [e["epoch"] for e in store.epoch_metrics(run.id)] == [1, 2]
        first = store.events(run.id, "verdict")[0]["payload"]
        assert (first["epoch"], first["kind"]) == (1, "convergence_failure")
