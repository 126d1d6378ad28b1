"""Q7 forecasters: Simple RNN, LSTM, GRU, BiLSTM and the gate-ablated LSTM.

Every model is two recurrent layers of `hidden` units and one linear output on the
final state, as the question fixes. The ablation variants are `FixedGateLSTM`, the
fused `nn.LSTM` in which the rows of a removed gate hold zero weights and a
saturating bias (sigmoid(SATURATING_BIAS) is exactly 1.0 in float32 and float64)
and never receive a gradient, so the gate is exactly 1 at every step and the
variant trains at the fused kernel's speed. `MaskedLSTM`, a step-by-step Python
cell with the gates literally replaced by 1, is the reference it is tested against
(equal outputs and gradients on random inputs); with no gate fixed it equals
`nn.LSTM` too. The time column of Q7-e therefore compares models, not loops.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnlab.errors import RnnlabError

ARCHITECTURES = ("rnn", "lstm", "gru", "bilstm")
ABLATIONS: dict[str, frozenset[str]] = {
    # Trained with the same FixedGateLSTM code so the three differ only in their gates.
    "lstm_full": frozenset(),
    "lstm_forget_only": frozenset({"input", "output"}),
    "lstm_input_only": frozenset({"forget", "output"}),
}
MODELS = (*ARCHITECTURES, *ABLATIONS)
# PyTorch's LSTM packs the gate rows of weight_ih/weight_hh/biases in this order.
LSTM_GATE_ORDER = ("input", "forget", "cell", "output")
# Pre-activation that saturates the sigmoid to exactly 1.0: 1 / (1 + exp(-100)) rounds
# to 1 in float64 (exp(-100) ~ 4e-44 < 2**-53) and in float32.
SATURATING_BIAS = 100.0


class MaskedLSTM(nn.Module):
    """Multi-layer unidirectional LSTM (batch_first) whose gates can be fixed to 1.

    Parameters are named and laid out like `nn.LSTM` (`weight_ih_l{k}` [4H, in],
    `weight_hh_l{k}` [4H, H], `bias_ih_l{k}`, `bias_hh_l{k}`, gates i, f, g, o), so
    an `nn.LSTM` state dict loads unchanged. The rows of a fixed gate are never used;
    `effective_parameters` leaves them out of the count.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        fixed_gates: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__()
        unknown = set(fixed_gates) - {"input", "forget", "output"}
        if unknown:
            raise RnnlabError(f"MaskedLSTM can fix only input/forget/output gates, not {unknown}.")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.fixed_gates = frozenset(fixed_gates)
        for layer in range(num_layers):
            size_in = input_size if layer == 0 else hidden_size
            self.register_parameter(
                f"weight_ih_l{layer}", nn.Parameter(torch.empty(4 * hidden_size, size_in))
            )
            self.register_parameter(
                f"weight_hh_l{layer}", nn.Parameter(torch.empty(4 * hidden_size, hidden_size))
            )
            self.register_parameter(f"bias_ih_l{layer}", nn.Parameter(torch.empty(4 * hidden_size)))
            self.register_parameter(f"bias_hh_l{layer}", nn.Parameter(torch.empty(4 * hidden_size)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # The same initialisation as nn.LSTM: U(-1/sqrt(H), 1/sqrt(H)) for every tensor.
        bound = self.hidden_size**-0.5
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def effective_parameters(self) -> int:
        """Trainable values that influence the output (rows of fixed gates excluded)."""
        return _gate_parameters(self, 4 - len(self.fixed_gates))

    def forward(
        self, x: torch.Tensor, return_gates: bool = False
    ) -> (
        tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]
        | tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor], list[dict[str, torch.Tensor]]]
    ):
        batch, steps, _ = x.shape
        H = self.hidden_size
        layer_input = x
        h_last, c_last, gates_per_layer = [], [], []
        one = x.new_ones(())
        for layer in range(self.num_layers):
            w_ih = getattr(self, f"weight_ih_l{layer}")
            w_hh = getattr(self, f"weight_hh_l{layer}")
            bias = getattr(self, f"bias_ih_l{layer}") + getattr(self, f"bias_hh_l{layer}")
            # The input projection of all steps at once; only h @ W_hh stays in the loop.
            projected = torch.nn.functional.linear(layer_input, w_ih, bias)
            h = x.new_zeros(batch, H)
            c = x.new_zeros(batch, H)
            outputs = []
            record: dict[str, list[torch.Tensor]] = {g: [] for g in ("input", "forget", "output")}
            for t in range(steps):
                pre = projected[:, t] + h @ w_hh.t()
                i_pre, f_pre, g_pre, o_pre = pre.split(H, dim=1)
                i = one.expand_as(i_pre) if "input" in self.fixed_gates else torch.sigmoid(i_pre)
                f = one.expand_as(f_pre) if "forget" in self.fixed_gates else torch.sigmoid(f_pre)
                o = one.expand_as(o_pre) if "output" in self.fixed_gates else torch.sigmoid(o_pre)
                c = f * c + i * torch.tanh(g_pre)
                h = o * torch.tanh(c)
                outputs.append(h)
                if return_gates:
                    record["input"].append(i)
                    record["forget"].append(f)
                    record["output"].append(o)
            layer_input = torch.stack(outputs, dim=1)
            h_last.append(h)
            c_last.append(c)
            if return_gates:
                gates_per_layer.append({k: torch.stack(v, dim=1) for k, v in record.items()})
        state = (torch.stack(h_last), torch.stack(c_last))
        if return_gates:
            return layer_input, state, gates_per_layer
        return layer_input, state


