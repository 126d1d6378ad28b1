"""Q7 forecasters: Simple RNN, LSTM, GRU, BiLSTM and the gate-ablated LSTM.

Every model is two recurrent layers of `hidden` units and one linear output on the
final state, as the question fixes. The ablation variants use `MaskedLSTM`, one
LSTM implementation in which any of the input/forget/output gates can be fixed to 1;
with no gate fixed it computes exactly what `nn.LSTM` computes (same parameter
names and layout, tested), so the only difference between variants is the gates.
"""

from __future__ import annotations

import torch
from torch import nn

from rnnlab.errors import RnnlabError

# architecture name -> (torch class or None for MaskedLSTM, bidirectional, fixed gates)
ARCHITECTURES = ("rnn", "lstm", "gru", "bilstm")
ABLATIONS: dict[str, frozenset[str]] = {
    # Trained with the same MaskedLSTM code so the three differ only in their gates.
    "lstm_full": frozenset(),
    "lstm_forget_only": frozenset({"input", "output"}),
    "lstm_input_only": frozenset({"forget", "output"}),
}
MODELS = (*ARCHITECTURES, *ABLATIONS)
# PyTorch's LSTM packs the gate rows of weight_ih/weight_hh/biases in this order.
LSTM_GATE_ORDER = ("input", "forget", "cell", "output")


class MaskedLSTM(nn.Module):
    """Multi-layer unidirectional LSTM (batch_first) whose gates can be fixed to 1.

    Parameters are named and laid out like `nn.LSTM` (`weight_ih_l{k}` [4H, in],
    `weight_hh_l{k}` [4H, H], `bias_ih_l{k}`, `bias_hh_l{k}`, gates i, f, g, o), so
    an `nn.LSTM` state dict loads unchanged. The rows of a fixed gate are never used;
    `effective_parameters` leaves them out of the count.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int,
                 fixed_gates: frozenset[str] = frozenset()) -> None:
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
            self.register_parameter(f"weight_ih_l{layer}",
                                    nn.Parameter(torch.empty(4 * hidden_size, size_in)))
            self.register_parameter(f"weight_hh_l{layer}",
                                    nn.Parameter(torch.empty(4 * hidden_size, hidden_size)))
            self.register_parameter(f"bias_ih_l{layer}", nn.Parameter(torch.empty(4 * hidden_size)))
            self.register_parameter(f"bias_hh_l{layer}", nn.Parameter(torch.empty(4 * hidden_size)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # The same initialisation as nn.LSTM: U(-1/sqrt(H), 1/sqrt(H)) for every tensor.
        bound = self.hidden_size ** -0.5
        for weight in self.parameters():
            nn.init.uniform_(weight, -bound, bound)

    def effective_parameters(self) -> int:
        """Trainable values that influence the output (rows of fixed gates excluded)."""
        used = 4 - len(self.fixed_gates)
        total = 0
        for layer in range(self.num_layers):
            size_in = self.input_size if layer == 0 else self.hidden_size
            total += used * self.hidden_size * (size_in + self.hidden_size + 2)
        return total

    def forward(self, x: torch.Tensor, return_gates: bool = False
                ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]] | tuple[
                    torch.Tensor, tuple[torch.Tensor, torch.Tensor], list[dict[str, torch.Tensor]]]:
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


class Forecaster(nn.Module):
    """Recurrent encoder over the window, linear head on the final hidden state -> next target."""

    def __init__(self, model: str, n_features: int, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        if model not in MODELS:
            raise RnnlabError(f"unknown Q7 model {model!r}; use one of {', '.join(MODELS)}.")
        self.model = model
        self.bidirectional = model == "bilstm"
        kwargs = {"input_size": n_features, "hidden_size": hidden, "num_layers": layers,
                  "batch_first": True}
        if model == "rnn":
            self.rnn: nn.Module = nn.RNN(nonlinearity="tanh", **kwargs)
        elif model in ("lstm", "bilstm"):
            self.rnn = nn.LSTM(bidirectional=self.bidirectional, **kwargs)
        elif model == "gru":
            self.rnn = nn.GRU(**kwargs)
        else:
            self.rnn = MaskedLSTM(n_features, hidden, layers, ABLATIONS[model])
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
        if isinstance(self.rnn, MaskedLSTM):
            return self.rnn.effective_parameters() + sum(p.numel() for p in self.head.parameters())
        return sum(p.numel() for p in self.parameters() if p.requires_grad)
