"""Q1: output shapes, parameters and operation counts of the 4-layer net, from real modules.

The net of the question: Layer1 RNN(64, 32, tanh), Layer2 RNN(32, 64, tanh), Layer3
Linear(N = seq_len*64, 512) on the flattened Layer2 output sequence, Layer4
Linear(512, 10). Every count is read from instantiated torch modules (parameters,
shapes from a forward pass, matrix-multiply FLOPs from FlopCounterMode) and checked
against the closed-form formulas, so the report's tables cannot disagree with PyTorch.

Operation-count convention (stated in the report):
- one multiply-accumulate (MAC) = one multiplication + one addition; the matrix
  multiplies cost 2*MAC FLOPs, which is what FlopCounterMode counts;
- the exact count separates multiplications and additions: a dot product of length n
  is n multiplications and n-1 additions; adding a bias vector of size m is m
  additions; PyTorch's RNN adds two bias vectors (b_ih and b_hh) and the sum of its
  two matrix-vector products, so per step and direction an RNN layer does H(I+H)
  multiplications and H(I+H+1) additions;
- tanh evaluations are counted separately, never folded into FLOPs;
- all counts are per input sequence (batch of one); a batch of B costs B times as much.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.runtime import cli, set_threads, write_json
from rnnlab.theory.common import parse_args, require, tex_int

LAYERS = ("layer1", "layer2", "layer3", "layer4")


@dataclass(frozen=True)
class NetSpec:
    """The sizes that define the Q1 net (and each of the four changes of Q1-c)."""

    seq_len: int = 50
    input_size: int = 64
    hidden1: int = 32
    hidden2: int = 64
    fc_hidden: int = 512
    num_classes: int = 10
    bidirectional2: bool = False
    with_layer4: bool = True

    @property
    def directions2(self) -> int:
        return 2 if self.bidirectional2 else 1

    @property
    def layer3_in(self) -> int:
        """N: the flattened Layer2 output sequence, seq_len * (features per step)."""
        return self.seq_len * self.hidden2 * self.directions2

    def validate(self) -> None:
        for field in ("seq_len", "input_size", "hidden1", "hidden2", "fc_hidden", "num_classes"):
            value = getattr(self, field)
            if not isinstance(value, int) or value < 1:
                raise RnnlabError(
                    f"config `theory.q1.{field}` must be a positive integer, got {value!r}."
                )


def build_net(spec: NetSpec) -> Any:
    """The Q1 net as a torch module (imported lazily: the CLI help needs no torch)."""
    import torch
    from torch import nn

    class Q1Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.layer1 = nn.RNN(
                spec.input_size, spec.hidden1, num_layers=1, nonlinearity="tanh", batch_first=True
            )
            self.layer2 = nn.RNN(
                spec.hidden1,
                spec.hidden2,
                num_layers=1,
                nonlinearity="tanh",
                batch_first=True,
                bidirectional=spec.bidirectional2,
            )
            self.layer3 = nn.Linear(spec.layer3_in, spec.fc_hidden)
            self.layer4 = nn.Linear(spec.fc_hidden, spec.num_classes) if spec.with_layer4 else None

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if x.dim() != 3 or x.shape[1:] != (spec.seq_len, spec.input_size):
                raise RnnlabError(
                    f"Q1 net expects input (B, {spec.seq_len}, {spec.input_size}), "
                    f"got {tuple(x.shape)}; Layer3 fixes the sequence length."
                )
            out1, _ = self.layer1(x)
            out2, _ = self.layer2(out1)
            # Layer3 sees the whole output sequence, flattened: N = seq_len * features.
            out3 = self.layer3(out2.reshape(x.shape[0], -1))
            return self.layer4(out3) if self.layer4 is not None else out3

    return Q1Net()


# ---------------------------------------------------------------- closed forms
def closed_form(spec: NetSpec) -> dict[str, dict[str, int]]:
    """Parameter and operation counts per layer from the formulas alone (no torch)."""
    out: dict[str, dict[str, int]] = {}
    rnns = {
        "layer1": (spec.input_size, spec.hidden1, 1),
        "layer2": (spec.hidden1, spec.hidden2, spec.directions2),
    }
    for name, (i, h, d) in rnns.items():
        mults_step = h * (i + h)
        adds_step = h * (i + h + 1)
        out[name] = {
            "weights": d * (h * i + h * h),
            "biases": d * 2 * h,
            "macs": spec.seq_len * d * mults_step,
            "mults": spec.seq_len * d * mults_step,
            "adds": spec.seq_len * d * adds_step,
            "tanh": spec.seq_len * d * h,
        }
    linears = {"layer3": (spec.layer3_in, spec.fc_hidden)}
    if spec.with_layer4:
        linears["layer4"] = (spec.fc_hidden, spec.num_classes)
    for name, (n_in, n_out) in linears.items():
        out[name] = {
            "weights": n_in * n_out,
            "biases": n_out,
            "macs": n_in * n_out,
            "mults": n_in * n_out,
            # (n_in - 1) additions per dot product, plus one bias addition per output.
            "adds": (n_in - 1) * n_out + n_out,
            "tanh": 0,
        }
    for counts in out.values():
        counts["params"] = counts["weights"] + counts["biases"]
        counts["flops"] = counts["mults"] + counts["adds"]
        counts["matmul_flops"] = 2 * counts["macs"]
    return out


# ---------------------------------------------------------------- measured from torch
def measure(spec: NetSpec, probe_batch: int) -> dict[str, Any]:
    """Shapes, parameters and matmul FLOPs read from a real forward pass of the net."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    if probe_batch < 1:
        raise RnnlabError(f"config `theory.q1.probe_batch` must be >= 1, got {probe_batch}.")
    torch.manual_seed(0)  # the weights' values do not matter for any count
    net = build_net(spec).eval()
    shapes: dict[str, dict[str, list[int]]] = {}

    def hook(name: str) -> Any:
        def record(_module: Any, _inputs: Any, output: Any) -> None:
            if isinstance(output, tuple):  # nn.RNN returns (output sequence, h_n)
                shapes[name] = {"output": list(output[0].shape), "state": list(output[1].shape)}
            else:
                shapes[name] = {"output": list(output.shape)}

        return record

    layers = {name: getattr(net, name) for name in LAYERS if getattr(net, name) is not None}
    for name, module in layers.items():
        module.register_forward_hook(hook(name))
    x = torch.zeros(probe_batch, spec.seq_len, spec.input_size)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        final = net(x)
    flop_counts = counter.get_flop_counts()
    measured: dict[str, Any] = {}
    for name, module in layers.items():
        tensors = [
            {"name": pname, "shape": list(p.shape), "numel": p.numel()}
            for pname, p in module.named_parameters()
        ]
        per_layer_flops = sum(flop_counts.get(f"Q1Net.{name}", {}).values())
        if per_layer_flops % probe_batch:
            raise RuntimeError(f"FLOP count of {name} is not a multiple of the batch")
        measured[name] = {
            "module": repr(module),
            "tensors": tensors,
            "weights": sum(t["numel"] for t in tensors if "weight" in t["name"]),
            "biases": sum(t["numel"] for t in tensors if "bias" in t["name"]),
            # Shapes with the batch axis written symbolically as "B".
            "output_shape": _symbolic_batch(shapes[name]["output"], 0, probe_batch),
            "state_shape": (
                _symbolic_batch(shapes[name]["state"], 1, probe_batch)
                if "state" in shapes[name]
                else None
            ),
            "flop_counter_per_sequence": per_layer_flops // probe_batch,
        }
    measured["net_output_shape"] = _symbolic_batch(list(final.shape), 0, probe_batch)
    return measured