class FixedGateLSTM(nn.LSTM):
    """`nn.LSTM` (batch_first, unidirectional) with some gates held at exactly 1.

    For a fixed gate the rows of `weight_ih_l{k}`/`weight_hh_l{k}` are zero, `bias_ih`
    holds SATURATING_BIAS and `bias_hh` zero, so its pre-activation is the constant
    SATURATING_BIAS whatever the input and state, and sigmoid gives exactly 1.0. A
    gradient hook zeroes those rows' gradients, so Adam (no weight decay) never moves
    them: the gate stays 1 through training. Everything else is PyTorch's fused LSTM.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int,
        fixed_gates: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        unknown = set(fixed_gates) - {"input", "forget", "output"}
        if unknown:
            raise RnnlabError(
                f"FixedGateLSTM can fix only input/forget/output gates, not {unknown}."
            )
        self.fixed_gates = frozenset(fixed_gates)
        mask = torch.ones(4 * hidden_size)
        for gate in self.fixed_gates:
            row = LSTM_GATE_ORDER.index(gate) * hidden_size
            mask[row : row + hidden_size] = 0.0
        self.register_buffer("gate_mask", mask, persistent=False)
        self.pin_fixed_gates()
        for name, param in self.named_parameters():
            shape = (-1, 1) if name.startswith("weight") else (-1,)
            param.register_hook(lambda grad, shape=shape: grad * self.gate_mask.view(shape))

    @torch.no_grad()
    def pin_fixed_gates(self) -> None:
        """Zero weights and the saturating bias in the rows of every fixed gate."""
        keep = self.gate_mask.bool()
        for layer in range(self.num_layers):
            for kind in ("weight_ih", "weight_hh", "bias_hh"):
                getattr(self, f"{kind}_l{layer}")[~keep] = 0.0
            getattr(self, f"bias_ih_l{layer}")[~keep] = SATURATING_BIAS

    def effective_parameters(self) -> int:
        """Trainable values that influence the output (rows of fixed gates excluded)."""
        return _gate_parameters(self, 4 - len(self.fixed_gates))


def _gate_parameters(lstm: nn.Module, used_gates: int) -> int:
    """Weights and both biases of `used_gates` of an LSTM's four gates, over all its layers."""
    total = 0
    for layer in range(lstm.num_layers):
        size_in = lstm.input_size if layer == 0 else lstm.hidden_size
        total += used_gates * lstm.hidden_size * (size_in + lstm.hidden_size + 2)
    return total


class Forecaster(nn.Module):
    """Recurrent encoder over the window, linear head on the final hidden state -> next target."""

    def __init__(self, model: str, n_features: int, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        if model not in MODELS:
            raise RnnlabError(f"unknown Q7 model {model!r}; use one of {', '.join(MODELS)}.")
        self.model = model
        self.bidirectional = model == "bilstm"
        kwargs = {
            "input_size": n_features,
            "hidden_size": hidden,
            "num_layers": layers,
            "batch_first": True,
        }
        if model == "rnn":
            self.rnn: nn.Module = nn.RNN(nonlinearity="tanh", **kwargs)
        elif model in ("lstm", "bilstm"):
            self.rnn = nn.LSTM(bidirectional=self.bidirectional, **kwargs)
        elif model == "gru":
            self.rnn = nn.GRU(**kwargs)
        else:
            # Same init RNG draws as nn.LSTM, then the fixed rows are pinned.
            self.rnn = FixedGateLSTM(n_features, hidden, layers, ABLATIONS[model])
        directions = 2 if self.bidirectional else 1
        self.head = nn.Linear(directions * hidden, 1)

    def final_state(self, x: torch.Tensor) -> torch.Tensor:
        """The top layer's final hidden state; for BiLSTM forward h_T and backward h_1 joined.

        The backward direction's final state is the one that has read the whole
        window (from its last step back to its first); its output at step T has
        seen only x_T, so taking `output[:, -1]` would waste it.
        """
        out = self.rnn(x)
        h_n = out[1][0] if isinstance(out[1], tuple) else out[1]
        if self.bidirectional:
            return torch.cat([h_n[-2], h_n[-1]], dim=1)
        return h_n[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.final_state(x)).squeeze(-1)

    def trainable_parameters(self) -> int:
        """All trainable values; for ablated LSTMs only those that influence the output."""
        if isinstance(self.rnn, (MaskedLSTM, FixedGateLSTM)):
            return self.rnn.effective_parameters() + sum(p.numel() for p in self.head.parameters())
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
