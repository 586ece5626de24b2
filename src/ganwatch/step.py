"""One training step: ``d_steps`` discriminator updates, then one generator update.

With the defaults this is exactly the article's update rule: for each real batch, D is updated
against fresh fakes with BCE (real -> 1, fake -> 0), then G with fresh noise and the
non-saturating loss. ``--loss``, ``--model`` and ``--stabilize`` change what the two updates
compute, never their order, and :class:`Recipe` holds those choices so that the step reads
them instead of re-deciding every iteration.

Nothing here synchronises with the device: every number a step reports is a device tensor,
copied to the host once per epoch by the trainer.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import torch
from torch import nn

from ganwatch.losses import (
    began_convergence,
    began_discriminator_loss,
    began_generator_loss,
    began_update_k,
    class_loss,
    dragan_penalty,
    ebgan_discriminator_loss,
    ebgan_generator_loss,
    feature_matching_loss,
    gradient_penalty,
    infogan_loss,
)
from ganwatch.losses.energy import BEGAN_GAMMA, BEGAN_LAMBDA_K, EBGAN_MARGIN
from ganwatch.losses.penalties import clip_weights_
from ganwatch.losses.registry import LossSpec
from ganwatch.stabilizers.ema import GeneratorAverage
from ganwatch.stabilizers.historical_averaging import ParameterAverage
from ganwatch.stabilizers.instance_noise import add_instance_noise, noise_std
from ganwatch.stabilizers.pacgan import pack
from ganwatch.stabilizers.unrolled import look_ahead

#: What every step reports, in this order: the article's seven numbers, then the extras that
#: some losses and models add (0 where they do not apply; the trainer records only those that do).
STEP_KEYS = ("loss/g", "loss/d_real", "loss/d_fake", "d/real", "d/fake", "grad/g", "grad/d")
EXTRA_KEYS = ("loss/penalty", "loss/aux", "began/k", "began/convergence")
ROW_KEYS = STEP_KEYS + EXTRA_KEYS


@dataclass(frozen=True)
class Recipe:
    """The choices that fix what a step computes, made once per run from its config."""

    loss: LossSpec
    d_steps: int = 1
    conditional: str | None = None  # "cgan", "acgan" or "infogan"
    num_classes: int = 10
    real_target: float = 1.0  # below 1 with one-sided label smoothing
    pack: int = 1  # PacGAN's m; 1 is off
    feature_matching: bool = False
    instance_noise: float = 0.0  # starting std; 0 is off
    unrolled: int = 0  # look-ahead discriminator steps; 0 is off
    separate_batches: bool = False  # D sees real and fake batches in separate calls
    total_steps: int = 1  # generator steps in the whole run (instance noise anneals over them)

    def extra_keys(self) -> tuple[str, ...]:
        """The EXTRA_KEYS this recipe really produces (the others stay 0 and are not recorded)."""
        keys = []
        if self.loss.penalty:
            keys.append("loss/penalty")
        if self.conditional in ("acgan", "infogan"):
            keys.append("loss/aux")
        if self.loss.name == "began":
            keys += ["began/k", "began/convergence"]
        return tuple(keys)


@dataclass
class StepExtras:
    """State beyond the two models and their optimisers that some recipes keep (checkpointed)."""

    ema: GeneratorAverage | None = None
    average_g: ParameterAverage | None = None
    average_d: ParameterAverage | None = None
    history_weight: float = 0.0
    began_k: torch.Tensor = field(default_factory=lambda: torch.zeros(()))

    def state_dict(self) -> dict:
        return {
            "ema": self.ema.state_dict() if self.ema else None,
            "average_g": self.average_g.state_dict() if self.average_g else None,
            "average_d": self.average_d.state_dict() if self.average_d else None,
            "began_k": self.began_k,
        }

    def load_state_dict(self, state: dict) -> None:
        for name in ("ema", "average_g", "average_d"):
            part = getattr(self, name)
            if part is not None and state.get(name) is not None:
                part.load_state_dict(state[name])
        self.began_k = state["began_k"].to(self.began_k.device)


def grad_norm(module: nn.Module) -> torch.Tensor:
    """L2 norm of all of a module's gradients, as a device tensor (no sync)."""
    norms = [p.grad.detach().norm() for p in module.parameters() if p.grad is not None]
    return torch.stack(norms).norm() if norms else torch.zeros(())


