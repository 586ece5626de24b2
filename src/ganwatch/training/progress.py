"""The trainer's progress bar and the one line it prints when the verdict changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ganwatch.diagnose import Verdict


class Progress:
    """A tqdm bar over all steps with live losses; no bar with quiet=True, and no lines either
    with mute=True (the ranks other than 0 under torchrun, which have no run to speak of)."""

    def __init__(
        self, total: int, initial: int, quiet: bool, name: str, *, mute: bool = False
    ) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(
            total=total,
            initial=initial,
            disable=quiet or mute,
            desc=name,
            unit="step",
            dynamic_ncols=True,
            leave=True,
        )
        self.output_closed = mute

    def update(self, values: dict[str, float] | None = None) -> None:
        self.bar.update(1)
        if values is not None:
            self.set(values)

    def set(self, values: dict[str, float]) -> None:
        self.bar.set_postfix(
            g=f"{values['loss/g']:.3f}",
            d_real=f"{values['loss/d_real']:.3f}",
            d_fake=f"{values['loss/d_fake']:.3f}",
            refresh=False,
        )

    def write(self, text: str) -> None:
        """Print a line above the bar; a closed output (``| head``) ends the printing, not
        the training."""
        if self.output_closed:
            return
        try:
            self.bar.write(text)
        except (BrokenPipeError, ValueError):
            self.output_closed = True

    def close(self) -> None:
        self.bar.close()


def verdict_line(run_id: int, new: Verdict, old: Verdict | None) -> str:
    """One line when the verdict changes, with its strongest evidence and first remedy."""
    line = f"run {run_id} epoch {new.epoch}: {old.kind if old else 'no verdict'} -> {new.kind}"
    if new.evidence:
        e = new.evidence[0]
        line += f" ({e.metric} = {e.value:.4g} {e.op} {e.threshold:.4g})"
    if new.remedies and new.kind not in ("healthy", "warming_up"):
        line += f"; try: {new.remedies[0].text}" + (
            f" [{new.remedies[0].flag}]" if new.remedies[0].flag else ""
        )
    return line


#: Stops before this epoch get the hint below: the grace period that, replayed on the verdict
#: corpus's held-out half, kept every run that went on to end healthy (scripts/stop_rules.py;
#: README, "Choose the grace period").
EARLY_STOP_EPOCHS = 10


def stop_line(run_id: int, kind: str, epoch: int, why: str) -> str:
    """The line of a run that stops on a verdict; an early stop on a failure that can pass
    says so (on the corpus, stopping on any failure from epoch 1 stopped every run that
    went on to end healthy), and which flag waits."""
    line = f"run {run_id}: stopping on {kind} at epoch {epoch} ({why})"
    if epoch < EARLY_STOP_EPOCHS and kind != "divergence":
        line += (
            "; a GAN that goes on to learn often starts like this: --stop-min-epochs N "
            "waits N epochs (README, 'Choose the grace period')"
        )
    return line
