"""Q2-i: three ops of exactly equal FLOPs, timed, with the hardware named."""

from __future__ import annotations

import pytest
import torch

from rnnlab.errors import RnnlabError
from rnnlab.theory import parallelism

TINY = {
    "seed": 0,
    "lengths": [3, 6],
    "batch_size": 2,
    "hidden": 4,
    "repeats": 2,
    "warmup": 0,
    "devices": ["cpu", "auto"],
    "cpu_threads": [1, 2],
}


def test_ops_compute_what_they_claim():
    torch.manual_seed(0)
    ops = parallelism.build_ops(4, torch.device("cpu"))
    x = torch.randn(2, 5, 4)
    for op in ops.values():
        assert op(x).reshape(-1, 4).shape == (10, 4)
        assert parallelism.count_flops(op, x) == 2 * 2 * 5 * 2 * 4 * 4


def test_tiny_timing_run():
    result = parallelism.run(TINY)
    # `auto` on a machine without a GPU resolves to cpu again: measured once per thread count.
    assert result["devices"][:2] == ["cpu-1t", "cpu-2t"]
    assert result["by_device"]["cpu-2t"]["hardware"]["torch_threads"] == 2
    scaling = result["thread_scaling"]
    assert (scaling["threads_from"], scaling["threads_to"]) == (1, 2)
    assert set(scaling["speedup"]) == {"rnn", "conv", "matmul"}
    cpu = result["by_device"]["cpu-1t"]
    assert cpu["hardware"]["torch_threads"] == 1
    assert cpu["hardware"]["cpu_model"]
    assert cpu["hardware"]["torch_threads"] >= 1
    assert len(cpu["rows"]) == 2 * 3
    for row in cpu["rows"]:
        assert row["flops"] == 2 * 2 * row["length"] * 2 * 4 * 4
        assert len(row["times_ms"]) == 2 and row["best_ms"] == min(row["times_ms"]) > 0
        assert row["sequential_steps"] == (row["length"] if row["op"] == "rnn" else 1)
    assert set(cpu["rnn_slowdown_at_longest"]) == {"conv", "matmul"}


def test_threads_beyond_the_job_are_not_measured():
    result = parallelism.run({**TINY, "devices": ["cpu"]}, max_threads=1)
    assert result["devices"] == ["cpu-1t"]
    assert result["skipped_cpu_threads"] == [2]
    assert result["thread_scaling"] is None


def test_bad_config_is_a_clear_error():
    with pytest.raises(RnnlabError, match="lengths"):
        parallelism.run({**TINY, "lengths": []})
    with pytest.raises(RnnlabError, match="cpu_threads"):
        parallelism.run({**TINY, "cpu_threads": [0]})
    with pytest.raises(RnnlabError, match="unknown device"):
        parallelism.run({**TINY, "devices": ["tpu"]})