# -- conditions: labels for CGAN/ACGAN, codes for InfoGAN -------------------------------------
def sample_conditions(
    recipe: Recipe, generator: nn.Module, count: int, device: torch.device, rng: torch.Generator
):
    """Random labels (CGAN, ACGAN) or (categorical, continuous) codes (InfoGAN); None otherwise."""
    if recipe.conditional is None:
        return None
    labels = torch.randint(recipe.num_classes, (count,), device=device, generator=rng)
    if recipe.conditional != "infogan":
        return labels
    cont = torch.rand(count, generator.num_continuous, device=device, generator=rng) * 2 - 1
    return labels, cont


def generate(generator: nn.Module, noise: torch.Tensor, condition) -> torch.Tensor:
    return generator(noise) if condition is None else generator(noise, condition)


def judge(recipe: Recipe, discriminator: nn.Module, x: torch.Tensor, labels):
    """(D's main output, its auxiliary output or None) for a batch, in one forward pass."""
    if recipe.conditional == "cgan":
        return discriminator(x, labels), None
    if recipe.conditional == "acgan":
        return discriminator.classify(x)
    if recipe.conditional == "infogan":
        adv, cat_logits, cont_mean = discriminator.infer(x)
        return adv, (cat_logits, cont_mean)
    return discriminator(x), None


def features(recipe: Recipe, discriminator: nn.Module, x: torch.Tensor, labels) -> torch.Tensor:
    if recipe.conditional == "cgan":
        return discriminator.features(x, labels)
    return discriminator.features(x)


def auxiliary_loss(recipe: Recipe, aux, condition) -> torch.Tensor:
    """ACGAN's class loss or InfoGAN's code reconstruction loss on generated samples."""
    if recipe.conditional == "acgan":
        return class_loss(aux, condition)
    cat_logits, cont_mean = aux
    labels, cont = condition
    return infogan_loss(cat_logits, labels, cont_mean, cont)


def _labels_of(condition):
    """The class labels inside a condition (InfoGAN's categorical code; None without one)."""
    return condition[0] if isinstance(condition, tuple) else condition


def _cat_aux(real_aux, fake_aux):
    """Join the auxiliary outputs of a real and a fake call (a tensor or a tuple of them)."""
    if isinstance(real_aux, tuple):
        return tuple(torch.cat(pair) for pair in zip(real_aux, fake_aux, strict=True))
    return torch.cat([real_aux, fake_aux])


def discriminator_inputs(
    recipe: Recipe, x: torch.Tensor, std: float, rng: torch.Generator
) -> torch.Tensor:
    """What D sees of a batch: with instance noise added, then packed for PacGAN."""
    x = add_instance_noise(x, std, rng)
    return pack(x, recipe.pack) if recipe.pack > 1 else x