def _symbolic_batch(shape: list[int], axis: int, batch: int) -> list[int | str]:
    if shape[axis] != batch:
        raise RuntimeError(f"expected batch {batch} on axis {axis} of {shape}")
    return [("B" if k == axis else d) for k, d in enumerate(shape)]


# ---------------------------------------------------------------- analysis
def analyse(spec: NetSpec, probe_batch: int = 2) -> dict[str, Any]:
    """Every Q1 number for one net: per layer, totals, and the working as LaTeX."""
    spec.validate()
    formulas = closed_form(spec)
    measured = measure(spec, probe_batch)
    layers: dict[str, Any] = {}
    for name, counts in formulas.items():
        got = measured[name]
        for key in ("weights", "biases"):
            if got[key] != counts[key]:
                raise RuntimeError(f"{name}: torch has {got[key]} {key}, the formula {counts[key]}")
        if got["flop_counter_per_sequence"] != counts["matmul_flops"]:
            raise RuntimeError(
                f"{name}: FlopCounterMode counts {got['flop_counter_per_sequence']} FLOPs, "
                f"the formula 2*MAC = {counts['matmul_flops']}"
            )
        layer = {**got, **counts}
        layer["kind"] = "rnn" if name in ("layer1", "layer2") else "linear"
        layer["steps"] = spec.seq_len if layer["kind"] == "rnn" else 1
        layer["directions"] = spec.directions2 if name == "layer2" else 1
        per_run = layer["steps"] * layer["directions"]
        layer["per_step"] = (
            {
                "mults": counts["mults"] // per_run,
                "adds": counts["adds"] // per_run,
                "flops": counts["flops"] // per_run,
                "macs": counts["macs"] // per_run,
                "tanh": counts["tanh"] // per_run,
            }
            if layer["kind"] == "rnn"
            else None
        )
        # The textbook RNN has one bias vector b_h; PyTorch keeps b_ih and b_hh.
        halve = layer["kind"] == "rnn"
        layer["biases_textbook"] = counts["biases"] // 2 if halve else counts["biases"]
        layer["params_textbook"] = counts["weights"] + layer["biases_textbook"]
        layer["latex"] = _working(spec, name, layer)
        layers[name] = layer
    total_keys = (
        "weights", "biases", "params", "params_textbook", "mults", "adds", "flops", "macs",
        "matmul_flops", "tanh", "flop_counter_per_sequence",
    )  # fmt: skip
    totals = {key: sum(layer[key] for layer in layers.values()) for key in total_keys}
    return {
        "spec": asdict(spec),
        "layer3_in": spec.layer3_in,
        "layers": layers,
        "totals": totals,
        "output_shape": measured["net_output_shape"],
    }


