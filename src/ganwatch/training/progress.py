"""The trainer's progress bar and the lines it prints: a change of verdict, a stop."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ganwatch.diagnose import Verdict
    from ganwatch.diagnose.stopping import StopRule


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


#: (--stop-min-epochs, --stop-confidence) that, replayed on the verdict corpus, stopped 2 of
#: the 11 held-out runs that went on to end healthy (15 of 38 on the calibration half); with
#: the defaults (1, 0) every one was stopped (scripts/stop_rules.py). A weaker rule's stop
#: says so.
KEPT_HEALTHY_RULE = (10, 0.5)


def stop_line(run_id: int, kind: str, epoch: int, rule: StopRule | None = None) -> str:
    """The line of a run that stops on a verdict: by ``--stop-on``'s ``rule``, or by a sweep's
    stop rule (``rule`` None). A ``--stop-on`` stop on a failure that can pass, under a rule
    weaker than ``KEPT_HEALTHY_RULE``, says which flags kept the corpus's good runs."""
    line = f"run {run_id}: stopping on {kind} at epoch {epoch} "
    if rule is None:
        return line + "(the sweep's stop rule)"
    line += "(--stop-on)"
    grace, confidence = KEPT_HEALTHY_RULE
    if kind != "divergence" and (rule.min_epochs < grace or rule.min_confidence < confidence):
        line += (
            "; a GAN that goes on to learn often looks like this early on: on ganwatch's "
            "validation corpus the defaults stopped every run that went on to end healthy, "
            f"--stop-min-epochs {grace} --stop-confidence {confidence} 2 of 11"
        )
    return line
