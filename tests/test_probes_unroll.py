"""The step-by-step replay is exact: same logits, same gradients as the fused module."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from rnnlab.errors import RnnlabError
from rnnlab.probes.gradients import describe_curve, memory_horizon, step_norms
from rnnlab.probes.selection import select_balanced
from rnnlab.probes.unroll import as_float64, fused_stepwise, replay
from rnnlab.sentiment.models import SentimentRNN

CELLS = ["rnn", "lstm"]


def tiny(cell: str, seed: int = 0) -> SentimentRNN:
    torch.manual_seed(seed)
    return as_float64(SentimentRNN(vocab_size=40, embed_dim=6, hidden_size=5, cell=cell))


def batch(steps: int = 25, size: int = 4) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(2, 40, (size, steps), generator=generator)
    return ids, torch.full((size,), steps), torch.tensor([1, 0, 1, 0][:size])


def keep(store: dict[int, torch.Tensor]):
    return lambda step, grad: store.__setitem__(step, grad.clone())


def loss_of(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype))


@pytest.mark.parametrize("cell", CELLS)
def test_replay_matches_fused_outputs_and_parameter_gradients(cell: str) -> None:
    model = tiny(cell)
    ids, lengths, labels = batch()
    outputs, logits = model.run(ids, lengths)
    loss_of(logits, labels).backward()
    fused = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)

    trace = replay(model, ids, lengths)
    loss_of(trace.logits, labels).backward()
    torch.testing.assert_close(trace.logits, logits, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(torch.stack(trace.hidden, dim=1), outputs, rtol=1e-12, atol=1e-12)
    for name, param in model.named_parameters():
        torch.testing.assert_close(param.grad, fused[name], rtol=1e-10, atol=1e-14, msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_hooked_hidden_gradients_match_the_fused_kernel_stepped_by_hand(cell: str) -> None:
    model = tiny(cell)
    ids, lengths, labels = batch()
    replayed: dict[int, torch.Tensor] = {}
    fused: dict[int, torch.Tensor] = {}
    loss_of(replay(model, ids, lengths, on_hidden=keep(replayed)).logits, labels).backward()
    loss_of(fused_stepwise(model, ids, lengths, on_hidden=keep(fused)), labels).backward()
    assert sorted(replayed) == list(range(1, 26)) == sorted(fused)
    for step in range(1, 26):
        torch.testing.assert_close(replayed[step], fused[step], rtol=1e-10, atol=1e-300)


def test_hooked_cell_gradient_is_the_total_derivative() -> None:
    """dL/dc_t = dL/dc_{t+1} * f_{t+1} + dL/dh_t * o_t * (1 - tanh(c_t)^2), from the equations."""
    model = tiny("lstm")
    ids, lengths, labels = batch()
    dh: dict[int, torch.Tensor] = {}
    dc: dict[int, torch.Tensor] = {}
    trace = replay(model, ids, lengths, on_hidden=keep(dh), on_cell=keep(dc))
    loss_of(trace.logits, labels).backward()
    with torch.no_grad():
        gates = F.linear(trace.embedded, model.rnn.weight_ih_l0, model.rnn.bias_ih_l0)
        h_prev = torch.cat(
            [torch.zeros_like(trace.hidden[0][:, None]), torch.stack(trace.hidden[:-1], dim=1)],
            dim=1,
        )
        gates = gates + F.linear(h_prev, model.rnn.weight_hh_l0, model.rnn.bias_hh_l0)
        _, forget, _, out = torch.sigmoid(gates).chunk(4, dim=-1)
        steps = ids.shape[1]
        expected = dh[steps] * out[:, -1] * (1 - torch.tanh(trace.cell[-1]) ** 2)
        torch.testing.assert_close(dc[steps], expected)
        for step in range(steps - 1, 0, -1):
            expected = dc[step + 1] * forget[:, step] + dh[step] * out[:, step - 1] * (
                1 - torch.tanh(trace.cell[step - 1]) ** 2
            )
            torch.testing.assert_close(dc[step], expected, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("cell", CELLS)
def test_last_step_gradient_is_the_readout_and_embedding_gradient_matches_model(cell: str) -> None:
    model = tiny(cell)
    ids, lengths, labels = batch()
    # dL/dx_t through the model's own fused forward: an input gradient, exact there.
    seen: list[torch.Tensor] = []

    def hook_output(_module: torch.nn.Module, _inputs: object, out: torch.Tensor) -> None:
        out.register_hook(lambda g: seen.append(g.clone()))

    handle = model.embedding.register_forward_hook(hook_output)
    logits = model(ids, lengths)
    loss_of(logits, labels).backward()
    handle.remove()

    last: dict[int, torch.Tensor] = {}
    embedded: list[torch.Tensor] = []
    trace = replay(
        model,
        ids,
        lengths,
        on_hidden=lambda s, g: last.__setitem__(s, g),
        on_embedded=lambda g: embedded.append(g),
    )
    loss_of(trace.logits, labels).backward()
    torch.testing.assert_close(embedded[0], seen[0], rtol=1e-10, atol=1e-300)
    # At t = T only the head reads h_T: dL/dh_T = dL/dlogit * w_head, dL/dlogit = (p - y) / B.
    dlogit = (torch.sigmoid(logits) - labels.double()) / len(labels)
    torch.testing.assert_close(last[25], dlogit[:, None] * model.head.weight[0][None, :])


def test_output_retain_grad_is_not_the_state_gradient() -> None:
    """The trap the issue names: the fused output's gradient is zero before the readout."""
    model = tiny("rnn")
    ids, lengths, labels = batch()
    outputs, logits = model.run(ids, lengths)
    outputs.retain_grad()
    loss_of(logits, labels).backward()
    assert torch.count_nonzero(outputs.grad[:, :-1]) == 0
    norms, _ = step_norms(model, ids, lengths, labels)
    assert (norms["h"][:, :-1] > 0).all()