def _working(spec: NetSpec, name: str, layer: dict[str, Any]) -> dict[str, str]:
    """The arithmetic behind each number, as LaTeX the report typesets."""
    t = tex_int
    if layer["kind"] == "linear":
        n_in = spec.layer3_in if name == "layer3" else spec.fc_hidden
        n_out = spec.fc_hidden if name == "layer3" else spec.num_classes
        work = {
            "weights": rf"{t(n_in)} \times {t(n_out)} = {t(layer['weights'])}",
            "biases": rf"b = {t(n_out)}",
            "mults": rf"{t(n_in)} \times {t(n_out)} = {t(layer['mults'])}",
            "adds": rf"({t(n_in)} - 1) \times {t(n_out)} + {t(n_out)} = {t(layer['adds'])}",
            "flops": rf"{t(layer['mults'])} + {t(layer['adds'])} = {t(layer['flops'])}",
        }
        if name == "layer3":
            features = spec.hidden2 * spec.directions2
            work["n"] = rf"N = {t(spec.seq_len)} \times {t(features)} = {t(n_in)}"
        return work
    i, h = (spec.input_size, spec.hidden1) if name == "layer1" else (spec.hidden1, spec.hidden2)
    d = layer["directions"]
    dirs = rf"{d} \times " if d > 1 else ""
    step = layer["per_step"]
    return {
        "weights": (
            rf"{dirs}(\underbrace{{{t(h)} \times {t(i)}}}_{{W_{{ih}}}} + "
            rf"\underbrace{{{t(h)} \times {t(h)}}}_{{W_{{hh}}}}) = {t(layer['weights'])}"
        ),
        "biases": (
            rf"{dirs}(\underbrace{{{t(h)}}}_{{b_{{ih}}}} + \underbrace{{{t(h)}}}_{{b_{{hh}}}}) "
            rf"= {t(layer['biases'])}"
        ),
        "mults_step": rf"{t(h)} \times ({t(i)} + {t(h)}) = {t(step['mults'])}",
        "adds_step": (
            rf"{t(h)}({t(i)}-1) + {t(h)}({t(h)}-1) + {t(h)} + 2 \times {t(h)} = "
            rf"{t(step['adds'])}"
        ),
        "flops_sequence": (
            rf"{t(spec.seq_len)} \times {dirs}({t(step['mults'])} + {t(step['adds'])}) = "
            rf"{t(layer['flops'])}"
        ),
        "tanh": rf"{t(spec.seq_len)} \times {dirs}{t(h)} = {t(layer['tanh'])}",
    }


CHANGES = ("seq_len_x2", "input_128", "layer2_bidirectional", "drop_layer4")


def changed_spec(base: NetSpec, change: str, params: dict[str, Any]) -> NetSpec:
    """The net after one of the four changes of Q1-c."""
    if change == "seq_len_x2":
        return replace(base, seq_len=base.seq_len * int(params.get("seq_len_factor", 2)))
    if change == "input_128":
        return replace(base, input_size=int(params.get("new_input_size", 128)))
    if change == "layer2_bidirectional":
        return replace(base, bidirectional2=True)
    if change == "drop_layer4":
        return replace(base, with_layer4=False)
    raise RnnlabError(f"unknown Q1-c change {change!r}; use one of {', '.join(CHANGES)}.")


