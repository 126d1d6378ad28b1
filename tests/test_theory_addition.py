"""Q2-h: exact ground truth, fixed-width MLP, and a deterministic tiny experiment."""

from __future__ import annotations

import random

import pytest
import torch

from rnnlab.errors import RnnlabError
from rnnlab.theory import addition

TINY = {
    "seed": 3,
    "train_bits": 3,
    "train_pairs": 24,
    "sweep_train_pairs": [8, 24],
    "steps": 15,
    "batch_size": 8,
    "lr": 0.01,
    "rnn_hidden": 4,
    "mlp_hidden": 8,
    "eval_bits": [3, 6],
    "eval_samples": 20,
    "log_every": 5,
}


def _bits(value: int, n: int) -> list[int]:
    return [(value >> i) & 1 for i in range(n)]


def test_add_bits_matches_python_integers():
    rng = random.Random(0)
    n = 64
    pairs = [(rng.getrandbits(n), rng.getrandbits(n)) for _ in range(50)]
    a = torch.tensor([_bits(x, n) for x, _ in pairs])
    b = torch.tensor([_bits(y, n) for _, y in pairs])
    got = addition.add_bits(a, b)
    for row, (x, y) in zip(got.tolist(), pairs, strict=True):
        assert row == _bits(x + y, n + 1)


def test_all_pairs_enumerates_each_pair_once():
    a, b = addition.all_pairs(3)
    assert a.shape == (64, 3)
    values = {(tuple(x), tuple(y)) for x, y in zip(a.tolist(), b.tolist(), strict=True)}
    assert len(values) == 64


def test_models_and_fixed_width_mlp():
    models = addition.build_models(4, rnn_hidden=16, mlp_hidden=128)
    # Elman RNN(2, 16): 16*2 + 16*16 + 2*16; readout 16 + 1.
    assert sum(p.numel() for p in models["rnn"].parameters()) == 32 + 256 + 32 + 17
    a, b = addition.random_pairs(9, 2, torch.Generator().manual_seed(0))
    assert models["rnn"](a, b).shape == (2, 10)  # any width: one logit per sum bit
    with pytest.raises(RnnlabError, match="fixed width"):
        models["mlp"](a, b)


def test_tiny_experiment_is_deterministic():
    first = addition.run(TINY)
    second = addition.run(TINY)
    assert first == second
    assert first["pairs_total"] == 64 and first["pairs_test"] == 40
    assert [e["bits"] for e in first["by_length"]] == [3, 6]
    assert first["by_length"][1]["mlp"] is None
    assert [s["train_pairs"] for s in first["sweep"]] == [8, 24]
    # The main setting is the sweep's 24-pair point, reused rather than retrained.
    assert first["sweep"][1]["rnn"] == first["models"]["rnn"]["test"]
    for model in first["models"].values():
        assert 0.0 <= model["test"]["exact"] <= model["test"]["bit"] <= 1.0


def test_bad_config_is_a_clear_error():
    with pytest.raises(RnnlabError, match="training pairs"):
        addition.run({**TINY, "train_pairs": 64})
    with pytest.raises(RnnlabError, match="at most 10 bits"):
        addition.run({**TINY, "train_bits": 11, "train_pairs": 8, "sweep_train_pairs": []})
    with pytest.raises(RnnlabError, match="theory.addition.steps"):
        addition.run({k: v for k, v in TINY.items() if k != "steps"})
