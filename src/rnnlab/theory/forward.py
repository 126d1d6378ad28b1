"""Q2-c: one forward step of an Elman RNN with the numbers given in the question.

The graph assumed (figure 1 is missing from the text): h_t = f(W_hh h_{t-1} + W_xh x_t + b_h)
and y_t = g(W_hy h_t + b_y) with g = softmax. Given h_{t-2} and x_{t-1} we compute
h_{t-1} and y_{t-1}, for f = tanh and for f = ReLU, keeping every product and sum so the
report can show each step. The result is cross-checked against torch.nn.RNNCell loaded
with the same weights.
"""

from __future__ import annotations

import math
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.runtime import cli, set_threads, write_json
from rnnlab.theory.common import parse_args, require, tex_num

Matrix = list[list[float]]
Vector = list[float]

ACTIVATIONS = {
    "tanh": math.tanh,
    "relu": lambda z: max(0.0, z),
}


def _matrix(value: Any, name: str) -> Matrix:
    """A config matrix (list of equal-length rows of numbers), or a clear error."""
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(row, list) and row for row in value)
        or len({len(row) for row in value}) != 1
        or not all(isinstance(x, int | float) for row in value for x in row)
    ):
        raise RnnlabError(
            f"config `theory.forward.{name}` must be a matrix: a list of equal-length "
            f"lists of numbers, got {value!r}."
        )
    return [[float(x) for x in row] for row in value]


def _vector(value: Any, name: str) -> Vector:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(x, int | float) for x in value)
    ):
        raise RnnlabError(
            f"config `theory.forward.{name}` must be a non-empty list of numbers, got {value!r}."
        )
    return [float(x) for x in value]


def load_given(params: dict[str, Any]) -> dict[str, Any]:
    """The question's weights and vectors from config, with their shapes checked."""
    where = "theory.forward"
    given = {
        "W_xh": _matrix(require(params, "W_xh", where), "W_xh"),
        "W_hh": _matrix(require(params, "W_hh", where), "W_hh"),
        "W_hy": _matrix(require(params, "W_hy", where), "W_hy"),
        "x": _vector(require(params, "x", where), "x"),
        "h_prev": _vector(require(params, "h_prev", where), "h_prev"),
        "b_h": _vector(require(params, "b_h", where), "b_h"),
        "b_y": _vector(require(params, "b_y", where), "b_y"),
    }
    hidden = len(given["W_hh"])
    checks = [
        ("W_hh", len(given["W_hh"][0]), hidden, "square (hidden x hidden)"),
        ("W_xh", len(given["W_xh"]), hidden, "hidden rows"),
        ("W_xh", len(given["W_xh"][0]), len(given["x"]), "as many columns as x has entries"),
        ("h_prev", len(given["h_prev"]), hidden, "hidden entries"),
        ("b_h", len(given["b_h"]), hidden, "hidden entries"),
        ("W_hy", len(given["W_hy"][0]), hidden, "hidden columns"),
        ("b_y", len(given["b_y"]), len(given["W_hy"]), "one entry per row of W_hy"),
    ]
    for name, got, want, what in checks:
        if got != want:
            raise RnnlabError(
                f"config `theory.forward.{name}` has size {got} where {want} is needed "
                f"({what}; hidden size {hidden} comes from W_hh); fix the matrices."
            )
    return given


def tex_matrix(rows: Matrix | Vector, digits: int = 4) -> str:
    """A bmatrix of the values; a vector is written as a column."""
    rows = [row if isinstance(row, list) else [row] for row in rows]
    body = r" \\ ".join(" & ".join(tex_num(x, digits) for x in row) for row in rows)
    return rf"\begin{{bmatrix}} {body} \end{{bmatrix}}"


def matvec(matrix: Matrix, vector: Vector, mat_tex: str, vec_tex: str) -> dict[str, Any]:
    """W v with every product kept, and one LaTeX line per output entry."""
    rows = []
    for i, row in enumerate(matrix):
        pairs = list(zip(row, vector, strict=True))
        products = [w * v for w, v in pairs]
        value = math.fsum(products)
        terms = " + ".join(rf"({tex_num(w)})({tex_num(v)})" for w, v in pairs)
        rows.append(
            {
                "products": products,
                "value": value,
                "latex": rf"({mat_tex}\,{vec_tex})_{{{i + 1}}} = {terms} = {tex_num(value)}",
            }
        )
    return {"value": [r["value"] for r in rows], "rows": rows}


def softmax(logits: Vector) -> tuple[Vector, Vector]:
    """Softmax computed stably (subtract the max); returns (exp of shifted logits, probs)."""
    shift = max(logits)
    exps = [math.exp(z - shift) for z in logits]
    total = math.fsum(exps)
    return exps, [e / total for e in exps]


