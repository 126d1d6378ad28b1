"""Q1: every count from the real torch modules equals an independent closed form."""

from __future__ import annotations

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from rnnlab.errors import RnnlabError
from rnnlab.theory import q1

QUESTION = {
    "seq_len": 50,
    "input_size": 64,
    "hidden1": 32,
    "hidden2": 64,
    "fc_hidden": 512,
    "num_classes": 10,
    "seq_len_factor": 2,
    "new_input_size": 128,
    "probe_batch": 3,
}


@pytest.fixture(scope="module")
def result() -> dict:
    torch.set_num_threads(1)
    return q1.run(QUESTION)


def test_parameters_match_hand_arithmetic(result):
    layers = result["base"]["layers"]
    # Worked by hand from the question: RNN H*I + H*H weights, 2H biases (b_ih, b_hh).
    expected = {
        "layer1": (32 * 64 + 32 * 32, 2 * 32),
        "layer2": (64 * 32 + 64 * 64, 2 * 64),
        "layer3": (50 * 64 * 512, 512),
        "layer4": (512 * 10, 10),
    }
    for name, (weights, biases) in expected.items():
        assert layers[name]["weights"] == weights, name
        assert layers[name]["biases"] == biases, name
        assert layers[name]["params"] == weights + biases
    assert result["base"]["totals"]["params"] == 1_653_450
    assert result["base"]["totals"]["params_textbook"] == 1_653_450 - 32 - 64
    assert result["many_to_one"]["layer3_params"] == 64 * 512 + 512


def test_parameters_match_torch_numel_for_other_sizes():
    spec = q1.NetSpec(seq_len=7, input_size=5, hidden1=3, hidden2=4, fc_hidden=6, num_classes=2)
    net = q1.build_net(spec)
    total = sum(p.numel() for p in net.parameters())
    closed = q1.closed_form(spec)
    assert total == sum(layer["params"] for layer in closed.values())
    assert net.layer3.in_features == 7 * 4


def test_shapes(result):
    layers = result["base"]["layers"]
    assert layers["layer1"]["output_shape"] == ["B", 50, 32]
    assert layers["layer1"]["state_shape"] == [1, "B", 32]
    assert layers["layer2"]["output_shape"] == ["B", 50, 64]
    assert layers["layer3"]["output_shape"] == ["B", 512]
    assert result["base"]["output_shape"] == ["B", 10]


def test_operation_counts_per_step_and_sequence(result):
    layer1 = result["base"]["layers"]["layer1"]
    # Per step: 32 dot products of length 64 + 32 of length 32 (mults), their
    # (n - 1) additions, 32 additions joining the two, 2 x 32 bias additions.
    assert layer1["per_step"]["mults"] == 32 * 96
    assert layer1["per_step"]["adds"] == 32 * 63 + 32 * 31 + 32 + 64
    assert layer1["flops"] == 50 * (3072 + 3104)
    assert layer1["tanh"] == 50 * 32
    layer3 = result["base"]["layers"]["layer3"]
    assert layer3["mults"] == layer3["adds"] == 3200 * 512
    assert layer3["per_step"] is None


def test_matmul_flops_match_an_independent_flop_counter(result):
    torch.manual_seed(1)
    net = q1.build_net(q1.NetSpec())
    batch = 4
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        net(torch.randn(batch, 50, 64))
    counts = counter.get_flop_counts()
    for name, layer in result["base"]["layers"].items():
        measured = sum(counts[f"Q1Net.{name}"].values()) // batch
        assert measured == layer["matmul_flops"] == 2 * layer["macs"], name
    assert result["base"]["totals"]["matmul_flops"] == 2 * (
        50 * (32 * 96 + 64 * 96) + 3200 * 512 + 512 * 10
    )


def test_changes(result):
    changes = {k: v["compare"] for k, v in result["changes"].items()}
    rows = {k: {r["layer"]: r for r in c["layers"]} for k, c in changes.items()}
    longer = rows["seq_len_x2"]
    assert longer["layer1"]["params"]["old"] == longer["layer1"]["params"]["new"]
    assert longer["layer1"]["flops_ratio"] == 2.0
    assert longer["layer3"]["params"]["new"] == 6400 * 512 + 512
    wider = rows["input_128"]
    assert wider["layer1"]["params"]["new"] == 32 * 128 + 32 * 32 + 64
    assert changes["input_128"]["changed_layers"] == ["layer1"]
    bi = rows["layer2_bidirectional"]
    assert bi["layer2"]["params"]["new"] == 2 * (64 * 32 + 64 * 64 + 128)
    assert bi["layer2"]["output_shape"]["new"] == ["B", 50, 128]
    assert changes["layer2_bidirectional"]["layer3_in"]["new"] == 50 * 128
    dropped = changes["drop_layer4"]
    assert dropped["output_shape"]["new"] == ["B", 512]
    assert dropped["totals"]["params"]["delta"] == -(512 * 10 + 10)
    assert rows["drop_layer4"]["layer4"]["removed"]


def test_bad_sizes_are_clear_errors():
    with pytest.raises(RnnlabError, match="theory.q1.hidden1"):
        q1.analyse(q1.NetSpec(hidden1=0))
    net = q1.build_net(q1.NetSpec(seq_len=4, input_size=3, hidden1=2, hidden2=2, fc_hidden=2))
    with pytest.raises(RnnlabError, match="fixes the sequence length"):
        net(torch.zeros(1, 5, 3))
    with pytest.raises(RnnlabError, match="theory.q1.seq_len"):
        q1.run({k: v for k, v in QUESTION.items() if k != "seq_len"})