def compare(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """An old -> new table for every layer, plus the computed facts for its sentence."""
    rows = []
    for name in LAYERS:
        before, after = old["layers"].get(name), new["layers"].get(name)
        if before is None and after is None:
            continue
        row: dict[str, Any] = {"layer": name}
        for key in ("output_shape", "weights", "biases", "params", "flops", "tanh"):
            row[key] = {
                "old": before[key] if before else None,
                "new": after[key] if after else None,
            }
        row["module"] = {
            "old": before["module"] if before else None,
            "new": after["module"] if after else None,
        }
        row["removed"] = after is None
        row["changed"] = (
            before is None
            or after is None
            or any(row[k]["old"] != row[k]["new"] for k in ("output_shape", "params", "flops"))
        )
        row["params_ratio"] = _ratio(row["params"])
        row["flops_ratio"] = _ratio(row["flops"])
        rows.append(row)
    totals = {
        key: {"old": old["totals"][key], "new": new["totals"][key]}
        for key in ("weights", "biases", "params", "flops", "tanh")
    }
    for value in totals.values():
        value["delta"] = value["new"] - value["old"]
        value["ratio"] = _ratio(value)
    flops_delta = {r["layer"]: (r["flops"]["new"] or 0) - (r["flops"]["old"] or 0) for r in rows}
    params_delta = {r["layer"]: (r["params"]["new"] or 0) - (r["params"]["old"] or 0) for r in rows}
    return {
        "layers": rows,
        "totals": totals,
        "changed_layers": [r["layer"] for r in rows if r["changed"]],
        "unchanged_layers": [r["layer"] for r in rows if not r["changed"]],
        # The layer whose cost moves most, in absolute FLOPs and parameters.
        "largest_flops_change": max(flops_delta, key=lambda k: abs(flops_delta[k])),
        "largest_params_change": max(params_delta, key=lambda k: abs(params_delta[k])),
        "output_shape": {"old": old["output_shape"], "new": new["output_shape"]},
        "layer3_in": {"old": old["layer3_in"], "new": new["layer3_in"]},
        "spec": new["spec"],
    }


def _ratio(pair: dict[str, Any]) -> float | None:
    if not pair["old"] or pair["new"] is None:
        return None
    return pair["new"] / pair["old"]


def run(params: dict[str, Any]) -> dict[str, Any]:
    """The whole of Q1 for the config section `theory.q1`."""
    where = "theory.q1"
    spec = NetSpec(
        seq_len=int(require(params, "seq_len", where)),
        input_size=int(require(params, "input_size", where)),
        hidden1=int(require(params, "hidden1", where)),
        hidden2=int(require(params, "hidden2", where)),
        fc_hidden=int(require(params, "fc_hidden", where)),
        num_classes=int(require(params, "num_classes", where)),
    )
    probe_batch = int(params.get("probe_batch", 2))
    base = analyse(spec, probe_batch)
    changes = {}
    for change in CHANGES:
        new = analyse(changed_spec(spec, change, params), probe_batch)
        changes[change] = {"net": new, "compare": compare(base, new)}
    # The many-to-one reading (Layer3 = Linear(hidden2, fc_hidden) on the last state),
    # a different net than the text's N = seq_len*64; kept for one footnote.
    alt_layer3 = spec.hidden2 * spec.fc_hidden + spec.fc_hidden
    many_to_one = {
        "layer3_params": alt_layer3,
        "total_params": base["totals"]["params"] - base["layers"]["layer3"]["params"] + alt_layer3,
    }
    return {
        "base": base,
        "changes": changes,
        "change_order": list(CHANGES),
        "many_to_one": many_to_one,
        "convention": {
            "unit": "per input sequence (batch of one); multiply by B for a batch",
            "matmul_flops": "2 x MAC, as counted by torch.utils.flop_counter.FlopCounterMode",
            "exact": "multiplications and additions counted separately, bias additions included",
            "tanh": "counted separately, not in FLOPs",
        },
        "probe_batch": probe_batch,
    }


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv, "Q1: shapes, parameters and FLOPs of the 4-layer net")
    set_threads(args.threads)
    write_json(args.out, run(args.params))
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
