"""Replay a `SentimentRNN` one step at a time so each h_t and c_t is a tensor of its own.

The fused `nn.RNN`/`nn.LSTM` returns the stacked outputs of all steps, but the
per-step states that the recurrence actually passes on live inside the kernel:
`retain_grad()` on its `output` only sees the gradient that reaches `output`
directly (nonzero only at the readout step), not the gradient flowing back
through h_{t+1}. Replaying the layer's own weights one step at a time, with the
cell equations written out, makes every h_t and c_t a node of the autograd
graph, so a tensor hook on it receives the total derivative dL/dh_t (dL/dc_t)
(Pascanu et al. 2013).

A second, independent exact method runs the fused module itself one step at a
time, carrying its state (`fused_stepwise`); the tests check that both agree with
each other and with the model's own forward and parameter gradients.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn import functional as F

from rnnlab.errors import RnnlabError
from rnnlab.sentiment.models import SentimentRNN

Hook = Callable[[int, torch.Tensor], None]
# (x_t, h_{t-1}, c_{t-1}) -> (h_t, c_t); the RNN passes c through untouched.
Step = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class Trace:
    """One replayed forward pass: logits and every intermediate the probes look at."""

    logits: torch.Tensor  # [B]
    embedded: torch.Tensor  # [B, T, E], the embedding output x_1..x_T
    hidden: list[torch.Tensor] = field(default_factory=list)  # h_1..h_T, each [B, H]
    cell: list[torch.Tensor] = field(default_factory=list)  # c_1..c_T (LSTM only)


def check_recurrent(model: SentimentRNN) -> None:
    """The replay covers exactly the `SentimentRNN` layout; anything else is an error."""
    rnn = model.rnn
    if not isinstance(rnn, nn.RNN | nn.LSTM):
        raise RnnlabError(
            f"model.rnn is a {type(rnn).__name__}; the probes replay only nn.RNN and nn.LSTM."
        )
    if rnn.num_layers != 1 or rnn.bidirectional or not rnn.batch_first:
        raise RnnlabError(
            "the probes replay a one-layer, unidirectional, batch_first recurrent layer; "
            f"got num_layers={rnn.num_layers}, bidirectional={rnn.bidirectional}, "
            f"batch_first={rnn.batch_first}."
        )
    if isinstance(rnn, nn.LSTM) and rnn.proj_size:
        raise RnnlabError("LSTM projections (proj_size > 0) are not supported by the probes.")


def as_float64(model: SentimentRNN) -> SentimentRNN:
    """An eval-mode float64 copy: early RNN gradients fall below float32's range (~1e-45)."""
    check_recurrent(model)
    replica = copy.deepcopy(model).double()
    replica.eval()
    return replica


