"""The preset catalogue is stable and complete; progress never goes backwards."""

from __future__ import annotations

import re

import pytest

from stylemixer.presets import NUM_PRESETS, PRESETS, UnknownStyleError, get_preset
from stylemixer.progress import Stages


def test_catalogue_covers_every_network_style_once_with_url_safe_ids() -> None:
    assert NUM_PRESETS == 26
    assert sorted(p.index for p in PRESETS) == list(range(26))
    assert len({p.id for p in PRESETS}) == 26
    assert len({p.name for p in PRESETS}) == 26
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", p.id) for p in PRESETS)


def test_unknown_preset_is_refused_with_a_hint() -> None:
    with pytest.raises(UnknownStyleError) as info:
        get_preset("van-gogh")
    assert info.value.code == "UnknownStyle"
    assert "stylemixer styles" in info.value.message


def test_stages_map_onto_one_monotone_scale() -> None:
    # Given three stages weighted 1:2:1
    seen: list[tuple[str, float]] = []
    stages = Stages({"a": 1, "b": 2, "c": 1}, lambda s, f: seen.append((s, f)))
    # When they report, including a stray step backwards
    stages.report("a", 1.0)
    stages.report("b", 0.5)
    stages.report("b", 0.25)
    stages.report("c", 1.0)
    # Then the overall fraction never decreases and ends at 1
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert fractions[0] == pytest.approx(0.25)
    assert fractions[1] == pytest.approx(0.5)
    assert fractions[-1] == pytest.approx(1.0)
