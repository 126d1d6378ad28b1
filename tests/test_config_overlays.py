"""The configuration files layered over config/config.yaml (`--configfile`).

Snakemake merges an overlay into the full configuration key by key and then the
Snakefile validates the result; these tests do the same merge, so a typo in an
overlay or a schema change that breaks one fails here and not after a 20-minute run.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from snakemake.utils import update_config, validate

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
OVERLAYS = sorted(p.name for p in (REPO / "config").glob("*.yaml") if p.name != "config.yaml")


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "config" / name).read_text(encoding="utf-8")) or {}


def _merged(overlay: str) -> dict[str, Any]:
    config = _load("config.yaml")
    update_config(config, _load(overlay))
    validate(config, str(SCHEMA))
    return config


def _without(config: dict[str, Any], paths: list[tuple[str, ...]]) -> dict[str, Any]:
    config = copy.deepcopy(config)
    for path in paths:
        node = config
        for key in path[:-1]:
            node = node[key]
        node.pop(path[-1])
    return config


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_overlay_validates_against_the_schema(overlay):
    assert _merged(overlay)


def test_the_overlays_are_the_documented_ones():
    assert OVERLAYS == ["quick.yaml", "seed0.yaml", "smoke.yaml"]


def test_seed0_is_the_full_run_restricted_to_seed_0():
    # Only the seed lists differ, so its trainings are the full run's seed 0, bit
    # for bit, and a later full run reuses them.
    full, leg = _merged("config.yaml"), _merged("seed0.yaml")
    assert leg["sentiment"]["seeds"] == [0] and leg["forecast"]["seeds"] == [0]
    seeds = [("sentiment", "seeds"), ("forecast", "seeds")]
    assert _without(leg, seeds) == _without(full, seeds)


def test_quick_trains_one_seed_to_a_lower_cap_and_changes_nothing_else():
    full, quick = _merged("config.yaml"), _merged("quick.yaml")
    assert quick["sentiment"]["seeds"] == [0] and quick["forecast"]["seeds"] == [0]
    assert quick["sentiment"]["hyper"]["max_epochs"] < full["sentiment"]["hyper"]["max_epochs"]
    assert quick["forecast"]["max_epochs"] < full["forecast"]["max_epochs"]
    # Its report says it is a draft; the full run's does not.
    assert quick["report"]["draft"] is True and not full["report"].get("draft", False)
    changed = [
        ("sentiment", "seeds"),
        ("forecast", "seeds"),
        ("sentiment", "hyper", "max_epochs"),
        ("forecast", "max_epochs"),
        ("report", "draft"),
    ]
    assert _without(quick, changed) == _without(full, changed)
