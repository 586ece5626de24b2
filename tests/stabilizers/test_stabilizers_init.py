"""stabilizer_settings(): the --stabilize text parsed, defaults filled in and every knob
range-checked against the catalog's ranges."""

from __future__ import annotations

import pytest

from ganwatch.catalog import STABILIZERS
from ganwatch.config import ConfigError
from ganwatch.config import stabilizer_settings as settings

DEFAULTS = {name: spec.default for name, spec in STABILIZERS.items()}


def test_empty_text_chooses_nothing() -> None:
    assert settings("") == {}
    assert settings(" , ,") == {}


def test_values_parsed_and_defaults_filled_in() -> None:
    out = settings("pacgan:4,ema")
    assert out == {"pacgan": 4.0, "ema": 0.999}
    assert out["pacgan"] == pytest.approx(4.0, rel=0, abs=1e-12)
    assert out["ema"] == pytest.approx(0.999, rel=0, abs=1e-12)


def test_every_default_is_accepted_and_returned() -> None:
    out = settings(",".join(STABILIZERS))
    assert out == DEFAULTS
    assert list(out) == list(STABILIZERS)  # in the order given


def test_whitespace_around_names_and_values() -> None:
    out = settings(" ttur : 2 , label-smoothing:0.8 ,instance-noise: 0.25")
    assert out == {"ttur": 2.0, "label-smoothing": 0.8, "instance-noise": 0.25}


@pytest.mark.parametrize(
    ("text", "name", "value"),
    [
        ("pacgan:2", "pacgan", 2.0),
        ("pacgan:3.0", "pacgan", 3.0),
        ("unrolled:1", "unrolled", 1.0),
        ("minibatch-discrimination:1", "minibatch-discrimination", 1.0),
        ("label-smoothing:0.5", "label-smoothing", 0.5),
        ("label-smoothing:1", "label-smoothing", 1.0),
        ("ema:0.5", "ema", 0.5),
        ("instance-noise:1e-3", "instance-noise", 1e-3),
        ("historical-averaging:0.01", "historical-averaging", 0.01),
        ("ttur:0.5", "ttur", 0.5),
    ],
)
def test_boundary_values_accepted(text: str, name: str, value: float) -> None:
    assert settings(text)[name] == pytest.approx(value, rel=1e-12, abs=0)


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("pacman", "pacman"),
        ("ema,ema", "ema"),
        ("ema:0.9,ema:0.99", "ema"),
        ("ema:abc", "ema"),
        ("pacgan:x4", "pacgan"),
        ("pacgan:1", "pacgan"),
        ("pacgan:0", "pacgan"),
        ("pacgan:2.5", "pacgan"),
        ("pacgan:-2", "pacgan"),
        ("unrolled:0", "unrolled"),
        ("unrolled:1.5", "unrolled"),
        ("minibatch-discrimination:0", "minibatch-discrimination"),
        ("minibatch-discrimination:2.5", "minibatch-discrimination"),
        ("label-smoothing:0.3", "label-smoothing"),
        ("label-smoothing:1.1", "label-smoothing"),
        ("ema:1", "ema"),
        ("ema:0", "ema"),
        ("ema:-0.5", "ema"),
        ("instance-noise:0", "instance-noise"),
        ("instance-noise:-0.1", "instance-noise"),
        ("historical-averaging:0", "historical-averaging"),
        ("ttur:0", "ttur"),
        ("ttur:-4", "ttur"),
        # Not-a-number and infinity are numbers to float() but no usable knob.
        ("instance-noise:nan", "instance-noise"),
        ("historical-averaging:nan", "historical-averaging"),
        ("ttur:nan", "ttur"),
        ("ttur:inf", "ttur"),
        ("instance-noise:inf", "instance-noise"),
        ("ema:nan", "ema"),
        ("label-smoothing:nan", "label-smoothing"),
        ("pacgan:inf", "pacgan"),
        ("unrolled:nan", "unrolled"),
    ],
)
def test_bad_text_raises_config_error_naming_flag_and_stabiliser(text: str, named: str) -> None:
    with pytest.raises(ConfigError) as info:
        settings(text)
    message = str(info.value)
    assert "--stabilize" in message
    assert named in message


def test_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        settings("unknown-thing")


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as info:
        settings("ema,nope")
    for name in STABILIZERS:
        assert name in str(info.value)


def test_errors_after_a_valid_item_still_raise() -> None:
    with pytest.raises(ConfigError, match="pacgan"):
        settings("ema:0.99,pacgan:1")
