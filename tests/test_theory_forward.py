"""Q2-c: the step-by-step forward pass equals a derivation done by hand here."""

from __future__ import annotations

import math

import pytest

from rnnlab.errors import RnnlabError
from rnnlab.theory import forward

GIVEN = {
    "W_xh": [[0.5, -0.2], [-1.0, 0.9]],
    "W_hh": [[0.3, 0.1], [-0.4, 0.2]],
    "W_hy": [[1.5, -0.5], [0.5, 1.0]],
    "x": [0.8, -0.5],
    "h_prev": [-0.2, 0.4],
    "b_h": [0.1, -0.1],
    "b_y": [0.0, 0.0],
}


@pytest.fixture(scope="module")
def result() -> dict:
    return forward.run(GIVEN)


def test_shared_steps_by_hand(result):
    for step in result["steps"].values():
        # W_xh x = [0.5*0.8 + (-0.2)(-0.5), -1*0.8 + 0.9*(-0.5)] = [0.5, -1.25]
        assert step["W_xh_x"]["value"] == pytest.approx([0.5, -1.25])
        assert step["W_xh_x"]["rows"][1]["products"] == pytest.approx([-0.8, -0.45])
        # W_hh h = [0.3*(-0.2) + 0.1*0.4, -0.4*(-0.2) + 0.2*0.4] = [-0.02, 0.16]
        assert step["W_hh_h"]["value"] == pytest.approx([-0.02, 0.16])
        # a = [0.5 - 0.02 + 0.1, -1.25 + 0.16 - 0.1] = [0.58, -1.19]
        assert step["preactivation"] == pytest.approx([0.58, -1.19])


def test_tanh_step_by_hand(result):
    step = result["steps"]["tanh"]
    h = [math.tanh(0.58), math.tanh(-1.19)]
    assert step["hidden"] == pytest.approx(h)
    assert step["hidden"] == pytest.approx([0.52267, -0.83058], abs=1e-5)
    z = [1.5 * h[0] - 0.5 * h[1], 0.5 * h[0] + 1.0 * h[1]]
    assert step["logits"] == pytest.approx(z)
    p1 = 1 / (1 + math.exp(z[1] - z[0]))
    assert step["softmax"] == pytest.approx([p1, 1 - p1])
    assert step["softmax"][0] == pytest.approx(0.85428, abs=1e-5)
    assert step["predicted_class"] == 0
    assert step["zeroed_units"] == []


def test_relu_step_by_hand(result):
    step = result["steps"]["relu"]
    assert step["hidden"] == pytest.approx([0.58, 0.0])
    assert step["zeroed_units"] == [1]
    # z = [1.5*0.58, 0.5*0.58] = [0.87, 0.29]
    assert step["logits"] == pytest.approx([0.87, 0.29])
    p1 = 1 / (1 + math.exp(0.29 - 0.87))
    assert step["softmax"] == pytest.approx([p1, 1 - p1])
    assert step["hidden_derivative"] == [1.0, 0.0]


def test_torch_agrees_and_latex_is_written(result):
    assert result["torch_max_abs_diff"] < 1e-12
    tanh = result["steps"]["tanh"]
    assert tanh["W_xh_x"]["rows"][0]["latex"].endswith("= 0.5")
    assert "0.5227" in tanh["latex"]["hidden"]
    assert result["given_latex"]["W_xh"].startswith(r"\begin{bmatrix} 0.5 & -0.2")


def test_shape_mismatch_is_a_clear_error():
    bad = {**GIVEN, "x": [0.8]}
    with pytest.raises(RnnlabError, match="theory.forward.W_xh"):
        forward.run(bad)
    with pytest.raises(RnnlabError, match="must be a matrix"):
        forward.run({**GIVEN, "W_hh": [[0.3, 0.1], [0.2]]})
    with pytest.raises(RnnlabError, match="unknown activation"):
        forward.run({**GIVEN, "activations": ["sigmoid"]})
