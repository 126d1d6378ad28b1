"""Config values the schema lets through but nothing can use: .inf and .nan."""

from __future__ import annotations

import math

import pytest

from rnnlab.errors import RnnlabError
from rnnlab.runtime import non_finite_keys, require_finite


def test_infinite_and_nan_values_are_named_by_key():
    config = {
        "sentiment": {"hyper": {"lr": math.inf, "dropout": 0.1}},
        "forecast": {"lr": 0.002, "lengths": [30, 60]},
        "power": {"split_fractions": {"train": math.nan}},
        "theory": {"addition": {"lrs": [0.1, -math.inf]}},
    }
    assert non_finite_keys(config) == [
        "sentiment.hyper.lr = inf",
        "power.split_fractions.train = nan",
        "theory.addition.lrs[1] = -inf",
    ]
    with pytest.raises(RnnlabError, match=r"sentiment\.hyper\.lr = inf.*finite value"):
        require_finite(config)


def test_finite_configs_pass():
    require_finite({"a": 1, "b": 0.5, "c": [1e300, -2], "d": None, "e": "inf", "f": True})