@pytest.mark.parametrize("cell", CELLS)
def test_step_norms_have_every_step_finite_and_nonzero_in_float64(cell: str) -> None:
    model = tiny(cell)
    ids, lengths, labels = batch(steps=200, size=4)
    norms, loss = step_norms(model, ids, lengths, labels)
    expected = {"h", "x", "c"} if cell == "lstm" else {"h", "x"}
    assert set(norms) == expected
    for values in norms.values():
        assert values.shape == (4, 200)
        assert np.isfinite(values).all() and (values > 0).all()
    assert loss > 0


def test_replay_rejects_padded_rows() -> None:
    model = tiny("lstm")
    ids, lengths, _ = batch()
    lengths[0] = 10
    with pytest.raises(RnnlabError, match="no padding"):
        replay(model, ids, lengths)


def test_memory_horizon_definition() -> None:
    # 10^-k decay: steps 1..6 hold 1e-5 .. 1; threshold 1e-3 keeps steps 3..6 (3 steps back).
    curve = np.array([1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0])
    assert memory_horizon(curve, 1e-3) == (3, False)
    assert memory_horizon(curve, 1e-6) == (5, True)
    # A dip that recovers still ends the horizon at the latest crossing.
    assert memory_horizon(np.array([1.0, 1e-9, 1.0, 1.0]), 1e-3) == (1, False)
    summary = describe_curve(curve[None, :], 1e-3)
    assert summary["ratio_first_last"] == pytest.approx(1e-5)
    assert summary["factor_per_step"] == pytest.approx(0.1)
    assert summary["horizon_start_step"] == 3


def test_selection_is_deterministic_balanced_and_respects_min_tokens() -> None:
    lengths = torch.tensor([300, 120, 200, 180, 160, 150, 90, 400, 155, 151, 170, 149, 500, 210])
    labels = torch.tensor([1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1])
    first = select_balanced(lengths, labels, min_tokens=150, per_class=3, seed=7)
    again = select_balanced(lengths, labels, min_tokens=150, per_class=3, seed=7)
    assert torch.equal(first, again)
    assert labels[first].tolist() == [1, 1, 1, 0, 0, 0]
    assert (lengths[first] >= 150).all()
    assert len(set(first.tolist())) == 6
    others = {
        tuple(select_balanced(lengths, labels, min_tokens=150, per_class=3, seed=s).tolist())
        for s in range(10)
    }
    assert len(others) > 1, "the seed must change the draw"
    with pytest.raises(RnnlabError, match="only 5 neg reviews"):
        select_balanced(lengths, labels, min_tokens=150, per_class=6, seed=0)
