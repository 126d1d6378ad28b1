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


def test_consumers_refuse_an_infinite_value():
    from rnnlab.data import power
    from rnnlab.theory import addition

    cfg = {"resolution_minutes": 10, "min_coverage": math.inf, "max_gap_steps": 2,
           "split_fractions": {"train": 0.7, "val": 0.15, "test": 0.15},
           "target": "Global_active_power", "sha256": []}  # fmt: skip
    with pytest.raises(RnnlabError, match=r"power\.min_coverage = inf"):
        power.PrepConfig.from_dict(cfg)
    params = {"seed": 0, "train_bits": 4, "train_pairs": 64, "steps": 30, "batch_size": 8,
              "lr": math.inf, "rnn_hidden": 4, "mlp_hidden": 4, "eval_bits": [4],
              "eval_samples": 10, "log_every": 10, "sweep_train_pairs": [16]}  # fmt: skip
    with pytest.raises(RnnlabError, match=r"theory\.addition\.lr = inf"):
        addition._config(params)
