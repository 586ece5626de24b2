"""One training step: ``d_steps`` discriminator updates, then one generator update.

With the defaults this is exactly the article's update rule: for each real batch, D is updated
against fresh fakes with BCE (real -> 1, fake -> 0), then G with fresh noise and the
non-saturating loss. ``--loss``, ``--model`` and ``--stabilize`` change what the two updates
compute, never their order: the step asks the recipe's objective, model pair and stabilisers
(:mod:`ganwatch.training.recipe`) and never tests which ones it has.

Nothing here synchronises with the device: every number a step records is a device tensor in
a named record, copied to the host once per epoch by the trainer.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from ganwatch.models.pairs import join_aux
from ganwatch.training.distributed import average_gradients_before_step, sliced_draw
from ganwatch.training.recipe import Recipe

Records = dict[str, torch.Tensor]


def grad_norm(module: nn.Module) -> torch.Tensor:
    """L2 norm of all of a module's gradients, as a device tensor (no sync)."""
    norms = [p.grad.detach().norm() for p in module.parameters() if p.grad is not None]
    return torch.stack(norms).norm() if norms else torch.zeros(())


def _judge(recipe: Recipe, discriminator, real_in, real_labels, fake_in, fake_labels):
    """D's scores and auxiliary outputs on the real samples, then the fakes."""
    pair = recipe.pair
    if not recipe.separate_batches:
        both = torch.cat([real_in, fake_in])
        return pair.judge(discriminator, both, pair.joint_labels(real_labels, fake_labels))
    # Minibatch discrimination compares the samples of one call with each other: a real
    # batch must be compared with real samples only, a fake one with fakes.
    (real_out, real_aux), (fake_out, fake_aux) = (
        pair.judge(discriminator, x, y) for x, y in ((real_in, real_labels), (fake_in, fake_labels))
    )
    return torch.cat([real_out, fake_out]), join_aux(real_aux, fake_aux)


def _noise_and_conditions(state, pair, b: int, device: torch.device):
    """Latent noise and fake labels (or codes) for ``b`` fakes; under torchrun, the rank's
    rows of the whole batch's draw (see ``training.distributed``)."""
    rng, shards = state.rng, state.shards
    noise = sliced_draw(
        shards, b, lambda n: torch.randn(n, state.latent_dim, device=device, generator=rng)
    )
    condition = sliced_draw(
        shards, b, lambda n: pair.sample_conditions(state.generator, n, device, rng)
    )
    return noise, condition


def discriminator_update(
    state,
    recipe: Recipe,
    discriminator: nn.Module,
    optimizer: torch.optim.Optimizer,
    real: torch.Tensor,
    real_labels: torch.Tensor | None,
    autocast: contextlib.AbstractContextManager,
    step: int,
    commit: bool = True,
) -> Records:
    """One D update on ``real`` against fresh fakes; returns its record.

    ``commit=False`` (the unrolled look-ahead) updates the given copy only: run-level state
    (BEGAN's k, the parameter averages) is left alone.
    """
    generator, rng, pair, objective = state.generator, state.rng, recipe.pair, recipe.objective
    b = real.shape[0]
    noise, condition = _noise_and_conditions(state, pair, b, real.device)
    with torch.no_grad(), autocast:
        fake = pair.generate(generator, noise, condition).to(real.dtype)
    real_in = recipe.discriminator_input(real, step, rng)
    fake_in = recipe.discriminator_input(fake, step, rng)
    n = real_in.shape[0]
    fake_labels = pair.labels_of(condition)
    with autocast:
        out, aux = _judge(recipe, discriminator, real_in, real_labels, fake_in, fake_labels)
    out = out.float().flatten()
    out_real, out_fake = out[:n], out[n:]
    loss_real, loss_fake = objective.discriminator_losses(out_real, out_fake, recipe.real_target)
    total = loss_real + loss_fake
    record: Records = {}
    penalty = objective.penalty(
        lambda x: pair.judge(discriminator, x, real_labels)[0], real_in, fake_in, rng
    )
    if penalty is not None:
        value, weight = penalty
        total = total + weight * value
        record["loss/penalty"] = value.detach()
    aux_loss = pair.discriminator_aux_loss(aux, n, real_labels, condition)
    if aux_loss is not None:
        total = total + aux_loss
        record["loss/aux"] = aux_loss.detach()
    if commit:
        for stabilizer in recipe.stabilizers:
            extra = stabilizer.discriminator_penalty(discriminator)
            if extra is not None:
                total = total + extra
    optimizer.zero_grad(set_to_none=True)
    total.backward()
    optimizer.step()
    objective.constrain(discriminator)
    if commit:
        for stabilizer in recipe.stabilizers:
            stabilizer.after_discriminator_step(discriminator)
        record.update(objective.commit(out_real, out_fake))
    return {
        "loss/d_real": loss_real.detach(),
        "loss/d_fake": loss_fake.detach(),
        "d/real": objective.report(out_real.detach()).mean(),
        "d/fake": objective.report(out_fake.detach()).mean(),
        "grad/d": grad_norm(discriminator),
        **record,
    }