def step(given: dict[str, Any], activation: str) -> dict[str, Any]:
    """h_{t-1} and y_{t-1} for one activation, every intermediate value kept."""
    if activation not in ACTIVATIONS:
        raise RnnlabError(
            f"unknown activation {activation!r} in `theory.forward.activations`; "
            f"use {', '.join(ACTIVATIONS)}."
        )
    f = ACTIVATIONS[activation]
    wx = matvec(given["W_xh"], given["x"], "W_{xh}", "x_{t-1}")
    wh = matvec(given["W_hh"], given["h_prev"], "W_{hh}", "h_{t-2}")
    summands = list(zip(wx["value"], wh["value"], given["b_h"], strict=True))
    pre = [math.fsum(parts) for parts in summands]
    hidden = [f(z) for z in pre]
    wy = matvec(given["W_hy"], hidden, "W_{hy}", "h_{t-1}")
    logits = [z + b for z, b in zip(wy["value"], given["b_y"], strict=True)]
    exps, probs = softmax(logits)
    denominator = " + ".join(rf"e^{{{tex_num(z)}}}" for z in logits)
    f_tex = r"\tanh" if activation == "tanh" else r"\mathrm{ReLU}"
    latex = {
        "W_xh_x": tex_matrix(wx["value"]),
        "W_hh_h": tex_matrix(wh["value"]),
        "preactivation": tex_matrix(pre),
        "h": tex_matrix(hidden),
        "z": tex_matrix(logits),
        "y": tex_matrix(probs),
        "hidden": rf"h_{{t-1}} = {f_tex}\left({tex_matrix(pre)}\right) = {tex_matrix(hidden)}",
        "logits": rf"z = W_{{hy}}\,h_{{t-1}} + b_y = {tex_matrix(logits)}",
        "softmax": rf"\hat{{y}}_{{t-1}} = \mathrm{{softmax}}(z) = {tex_matrix(probs)}",
        # One line per class: the softmax written out with the logits.
        "softmax_rows": [
            rf"\hat{{y}}_{{{k + 1}}} = \frac{{e^{{{tex_num(z)}}}}}{{{denominator}}} = {tex_num(p)}"
            for k, (z, p) in enumerate(zip(logits, probs, strict=True))
        ],
    }
    return {
        "latex": latex,
        "W_xh_x": wx,
        "W_hh_h": wh,
        "preactivation": pre,
        "preactivation_latex": [
            rf"a_{{{i + 1}}} = {tex_num(a)} + ({tex_num(b)}) + ({tex_num(c)}) = {tex_num(z)}"
            for i, ((a, b, c), z) in enumerate(zip(summands, pre, strict=True))
        ],
        "hidden": hidden,
        # ReLU zeroes negative pre-activations: those units pass no signal (or gradient).
        "zeroed_units": [i for i, z in enumerate(pre) if z < 0 and activation == "relu"],
        # f'(a): how much of a gradient each unit would pass back (1 - h^2 for tanh).
        "hidden_derivative": [
            1 - h * h if activation == "tanh" else float(z > 0)
            for z, h in zip(pre, hidden, strict=True)
        ],
        "W_hy_h": wy,
        "logits": logits,
        "exp_shifted": exps,
        "softmax": probs,
        "predicted_class": max(range(len(probs)), key=probs.__getitem__),
    }


def torch_check(given: dict[str, Any], activation: str) -> dict[str, Vector]:
    """The same step through torch.nn.RNNCell and nn.Linear, in float64."""
    import torch

    w_hh = torch.tensor(given["W_hh"], dtype=torch.float64)
    w_xh = torch.tensor(given["W_xh"], dtype=torch.float64)
    cell = torch.nn.RNNCell(w_xh.shape[1], w_hh.shape[0], nonlinearity=activation)
    cell = cell.to(torch.float64)
    head = torch.nn.Linear(w_hh.shape[0], len(given["W_hy"])).to(torch.float64)
    with torch.no_grad():
        cell.weight_ih.copy_(w_xh)
        cell.weight_hh.copy_(w_hh)
        # One bias b_h: PyTorch's b_ih carries it, b_hh is zero.
        cell.bias_ih.copy_(torch.tensor(given["b_h"], dtype=torch.float64))
        cell.bias_hh.zero_()
        head.weight.copy_(torch.tensor(given["W_hy"], dtype=torch.float64))
        head.bias.copy_(torch.tensor(given["b_y"], dtype=torch.float64))
        x = torch.tensor([given["x"]], dtype=torch.float64)
        h_prev = torch.tensor([given["h_prev"]], dtype=torch.float64)
        hidden = cell(x, h_prev)
        probs = torch.softmax(head(hidden), dim=-1)
    return {"hidden": hidden[0].tolist(), "softmax": probs[0].tolist()}


def run(params: dict[str, Any]) -> dict[str, Any]:
    given = load_given(params)
    activations = params.get("activations", ["tanh", "relu"])
    results = {}
    worst = 0.0
    for activation in activations:
        result = step(given, activation)
        check = torch_check(given, activation)
        diff = max(
            abs(a - b)
            for key in ("hidden", "softmax")
            for a, b in zip(result[key], check[key], strict=True)
        )
        if diff > 1e-12:
            raise RuntimeError(f"hand computation and torch disagree by {diff} for {activation}")
        result["torch_max_abs_diff"] = diff
        worst = max(worst, diff)
        results[activation] = result
    return {
        "given": given,
        "given_latex": {name: tex_matrix(value) for name, value in given.items()},
        "activations": list(activations),
        "steps": results,
        "torch_max_abs_diff": worst,
        "graph": {
            "hidden": "h_t = f(W_hh h_{t-1} + W_xh x_t + b_h)",
            "output": "y_t = softmax(W_hy h_t + b_y)",
            "computed": "h_{t-1} and y_{t-1} from x_{t-1} and h_{t-2}",
        },
    }


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv, "Q2-c: one RNN forward step with the given numbers")
    set_threads(args.threads)
    write_json(args.out, run(args.params))
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