# -- the two updates --------------------------------------------------------------------------
def discriminator_update(
    state,
    recipe: Recipe,
    discriminator: nn.Module,
    optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    real_labels: torch.Tensor | None,
    autocast: contextlib.AbstractContextManager,
    std: float,
    commit: bool = True,
) -> torch.Tensor:
    """One D update on ``real`` against fresh fakes; returns (loss_real, loss_fake, D(x),
    D(G(z)), grad norm, penalty, aux loss, BEGAN k, BEGAN convergence).

    ``commit=False`` (the unrolled look-ahead) updates the given copy only: run-level state
    (BEGAN's k, the historical average) is left alone.
    """
    G, extras, rng = state.generator, state.extras, state.rng
    b = real.shape[0]
    noise = torch.randn(b, state.fixed_noise.shape[1], device=real.device, generator=rng)
    condition = sample_conditions(recipe, G, b, real.device, rng)
    with torch.no_grad(), autocast:
        fake = generate(G, noise, condition).to(real.dtype)
    real_in = discriminator_inputs(recipe, real, std, rng)
    fake_in = discriminator_inputs(recipe, fake, std, rng)
    n = real_in.shape[0]
    fake_labels = _labels_of(condition)
    labels = torch.cat([real_labels, fake_labels]) if recipe.conditional == "cgan" else None
    with autocast:
        if recipe.separate_batches:
            # Minibatch discrimination compares the samples of one call with each other: a
            # real batch must be compared with real samples only, a fake one with fakes.
            judged = [
                judge(recipe, discriminator, x, y)
                for x, y in ((real_in, real_labels), (fake_in, fake_labels))
            ]
            out = torch.cat([judged[0][0], judged[1][0]])
            aux = None if judged[0][1] is None else _cat_aux(judged[0][1], judged[1][1])
        else:
            out, aux = judge(recipe, discriminator, torch.cat([real_in, fake_in]), labels)
    out = out.float().flatten()
    out_real, out_fake = out[:n], out[n:]
    zero = torch.zeros((), device=real.device)
    penalty = aux_loss = convergence = zero
    spec = recipe.loss
    if spec.name == "ebgan":
        loss_real, loss_fake = ebgan_discriminator_loss(out_real, out_fake, EBGAN_MARGIN)
    elif spec.name == "began":
        loss_real, loss_fake = began_discriminator_loss(out_real, out_fake, extras.began_k)
    elif spec.smoothable:
        loss_real, loss_fake = spec.discriminator_loss(out_real, out_fake, recipe.real_target)
    else:
        loss_real, loss_fake = spec.discriminator_loss(out_real, out_fake)
    total = loss_real + loss_fake
    if spec.penalty:
        cgan_labels = real_labels[:n] if recipe.conditional == "cgan" else None

        def critic(x: torch.Tensor) -> torch.Tensor:
            return judge(recipe, discriminator, x, cgan_labels)[0]

        if spec.penalty == "gradient":
            penalty = gradient_penalty(critic, real_in, fake_in, rng)
        else:
            penalty = dragan_penalty(critic, real_in, rng)
        total = total + spec.penalty_weight * penalty
    if recipe.conditional == "acgan":
        aux_loss = class_loss(aux[:n], real_labels) + class_loss(aux[n:], fake_labels)
    elif recipe.conditional == "infogan":
        cat_logits, cont_mean = aux
        aux_loss = infogan_loss(cat_logits[n:], condition[0], cont_mean[n:], condition[1])
    total = total + aux_loss
    if commit and extras.average_d is not None:
        total = total + extras.history_weight * extras.average_d.penalty(discriminator)
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    optimizer.step()
    if spec.clip is not None:
        clip_weights_(discriminator, spec.clip)
    report_real, report_fake = out_real.detach(), out_fake.detach()
    if spec.output == "logit":
        report_real, report_fake = torch.sigmoid(report_real), torch.sigmoid(report_fake)
    if commit:
        if extras.average_d is not None:
            extras.average_d.update(discriminator)
        if spec.name == "began":
            real_mean, fake_mean = out_real.detach().mean(), out_fake.detach().mean()
            convergence = began_convergence(real_mean, fake_mean, BEGAN_GAMMA)
            extras.began_k = began_update_k(
                extras.began_k, real_mean, fake_mean, BEGAN_GAMMA, BEGAN_LAMBDA_K
            )
    return torch.stack(
        [
            loss_real.detach(),
            loss_fake.detach(),
            report_real.mean(),
            report_fake.mean(),
            grad_norm(discriminator),
            penalty.detach(),
            aux_loss.detach(),
            extras.began_k.detach().reshape(()),
            convergence.detach(),
        ]
    )


