"""Q7 models: the gate-masked LSTM equals nn.LSTM; recomputed gates reproduce the modules."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from rnnlab.errors import RnnlabError
from rnnlab.forecast import gates
from rnnlab.forecast.models import (
    ABLATIONS,
    MODELS,
    SATURATING_BIAS,
    FixedGateLSTM,
    Forecaster,
    MaskedLSTM,
)


def test_masked_lstm_without_fixed_gates_equals_nn_lstm() -> None:
    torch.manual_seed(0)
    reference = nn.LSTM(5, 7, num_layers=2, batch_first=True)
    masked = MaskedLSTM(5, 7, 2)
    masked.load_state_dict(reference.state_dict())  # same names and layout
    x = torch.randn(3, 11, 5)
    out_ref, (h_ref, c_ref) = reference(x)
    out, (h, c) = masked(x)
    assert torch.allclose(out, out_ref, atol=1e-6)
    assert torch.allclose(h, h_ref, atol=1e-6) and torch.allclose(c, c_ref, atol=1e-6)
    # Gradients agree too: training the two is the same computation.
    out_ref.sum().backward()
    out.sum().backward()
    for name, p in reference.named_parameters():
        assert torch.allclose(p.grad, dict(masked.named_parameters())[name].grad, atol=1e-5)


def test_same_seed_gives_the_ablation_full_lstm_the_lstm_initialisation() -> None:
    torch.manual_seed(3)
    lstm = Forecaster("lstm", 7, 16, 2)
    torch.manual_seed(3)
    full = Forecaster("lstm_full", 7, 16, 2)
    ref, got = lstm.state_dict(), full.state_dict()
    assert ref.keys() == got.keys()
    assert all(torch.equal(ref[k], got[k]) for k in ref)
    x = torch.randn(4, 9, 7)
    assert torch.allclose(lstm(x), full(x), atol=1e-6)


@pytest.mark.parametrize("variant", ["lstm_forget_only", "lstm_input_only"])
def test_fixed_gates_are_exactly_one_and_the_others_learned(variant: str) -> None:
    torch.manual_seed(1)
    cell = MaskedLSTM(3, 4, 2, ABLATIONS[variant])
    x = torch.randn(2, 6, 3)
    out, (h, c), trace = cell(x, return_gates=True)
    for layer in trace:
        for gate in ("input", "forget", "output"):
            fixed = gate in ABLATIONS[variant]
            assert torch.all(layer[gate] == 1) == fixed
    # Output gate fixed to 1 in both variants: h = tanh(c).
    assert torch.allclose(h, torch.tanh(c), atol=1e-6)
    # Rows of fixed gates do not count as trainable parameters that matter.
    full = MaskedLSTM(3, 4, 2).effective_parameters()
    assert cell.effective_parameters() == full // 4 * 2


def test_parameter_counts_follow_the_architectures() -> None:
    counts = {m: Forecaster(m, 7, 64, 2).trainable_parameters() for m in MODELS}
    h, f = 64, 7
    lstm = 4 * h * (f + h + 2) + 4 * h * (h + h + 2) + h + 1
    assert counts["lstm"] == lstm == counts["lstm_full"]
    assert counts["gru"] == 3 * h * (f + h + 2) + 3 * h * (h + h + 2) + h + 1
    assert counts["rnn"] == h * (f + h + 2) + h * (h + h + 2) + h + 1
    # BiLSTM: both directions, the second layer reads 2h, the head reads 2h.
    assert counts["bilstm"] == 2 * (4 * h * (f + h + 2) + 4 * h * (2 * h + h + 2)) + 2 * h + 1


def test_unknown_model_is_a_clear_error() -> None:
    with pytest.raises(RnnlabError, match="unknown Q7 model"):
        Forecaster("transformer", 7)


def test_recomputed_lstm_and_gru_gates_reproduce_the_modules() -> None:
    torch.manual_seed(2)
    lstm = nn.LSTM(7, 16, num_layers=2, batch_first=True)
    gru = nn.GRU(7, 16, num_layers=2, batch_first=True)
    x = torch.randn(5, 20, 7)
    with torch.no_grad():
        lt, gt = gates.lstm_trace(lstm, x), gates.gru_trace(gru, x)
        assert gates.max_deviation(lstm, x, lt) < 1e-5
        assert gates.max_deviation(gru, x, gt) < 1e-5
    for layer in lt:
        for name in ("input", "forget", "output"):
            assert layer[name].shape == (5, 20, 16)
            assert float(layer[name].min()) >= 0 and float(layer[name].max()) <= 1
    # A wrong equation must show up: swapping GRU's z convention breaks reproduction.
    with torch.no_grad():
        broken = [dict(layer) for layer in gt]
        broken[-1]["h"] = broken[-1]["h"] + 1e-3
        assert gates.max_deviation(gru, x, broken) > 1e-4


def test_window_choice_finds_calm_peak_and_a_typical_window() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, size=(50, 30))
    x[7] = 0.01 * rng.normal(size=30)  # calm
    x[13, 15] = 25.0  # a sharp peak
    chosen = gates.choose_windows(x, seed=0)
    assert chosen["calm"] == 7 and chosen["peak"] == 13
    assert chosen["typical"] not in (7, 13)
    assert gates.choose_windows(x, seed=0) == chosen  # seeded


def test_forget_drop_statistics_see_input_changes() -> None:
    # Forget gate low exactly where the input jumps: the ratio must be large.
    x = np.zeros((4, 20))
    forget = np.full((4, 20), 0.9)
    for row in range(4):
        x[row, 10:] = 3.0
        forget[row, 10] = 0.2
    stats = gates.forget_drop_stats(forget, x)
    assert stats["mean_change_at_drops"] > 10 * stats["mean_change_elsewhere"]
    assert stats["corr_forget_change"] < -0.5


def test_window_story_locates_the_forget_dip_against_the_jump() -> None:
    series = np.r_[np.zeros(10), np.full(10, 2.0)]  # the jump is into step 11
    forget = np.full(20, 0.9)
    forget[12] = 0.3  # step 13: two steps after the jump
    story = gates._window_story(forget, series)
    assert story["jump_step"] == 11 and story["forget_min_step"] == 13
    assert story["min_to_jump_steps"] == 2
    assert story["forget_at_jump"] == pytest.approx(0.9)


@pytest.mark.parametrize("variant", ["lstm_forget_only", "lstm_input_only"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fused_ablation_equals_the_masked_python_cell(variant: str, dtype: torch.dtype) -> None:
    torch.manual_seed(4)
    fused = FixedGateLSTM(5, 8, 2, ABLATIONS[variant]).to(dtype)
    reference = MaskedLSTM(5, 8, 2, ABLATIONS[variant]).to(dtype)
    reference.load_state_dict(fused.state_dict())  # same names and layout
    x = torch.randn(6, 13, 5, dtype=dtype)
    out, (h, c) = fused(x)
    out_ref, (h_ref, c_ref) = reference(x)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert torch.allclose(out, out_ref, atol=tol)
    assert torch.allclose(h, h_ref, atol=tol) and torch.allclose(c, c_ref, atol=tol)
    # The saturated gate is exactly 1, not merely close.
    assert torch.sigmoid(torch.tensor(SATURATING_BIAS, dtype=dtype)) == 1
    (out**2).sum().backward()
    (out_ref**2).sum().backward()
    ref_grads = dict(reference.named_parameters())
    for name, p in fused.named_parameters():
        keep = fused.gate_mask.bool()
        assert torch.allclose(p.grad[keep], ref_grads[name].grad[keep], atol=tol * 10)
        assert torch.all(p.grad[~keep] == 0)  # fixed rows never get a gradient


@pytest.mark.parametrize("variant", ["lstm_forget_only", "lstm_input_only"])
def test_fixed_gates_stay_fixed_through_adam_training(variant: str) -> None:
    torch.manual_seed(5)
    model = Forecaster(variant, 3, 6, 2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    optimiser = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(5):
        optimiser.zero_grad()
        loss = ((model(torch.randn(8, 10, 3)) - 1) ** 2).mean()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
    keep = model.rnn.gate_mask.bool()
    after = model.state_dict()
    for name in before:
        if name.startswith("rnn."):
            assert torch.equal(before[name][~keep], after[name][~keep])
            assert not torch.equal(before[name][keep], after[name][keep])
    # A trained variant reloads as a plain nn.LSTM state dict and still has its gates at 1.
    reference = MaskedLSTM(3, 6, 2)
    reference.load_state_dict({k[4:]: v for k, v in after.items() if k.startswith("rnn.")})
    _, _, trace = reference(torch.randn(2, 4, 3), return_gates=True)
    for layer in trace:
        for gate in ABLATIONS[variant]:
            assert torch.all(layer[gate] == 1)


def test_fused_ablation_keeps_the_nn_lstm_initialisation_outside_fixed_rows() -> None:
    torch.manual_seed(6)
    plain = nn.LSTM(7, 16, num_layers=2, batch_first=True)
    torch.manual_seed(6)
    fused = FixedGateLSTM(7, 16, 2, ABLATIONS["lstm_input_only"])
    keep = fused.gate_mask.bool()
    for name, p in plain.named_parameters():
        assert torch.equal(p[keep], getattr(fused, name)[keep])
    assert isinstance(Forecaster("lstm_input_only", 7).rnn, nn.LSTM)  # the fused kernel
