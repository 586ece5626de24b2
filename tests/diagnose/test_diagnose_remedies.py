"""Remedies, serialisation and the documented thresholds table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ganwatch.catalog import LOSSES
from ganwatch.config import parse_stabilizers
from ganwatch.diagnose import (
    DEFAULT,
    VERDICT_KINDS,
    Evidence,
    Remedy,
    Verdict,
    flag_available,
    remedies_for,
    thresholds_table,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "diagnosis.md"


def flags(remedies: list[Remedy]) -> list[str]:
    return [r.flag for r in remedies]


@pytest.mark.parametrize("kind", ["divergence", "convergence_failure", "mode_collapse"])
def test_every_failure_has_remedies_with_flags(kind: str) -> None:
    remedies = remedies_for(kind)
    assert 1 <= len(remedies) <= 5
    assert all(r.flag.startswith("--") and r.text for r in remedies)
    assert len(set(flags(remedies))) == len(remedies)


@pytest.mark.parametrize("kind", ["healthy", "warming_up"])
def test_no_remedies_when_nothing_is_wrong(kind: str) -> None:
    assert remedies_for(kind) == []


def test_lr_signature_lowers_lr_to_the_articles_value_first() -> None:
    remedies = remedies_for("convergence_failure", {"high_lr"}, {"lr": 0.2, "beta1": 0.5})
    assert remedies[0] == Remedy(remedies[0].text, "--lr 2e-4")
    assert remedies[0].text == "Lower the learning rate to 2e-4 (the article's value; it is 0.2)"
    mlp = remedies_for("convergence_failure", {"high_lr"}, {"model": "mlp", "lr": 1e-3})
    assert (
        mlp[0].text
        == "Lower the learning rate to 5e-4 (quick scale's value for the MLP; it is 0.001)"
    )


def test_the_mlp_pair_is_measured_against_its_own_good_learning_rate() -> None:
    """Quick scale trains the MLP at 5e-4: lr 0.2 goes back to 5e-4, and Adam's default
    betas at 5e-4 get the betas fix first (the lr is not what is wrong)."""
    high = remedies_for("convergence_failure", {"high_lr"}, {"model": "mlp", "lr": 0.2})
    assert high[0].flag == "--lr 5e-4"
    betas = {"model": "mlp", "lr": 5e-4, "beta1": 0.9}
    first = remedies_for("convergence_failure", {"low_precision"}, betas)[0]
    assert first.flag == "--beta1 0.5"


def test_lr_already_at_the_articles_value_is_not_lowered_to_it_again() -> None:
    config = {"lr": 2e-4, "beta1": 0.5}
    signature = remedies_for("convergence_failure", {"high_lr"}, config)
    assert "--lr 2e-4" not in flags(signature)
    assert signature[0].flag == "--lr 0.0001"  # the signature still points at the lr
    others = remedies_for("convergence_failure", {"low_precision"}, config)
    assert not any(f.startswith("--lr") for f in flags(others))
    assert "--beta1 0.5" not in flags(others)


def test_article_deviations_come_first() -> None:
    remedies = remedies_for("convergence_failure", {"low_precision"}, {"lr": 2e-4, "beta1": 0.9})
    assert remedies[0].flag == "--beta1 0.5"


def test_small_latent_space_collapse_suggests_a_larger_one_first() -> None:
    assert remedies_for("mode_collapse", (), {"latent_dim": 2})[0].flag == "--latent-dim 128"
    big = remedies_for("mode_collapse", (), {"latent_dim": 128})
    assert "--latent-dim 128" not in flags(big)
    assert big[0].flag == "--stabilize minibatch-discrimination"


def test_small_latent_space_is_suggested_for_a_convergence_failure_too() -> None:
    # latent 1 and 2 draw noisy few-digit samples, called either failure: the fix is the same
    small = flags(remedies_for("convergence_failure", (), {"latent_dim": 2, "beta1": 0.5}))
    assert small[0] == "--latent-dim 128"
    deviating = flags(remedies_for("convergence_failure", (), {"latent_dim": 2, "lr": 0.2}))
    assert deviating[:2] == ["--lr 2e-4", "--latent-dim 128"]
    # a 2-D mixture is drawn from a latent of 2 as a rule: not a deviation there
    ring = flags(remedies_for("convergence_failure", (), {"latent_dim": 2, "dataset": "ring"}))
    assert "--latent-dim 128" not in ring
    for dim in (16, 128):
        assert "--latent-dim 128" not in flags(
            remedies_for("convergence_failure", (), {"latent_dim": dim})
        )


def test_active_stabilizers_and_losses_are_not_suggested_again() -> None:
    config = {"stabilize": ["minibatch-discrimination", "pacgan"], "loss": "wgan-gp"}
    got = flags(remedies_for("mode_collapse", (), config))
    assert not {"--stabilize minibatch-discrimination", "--stabilize pacgan"} & set(got)
    assert "--loss wgan-gp" not in got


def test_discriminator_winning_with_several_d_steps_suggests_fewer() -> None:
    got = flags(remedies_for("convergence_failure", {"d_wins"}, {"d_steps": 5}))
    assert got[0] == "--d-steps 1"


def test_flag_availability() -> None:
    assert flag_available("--lr 2e-4")
    assert flag_available("--latent-dim 128")
    assert flag_available("--stabilize pacgan")
    assert flag_available("--loss wgan-gp")
    assert not flag_available("--ema 0.999")


ALL_TAGS = ({"d_wins"}, {"high_lr"}, {"zero_losses"}, {"low_precision"}, {"few_modes"}, set())
CONFIGS = (
    {},
    {"lr": 0.2, "beta1": 0.9, "latent_dim": 1, "d_steps": 3},
    {"lr": 2e-4, "beta1": 0.5, "latent_dim": 128, "d_steps": 1, "loss": "hinge"},
)


@pytest.mark.parametrize("config", CONFIGS)
@pytest.mark.parametrize("tags", ALL_TAGS)
@pytest.mark.parametrize("kind", ["divergence", "convergence_failure", "mode_collapse"])
def test_every_suggested_flag_is_one_ganwatch_train_accepts(kind, tags, config) -> None:
    for remedy in remedies_for(kind, tags, config):
        assert flag_available(remedy.flag), remedy
        name, value = remedy.flag.split(" ", 1)
        if name == "--loss":
            assert value in LOSSES
        if name == "--stabilize":
            assert set(parse_stabilizers(value)) == {value}


def test_mode_collapse_suggests_the_fields_fixes_after_the_articles() -> None:
    got = flags(remedies_for("mode_collapse", (), {"latent_dim": 128, "lr": 2e-4, "beta1": 0.5}))
    assert got[:4] == [
        "--stabilize minibatch-discrimination",
        "--stabilize pacgan",
        "--stabilize unrolled",
        "--loss wgan-gp",
    ]
    small = flags(remedies_for("mode_collapse", (), {"latent_dim": 1, "lr": 0.2}))
    assert small[:2] == ["--latent-dim 128", "--lr 2e-4"]  # the article's fixes stay first
    assert len(small) == 5


def test_discriminator_winning_suggests_weakening_it_and_other_losses() -> None:
    config = {"lr": 2e-4, "beta1": 0.5, "d_steps": 1}
    got = flags(remedies_for("convergence_failure", {"d_wins"}, config))
    assert got == [
        "--stabilize label-smoothing",
        "--stabilize instance-noise",
        "--stabilize spectral-norm",
        "--stabilize ttur",
        "--loss hinge",
    ]
    hinge = flags(remedies_for("convergence_failure", {"d_wins"}, {**config, "loss": "hinge"}))
    assert "--loss hinge" not in hinge and "--loss lsgan" in hinge
    # Hinge has no real label to smooth, so label smoothing is not offered with it.
    assert "--stabilize label-smoothing" not in hinge


def test_samples_far_from_the_data_suggest_regularising_d() -> None:
    got = flags(remedies_for("convergence_failure", {"low_precision"}, {"beta1": 0.5}))
    assert got == [
        "--stabilize spectral-norm",
        "--stabilize feature-matching",
        "--loss wgan-gp",
        "--stabilize ttur",
        "--loss lsgan",
    ]


@pytest.mark.parametrize(
    "stabilize",
    [
        "pacgan:4,minibatch-discrimination",
        " minibatch-discrimination , pacgan ",
        ["pacgan:4", "minibatch-discrimination"],
        "pacgan,minibatch-discrimination,not-a-stabiliser",  # a stored config ganwatch no
    ],  # longer knows must not break the diagnosis
)
def test_stabilizers_in_use_are_parsed_like_the_flag(stabilize) -> None:
    got = flags(remedies_for("mode_collapse", (), {"latent_dim": 128, "stabilize": stabilize}))
    assert "--stabilize pacgan" not in got
    assert "--stabilize minibatch-discrimination" not in got
    assert got[0] == "--stabilize unrolled"


@pytest.mark.parametrize("loss", ["wgan-gp", "lsgan", "hinge"])
def test_a_loss_in_use_is_not_suggested(loss: str) -> None:
    config = {"loss": loss, "lr": 2e-4, "beta1": 0.5, "latent_dim": 128}
    for kind, tags in (
        ("mode_collapse", ()),
        ("convergence_failure", {"d_wins"}),
        ("convergence_failure", {"low_precision"}),
        ("divergence", ()),
    ):
        assert f"--loss {loss}" not in flags(remedies_for(kind, tags, config))


def test_verdict_round_trips_through_json() -> None:
    verdict = Verdict(
        kind="mode_collapse",
        epoch=12,
        step=2892,
        since_step=1928,
        confidence=0.95,
        evidence=[Evidence("metric/classes_covered", 2.0, 7.0, "<", "Only 2 of 10 classes.", 19)],
        remedies=[Remedy("Use a larger latent space", "--latent-dim 128")],
    )
    d = json.loads(json.dumps(verdict.to_dict()))
    assert set(d) == {
        "kind",
        "epoch",
        "step",
        "since_step",
        "confidence",
        "evidence",
        "remedies",
        "raw_kind",
        "firm",
    }
    assert d["raw_kind"] == "mode_collapse"  # the detectors agreed with what was reported
    assert d["evidence"][0] == {
        "metric": "metric/classes_covered",
        "value": 2.0,
        "threshold": 7.0,
        "op": "<",
        "note": "Only 2 of 10 classes.",
        "epoch": 19,
    }
    assert Verdict.from_dict(d) == verdict
    stored_before_epochs = {
        **d,
        "evidence": [{k: v for k, v in d["evidence"][0].items() if k != "epoch"}],
    }
    assert Verdict.from_dict(stored_before_epochs).evidence[0].epoch is None
    unknown = Verdict("warming_up", 1, 10, None, 0.0)
    assert Verdict.from_dict(unknown.to_dict()) == unknown
    held = Verdict("mode_collapse", 13, 3133, 1928, 0.95, raw_kind="convergence_failure")
    assert Verdict.from_dict(json.loads(json.dumps(held.to_dict()))) == held
    stored_before_hysteresis = {k: v for k, v in d.items() if k != "raw_kind"}
    assert Verdict.from_dict(stored_before_hysteresis) == verdict


def test_unknown_kind_is_refused() -> None:
    assert "healthy" in VERDICT_KINDS
    with pytest.raises(ValueError, match="unknown verdict kind"):
        Verdict("collapsed", 1, 1, None, 1.0)
    with pytest.raises(ValueError, match="unknown verdict kind"):
        Verdict("healthy", 1, 1, None, 1.0, raw_kind="collapsed")


def test_docs_table_matches_thresholds() -> None:
    assert thresholds_table(DEFAULT) in DOCS.read_text()