def generator_update(
    state,
    recipe: Recipe,
    discriminator: nn.Module,
    real: torch.Tensor,
    real_labels: torch.Tensor | None,
    autocast: contextlib.AbstractContextManager,
    std: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One G update against ``discriminator``; returns (generator loss, auxiliary loss)."""
    G, extras, rng = state.generator, state.extras, state.rng
    b = real.shape[0]
    noise = torch.randn(b, state.fixed_noise.shape[1], device=real.device, generator=rng)
    condition = sample_conditions(recipe, G, b, real.device, rng)
    fake_labels = _labels_of(condition)
    spec = recipe.loss
    with autocast:
        fake_in = discriminator_inputs(recipe, generate(G, noise, condition), std, rng)
        aux_loss = torch.zeros((), device=real.device)
        if recipe.feature_matching:
            real_in = discriminator_inputs(recipe, real, std, rng)
            loss = feature_matching_loss(
                features(recipe, discriminator, real_in, real_labels).float(),
                features(recipe, discriminator, fake_in, fake_labels).float(),
            )
            if recipe.conditional in ("acgan", "infogan"):
                aux = judge(recipe, discriminator, fake_in, fake_labels)[1]
                aux_loss = auxiliary_loss(recipe, aux, condition)
        elif spec.name == "ebgan":
            energy, embedding = discriminator.energy_and_embedding(fake_in)
            loss = ebgan_generator_loss(energy.float(), embedding.float())
        elif spec.name == "began":
            loss = began_generator_loss(discriminator(fake_in).float())
        else:
            out, aux = judge(recipe, discriminator, fake_in, fake_labels)
            loss = spec.generator_loss(out.float().flatten())
            if recipe.conditional in ("acgan", "infogan"):
                aux_loss = auxiliary_loss(recipe, aux, condition)
    total = loss + aux_loss
    if extras.average_g is not None:
        total = total + extras.history_weight * extras.average_g.penalty(G)
    state.opt_g.zero_grad(set_to_none=True)
    total.backward()
    state.opt_g.step()
    if extras.average_g is not None:
        extras.average_g.update(G)
    if extras.ema is not None:
        extras.ema.update(G)
    return loss.detach(), aux_loss.detach()


def train_step(
    state,
    recipe: Recipe,
    real: torch.Tensor,
    real_labels: torch.Tensor | None,
    autocast: contextlib.AbstractContextManager,
    step: int = 0,
) -> torch.Tensor:
    """One generator step with its ``recipe.d_steps`` discriminator steps.

    Returns the ROW_KEYS values as one device tensor; with several D steps the discriminator's
    numbers are their average. ``step`` (the run's generator step) sets the instance noise.
    """
    D = state.discriminator
    std = noise_std(recipe.instance_noise, step, recipe.total_steps)
    d_stats = torch.zeros(9, device=real.device)
    D.requires_grad_(True)
    for _ in range(recipe.d_steps):
        d_stats += discriminator_update(
            state, recipe, D, state.opt_d, real, real_labels, autocast, std
        )
    d_stats /= recipe.d_steps

    judge_with = D
    if recipe.unrolled:
        judge_with = look_ahead(
            D,
            state.opt_d,
            recipe.unrolled,
            lambda copy, copy_opt: discriminator_update(
                state, recipe, copy, copy_opt, real, real_labels, autocast, std, commit=False
            ),
        )
    # The generator step needs gradients through D, not for D's weights.
    D.requires_grad_(False)
    loss_g, g_aux = generator_update(state, recipe, judge_with, real, real_labels, autocast, std)
    D.requires_grad_(True)
    loss_r, loss_f, d_real, d_fake, g_d, penalty, d_aux, k, convergence = d_stats
    return torch.stack(
        [
            loss_g,
            loss_r,
            loss_f,
            d_real,
            d_fake,
            grad_norm(state.generator),
            g_d,
            penalty,
            d_aux + g_aux,
            k,
            convergence,
        ]
    )