def generator_update(
    state,
    recipe: Recipe,
    discriminator: nn.Module,
    real: torch.Tensor,
    real_labels: torch.Tensor | None,
    autocast: contextlib.AbstractContextManager,
    step: int,
) -> Records:
    """One G update against ``discriminator``; returns its record (G's loss, its auxiliary
    loss when the pair has one)."""
    generator, rng, pair = state.generator, state.rng, recipe.pair
    b = real.shape[0]
    noise, condition = _noise_and_conditions(state, pair, b, real.device)
    fake_labels = pair.labels_of(condition)
    with autocast:
        fake_in = recipe.discriminator_input(pair.generate(generator, noise, condition), step, rng)
        loss, aux = recipe.generator_loss.generator_loss(
            pair,
            discriminator,
            fake_in,
            fake_labels,
            lambda: (recipe.discriminator_input(real, step, rng), real_labels),
        )
        aux_loss = None if aux is None else pair.generator_aux_loss(aux, condition)
    total = loss if aux_loss is None else loss + aux_loss
    for stabilizer in recipe.stabilizers:
        extra = stabilizer.generator_penalty(generator)
        if extra is not None:
            total = total + extra
    state.opt_g.zero_grad(set_to_none=True)
    total.backward()
    state.opt_g.step()
    for stabilizer in recipe.stabilizers:
        stabilizer.after_generator_step(generator)
    record = {"loss/g": loss.detach()}
    if aux_loss is not None:
        record["loss/aux"] = aux_loss.detach()
    return record


def _add(total: Records, record: Records) -> Records:
    """Key-wise sum of two records (a key in one only is kept as it is)."""
    return {**total, **{k: total[k] + v if k in total else v for k, v in record.items()}}


def train_step(
    state,
    recipe: Recipe,
    real: torch.Tensor,
    real_labels: torch.Tensor | None,
    autocast: contextlib.AbstractContextManager,
    step: int = 0,
) -> Records:
    """One training step: ``recipe.d_steps`` discriminator updates, then ``recipe.g_steps``
    generator updates; returns its record.

    With several D (G) updates the discriminator's (generator's) numbers are their average;
    ``loss/aux`` is D's and G's auxiliary losses added. ``step`` (the run's step) sets the
    instance noise.
    """
    discriminator = state.discriminator
    discriminator.requires_grad_(True)
    d_record: Records = {}
    for _ in range(recipe.d_steps):
        d_record = _add(
            d_record,
            discriminator_update(
                state, recipe, discriminator, state.opt_d, real, real_labels, autocast, step
            ),
        )
    d_record = {k: v / recipe.d_steps for k, v in d_record.items()}

    def look_ahead_update(copy: nn.Module, copy_opt: torch.optim.Optimizer) -> Records:
        average_gradients_before_step(copy_opt, state.shards)  # under torchrun, as opt_d is
        return discriminator_update(
            state, recipe, copy, copy_opt, real, real_labels, autocast, step, commit=False
        )

    opponent = discriminator
    for stabilizer in recipe.stabilizers:
        opponent = stabilizer.opponent(opponent, state.opt_d, look_ahead_update)
    # The generator step needs gradients through D, not for D's weights.
    discriminator.requires_grad_(False)
    g_record: Records = {}
    for _ in range(recipe.g_steps):
        g_record = _add(
            g_record, generator_update(state, recipe, opponent, real, real_labels, autocast, step)
        )
    g_record = {k: v / recipe.g_steps for k, v in g_record.items()}
    discriminator.requires_grad_(True)
    return {**_add(d_record, g_record), "grad/g": grad_norm(state.generator)}