def step_function(model: SentimentRNN) -> Step:
    """One recurrence step of `model.rnn` written out as its equations, on its own weights.

    Written out (rather than calling `nn.LSTMCell`) so that h_t is computed from
    the c_t tensor by ordinary autograd ops on every device: a hook on c_t then
    receives the total dL/dc_t, including the path through h_t = o_t * tanh(c_t).
    A fused cell kernel (e.g. the CUDA LSTM cell) returns h_t and c_t side by side,
    and a hook on its c_t would miss that path. Gate order is PyTorch's (i, f, g, o).
    """
    check_recurrent(model)
    rnn = model.rnn
    w_ih, w_hh = rnn.weight_ih_l0, rnn.weight_hh_l0
    b_ih = rnn.bias_ih_l0 if rnn.bias else None
    b_hh = rnn.bias_hh_l0 if rnn.bias else None

    if isinstance(rnn, nn.LSTM):

        def lstm_step(
            x: torch.Tensor, h: torch.Tensor, c: torch.Tensor
        ) -> tuple[torch.Tensor, torch.Tensor]:
            gates = F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)
            i, f, g, o = gates.chunk(4, dim=-1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            return torch.sigmoid(o) * torch.tanh(c), c

        return lstm_step

    act = torch.tanh if rnn.nonlinearity == "tanh" else torch.relu

    def rnn_step(
        x: torch.Tensor, h: torch.Tensor, c: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return act(F.linear(x, w_ih, b_ih) + F.linear(h, w_hh, b_hh)), c

    return rnn_step


def _check_full_rows(ids: torch.Tensor, lengths: torch.Tensor) -> None:
    if ids.dim() != 2 or ids.shape[1] < 1:
        raise RnnlabError(f"ids must be a non-empty [batch, time] matrix, got {tuple(ids.shape)}.")
    if lengths.shape != ids.shape[:1] or bool((lengths != ids.shape[1]).any()):
        raise RnnlabError(
            "the step-by-step replay needs every row to fill all "
            f"{ids.shape[1]} steps with real tokens (no padding); choose reviews at least "
            "that long or cut the window to the shortest one."
        )


def replay(
    model: SentimentRNN,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    *,
    on_hidden: Hook | None = None,
    on_cell: Hook | None = None,
    on_embedded: Callable[[torch.Tensor], None] | None = None,
) -> Trace:
    """Run `model` on full-length rows with one cell call per step.

    The hooks are registered as tensor hooks on h_t / c_t / the embedding output,
    so during `backward()` they are called with the total gradient of the loss
    with respect to that tensor (`on_hidden(t, grad)` with t = 1..T).
    """
    _check_full_rows(ids, lengths)
    if model.training:
        # Dropout (identity in eval mode) is not replayed; a training-mode model would differ.
        raise RnnlabError("the replay reproduces the eval-mode forward; call model.eval() first.")
    step = step_function(model)
    is_lstm = isinstance(model.rnn, nn.LSTM)
    embedded = model.embedding(ids)
    if on_embedded is not None and embedded.requires_grad:
        embedded.register_hook(on_embedded)
    batch, steps = ids.shape
    zeros = embedded.new_zeros(batch, model.rnn.hidden_size)
    h, c = zeros, zeros
    trace = Trace(logits=embedded.new_empty(0), embedded=embedded)
    for t in range(steps):
        h, c = step(embedded[:, t], h, c)
        if is_lstm:
            trace.cell.append(c)
            if on_cell is not None and c.requires_grad:
                c.register_hook(_bind(on_cell, t + 1))
        trace.hidden.append(h)
        if on_hidden is not None and h.requires_grad:
            h.register_hook(_bind(on_hidden, t + 1))
    # All rows are full, so the last real token is step T for every review.
    trace.logits = model.head(h).squeeze(-1)
    return trace


def fused_stepwise(
    model: SentimentRNN,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    *,
    on_hidden: Hook | None = None,
) -> torch.Tensor:
    """The fused module itself, called once per step with its state carried by hand.

    An independent exact route to dL/dh_t through PyTorch's own recurrent kernel:
    the carried h is an ordinary tensor between calls, so a hook on it sees the
    full gradient. (Not for c_t: the kernel returns h_t and c_t side by side, so a
    hook on the carried c_t would miss the path through h_t.) Returns the logits.
    """
    _check_full_rows(ids, lengths)
    embedded = model.embedding(ids)
    state: torch.Tensor | tuple[torch.Tensor, torch.Tensor] | None = None
    h = embedded.new_empty(0)
    for t in range(ids.shape[1]):
        # The step output equals the carried h for one layer; reading the head from the
        # carried state (not from `output`) keeps every path through h_T hooked.
        _, state = model.rnn(embedded[:, t : t + 1], state)
        h = state[0] if isinstance(state, tuple) else state
        if on_hidden is not None and h.requires_grad:
            h.register_hook(lambda g, t=t: on_hidden(t + 1, g[0]))
    return model.head(h[0]).squeeze(-1)


def _bind(hook: Hook, step: int) -> Callable[[torch.Tensor], None]:
    # A default-argument closure would also work; a helper keeps the step explicit.
    def call(grad: torch.Tensor) -> None:
        hook(step, grad)

    return call
