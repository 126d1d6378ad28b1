"""Q7-b: gate activations of the trained LSTM and GRU, recomputed from their weights.

PyTorch's fused `nn.LSTM`/`nn.GRU` do not expose their gates, so `lstm_trace` and
`gru_trace` run the same equations step by step with the module's own parameters
(PyTorch's conventions: LSTM rows i, f, g, o; GRU rows r, z, n with
h' = (1 - z) * n + z * h, so z -> 1 keeps the old state like a forget gate -> 1).
`max_deviation` checks the recomputation against the module's outputs; the job
refuses to report gates that do not reproduce them.

What is measured (all on the unit-mean gate value of a layer at each step, since
units of two separately trained networks do not correspond one to one):
- per gate and layer: mean, range (min..max over every window and step) and the
  temporal spread (sd over a window's steps, averaged over windows, and its maximum):
  how much a gate actually moves, which the figures' colour scales follow;
- correlation of GRU update z with LSTM forget f (and of 1 - z with LSTM input i),
  raw and partial: both gates also follow the input level, so the partial correlation
  removes the level x_t (target feature, standardised) from both by least squares
  first; 95% intervals by a bootstrap over windows (BOOTSTRAP resamples, seeded);
- "moments of remembering" (REMEMBER_RULE): steps where the LSTM keeps its memory and
  writes little, f̄_t - ī_t in the top REMEMBER_SHARE of all (window, step) pairs of
  the layer; the input level and its one-step change there against elsewhere, with
  bootstrap intervals over windows, and their share at night;
- forget "drops": the 10% of steps of each window where the LSTM's mean forget gate
  is lowest, and how large the input's change |x_t - x_{t-1}| is there.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnlab.data.power import FEATURES, load_series, window_targets, windows_for
from rnnlab.errors import RnnlabError
from rnnlab.forecast.train import load_model
from rnnlab.runtime import cli, save_npz, set_threads, write_json

TOLERANCE = 1e-4
#: Bootstrap resamples (over windows) of the partial correlations and remembering contrasts.
BOOTSTRAP = 1000
#: Share of a layer's (window, step) pairs that count as moments of remembering.
REMEMBER_SHARE = 0.1
REMEMBER_RULE = (
    "a step is a moment of remembering when the LSTM layer's unit-mean forget gate "
    "minus its unit-mean input gate is in the top 10% of all test (window, step) "
    "pairs of that layer"
)
#: Hours counted as night in the remembering statistics [start, end).
NIGHT_HOURS = (0, 6)
GATE_KEYS = (
    ("lstm", "input"),
    ("lstm", "forget"),
    ("lstm", "output"),
    ("gru", "update"),
    ("gru", "reset"),
)


def lstm_trace(lstm: nn.LSTM, x: torch.Tensor) -> list[dict[str, torch.Tensor]]:
    """Per layer: input/forget/cell/output gates, c and h, each [B, T, H] (unidirectional)."""
    if lstm.bidirectional or not lstm.batch_first or lstm.proj_size:
        raise RnnlabError("lstm_trace reads unidirectional batch_first LSTMs without projection.")
    hidden = lstm.hidden_size
    layers = []
    layer_input = x
    for k in range(lstm.num_layers):
        w_ih, w_hh = getattr(lstm, f"weight_ih_l{k}"), getattr(lstm, f"weight_hh_l{k}")
        b = getattr(lstm, f"bias_ih_l{k}") + getattr(lstm, f"bias_hh_l{k}")
        h = x.new_zeros(x.shape[0], hidden)
        c = x.new_zeros(x.shape[0], hidden)
        rec: dict[str, list[torch.Tensor]] = {
            n: [] for n in ("input", "forget", "cell", "output", "c", "h")
        }
        for t in range(x.shape[1]):
            pre = layer_input[:, t] @ w_ih.t() + h @ w_hh.t() + b
            i, f, g, o = pre.split(hidden, dim=1)
            i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
            c = f * c + i * g
            h = o * torch.tanh(c)
            for name, value in zip(
                ("input", "forget", "cell", "output", "c", "h"), (i, f, g, o, c, h), strict=True
            ):
                rec[name].append(value)
        trace = {n: torch.stack(v, dim=1) for n, v in rec.items()}
        layers.append(trace)
        layer_input = trace["h"]
    return layers


def gru_trace(gru: nn.GRU, x: torch.Tensor) -> list[dict[str, torch.Tensor]]:
    """Per layer: reset r, update z, candidate n and h, each [B, T, H]."""
    if gru.bidirectional or not gru.batch_first:
        raise RnnlabError("gru_trace reads unidirectional batch_first GRUs.")
    hidden = gru.hidden_size
    layers = []
    layer_input = x
    for k in range(gru.num_layers):
        w_ih, w_hh = getattr(gru, f"weight_ih_l{k}"), getattr(gru, f"weight_hh_l{k}")
        b_ih, b_hh = getattr(gru, f"bias_ih_l{k}"), getattr(gru, f"bias_hh_l{k}")
        h = x.new_zeros(x.shape[0], hidden)
        rec: dict[str, list[torch.Tensor]] = {n: [] for n in ("reset", "update", "candidate", "h")}
        for t in range(x.shape[1]):
            gi = layer_input[:, t] @ w_ih.t() + b_ih
            gh = h @ w_hh.t() + b_hh
            i_r, i_z, i_n = gi.split(hidden, dim=1)
            h_r, h_z, h_n = gh.split(hidden, dim=1)
            r = torch.sigmoid(i_r + h_r)
            z = torch.sigmoid(i_z + h_z)
            n = torch.tanh(i_n + r * h_n)  # PyTorch applies r to (W_hn h + b_hn)
            h = (1 - z) * n + z * h
            for name, value in zip(
                ("reset", "update", "candidate", "h"), (r, z, n, h), strict=True
            ):
                rec[name].append(value)
        trace = {n: torch.stack(v, dim=1) for n, v in rec.items()}
        layers.append(trace)
        layer_input = trace["h"]
    return layers


def max_deviation(
    module: nn.LSTM | nn.GRU, x: torch.Tensor, trace: list[dict[str, torch.Tensor]]
) -> float:
    """Largest |difference| between the module's outputs/final states and the recomputation."""
    with torch.no_grad():
        out, state = module(x)
    h_n = state[0] if isinstance(state, tuple) else state
    diffs = [(out - trace[-1]["h"]).abs().max()]
    diffs += [(h_n[k] - trace[k]["h"][:, -1]).abs().max() for k in range(len(trace))]
    if isinstance(state, tuple):
        diffs += [(state[1][k] - trace[k]["c"][:, -1]).abs().max() for k in range(len(trace))]
    return float(torch.stack(diffs).max())


def choose_windows(x_target: np.ndarray, seed: int) -> dict[str, int]:
    """Three test windows: calm (least variation), peak (largest one-step jump), typical.

    `x_target` is [N, T] (the target feature over each window). Typical is a seeded
    draw among windows whose standard deviation lies between the 45th and 55th
    percentile, different from the other two.
    """
    spread = x_target.std(axis=1)
    jump = np.abs(np.diff(x_target, axis=1)).max(axis=1)
    calm = int(np.argmin(spread))
    peak = int(np.argmax(jump))
    low, high = np.percentile(spread, [45, 55])
    middle = np.flatnonzero((spread >= low) & (spread <= high))
    middle = middle[(middle != calm) & (middle != peak)]
    if len(middle) == 0:
        middle = np.setdiff1d(np.arange(len(spread)), [calm, peak])
    if len(middle) == 0:
        raise RnnlabError("Q7-b needs at least 3 complete test windows; the series is too short.")
    typical = int(np.random.default_rng(seed).choice(middle))
    return {"calm": calm, "peak": peak, "typical": typical}


def _pearson(a: np.ndarray, b: np.ndarray) -> float | None:
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    if a.std() == 0 or b.std() == 0:
        return None
    return float(np.corrcoef(a, b)[0, 1])


def gate_ranges(mean: np.ndarray) -> dict[str, float]:
    """How much a unit-mean gate [N, T] moves: level, range and temporal spread."""
    spread = mean.std(axis=1)
    return {
        "mean": float(mean.mean()),
        "min": float(mean.min()),
        "max": float(mean.max()),
        "range": float(mean.max() - mean.min()),
        "temporal_spread": float(spread.mean()),
        "temporal_spread_max": float(spread.max()),
    }


def partial_corr(a: np.ndarray, b: np.ndarray, control: np.ndarray) -> float | None:
    """Pearson correlation of a and b after removing a linear fit on `control` from both."""
    design = np.c_[np.ones(control.size), control.ravel().astype(np.float64)]

    def residual(v: np.ndarray) -> np.ndarray:
        v = v.ravel().astype(np.float64)
        coef, *_ = np.linalg.lstsq(design, v, rcond=None)
        return v - design @ coef

    return _pearson(residual(a), residual(b))


def _bootstrap(stat_fn: Any, n_windows: int, seed: int) -> list[float] | None:
    """Percentile 95% interval of stat_fn(rows) over windows resampled with replacement."""
    rng = np.random.default_rng(seed)
    values = [stat_fn(rng.integers(0, n_windows, n_windows)) for _ in range(BOOTSTRAP)]
    values = [v for v in values if v is not None and np.isfinite(v)]
    if not values:
        return None
    return [float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))]


def partial_stats(a: np.ndarray, b: np.ndarray, level: np.ndarray, seed: int) -> dict[str, Any]:
    """Raw and level-controlled correlation of two [N, T] gate series, with a window bootstrap."""
    return {
        "raw": _pearson(a, b),
        "r": partial_corr(a, b, level),
        "ci95": _bootstrap(lambda rows: partial_corr(a[rows], b[rows], level[rows]), len(a), seed),
    }


def remember_moments(forget: np.ndarray, inp: np.ndarray) -> np.ndarray:
    """REMEMBER_RULE as a boolean [N, T] mask."""
    score = forget - inp
    return score >= np.quantile(score, 1 - REMEMBER_SHARE)


def remember_stats(
    moments: np.ndarray, level: np.ndarray, hours: np.ndarray | None, seed: int
) -> dict[str, Any]:
    """Input level and one-step change at moments of remembering against elsewhere."""
    change = np.abs(np.diff(level, axis=1, prepend=level[:, :1]))

    def diff(values: np.ndarray, rows: np.ndarray) -> float | None:
        m, v = moments[rows][:, 1:], values[rows][:, 1:]
        if m.all() or not m.any():
            return None
        return float(v[m].mean() - v[~m].mean())

    every = np.arange(len(level))
    out: dict[str, Any] = {"rule": REMEMBER_RULE, "share": float(moments.mean())}
    for key, values in (("level_diff", level), ("change_diff", change)):
        out[key] = {
            "value": diff(values, every),
            "ci95": _bootstrap(lambda rows, v=values: diff(v, rows), len(level), seed),
        }
    # The two means over the steps the contrast uses (the first step has no change),
    # so the report's "at", "elsewhere" and their difference agree.
    at, steps = moments[:, 1:], level[:, 1:]
    out["level_at"] = float(steps[at].mean())
    out["level_elsewhere"] = float(steps[~at].mean())
    if hours is not None:
        night = (hours >= NIGHT_HOURS[0]) & (hours < NIGHT_HOURS[1])
        out["night_share_at"] = float(night[moments].mean())
        out["night_share_all"] = float(night.mean())
        out["night_hours"] = list(NIGHT_HOURS)  # [start, end) hours of the clock
    return out


def forget_drop_stats(forget_mean: np.ndarray, x_target: np.ndarray) -> dict[str, Any]:
    """How the input moves where the mean forget gate drops ([N, T] arrays).

    A drop step is one of the 10% lowest steps of its window's mean forget gate
    (step 0 is left out: its "change" is undefined).
    """
    change = np.abs(np.diff(x_target, axis=1))  # change into step t, t = 1..T-1
    forget = forget_mean[:, 1:]
    # The lowest tenth of each window's steps (at least one), by rank so ties cannot
    # make every step a drop.
    k = max(1, int(round(0.1 * forget.shape[1])))
    lowest = np.argsort(forget, axis=1, kind="stable")[:, :k]
    drop = np.zeros_like(forget, dtype=bool)
    np.put_along_axis(drop, lowest, True, axis=1)
    level = x_target[:, 1:]
    return {
        "mean_change_at_drops": float(change[drop].mean()),
        "mean_change_elsewhere": float(change[~drop].mean()),
        "change_ratio": float(change[drop].mean() / max(change[~drop].mean(), 1e-12)),
        "mean_level_at_drops": float(level[drop].mean()),
        "mean_level_elsewhere": float(level[~drop].mean()),
        "corr_forget_change": _pearson(forget, change),
        "corr_forget_level": _pearson(forget, level),
        "drop_share": float(drop.mean()),
    }


def _window_story(forget: np.ndarray, series: np.ndarray) -> dict[str, Any]:
    """One shown window: how much the mean forget gate moves and where, against the input.

    Steps are 1-based positions in the window; the jump step is the step whose value
    differs most from the one before it.
    """
    change = np.abs(np.diff(series))
    jump_step = int(np.argmax(change)) + 2
    return {
        "forget_time_std": float(forget.std()),
        "forget_min": float(forget.min()),
        "forget_max": float(forget.max()),
        "forget_min_step": int(np.argmin(forget)) + 1,
        "jump_step": jump_step,
        "forget_at_jump": float(forget[jump_step - 1]),
        # How far the forget minimum is from the jump, in steps.
        "min_to_jump_steps": int(np.argmin(forget)) + 1 - jump_step,
    }


def analyse(
    lstm_model: nn.Module,
    gru_model: nn.Module,
    x: np.ndarray,
    target_index: int,
    seed: int,
    sample: int,
    hours: np.ndarray | None = None,
) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, int]]:
    """Gate statistics over (up to `sample`) test windows and the three chosen windows' gates."""
    lstm, gru = lstm_model.rnn, gru_model.rnn
    if not isinstance(lstm, nn.LSTM) or not isinstance(gru, nn.GRU):
        raise RnnlabError("Q7-b needs the trained unidirectional LSTM and GRU forecasters.")
    x_target = x[:, :, target_index]
    chosen = choose_windows(x_target, seed)
    rng = np.random.default_rng(seed + 1)
    pool = np.setdiff1d(np.arange(len(x)), list(chosen.values()))
    take = rng.choice(pool, size=min(sample, len(pool)), replace=False) if len(pool) else pool
    rows = np.r_[list(chosen.values()), np.sort(take)].astype(np.int64)
    xt = torch.from_numpy(x[rows])
    with torch.no_grad():
        lt, gt = lstm_trace(lstm, xt), gru_trace(gru, xt)
        deviation = {"lstm": max_deviation(lstm, xt, lt), "gru": max_deviation(gru, xt, gt)}
    if max(deviation.values()) > TOLERANCE:
        raise RnnlabError(
            f"recomputed gates do not reproduce the modules' outputs (max deviation "
            f"{deviation}); the trace code and torch's RNN equations disagree."
        )
    stats: dict[str, Any] = {
        "deviation": deviation,
        "windows_used": len(rows),
        "layers": [],
        "remember_rule": REMEMBER_RULE,
        "bootstrap": BOOTSTRAP,
    }
    level = x_target[rows].astype(np.float64)
    arrays: dict[str, np.ndarray] = {}
    for k in range(len(lt)):
        mean = {name: lt[k][name].mean(dim=2).numpy() for name in ("input", "forget", "output")}
        mean |= {name: gt[k][name].mean(dim=2).numpy() for name in ("update", "reset")}
        moments = remember_moments(mean["forget"], mean["input"])
        for j, name in enumerate(chosen):
            arrays[f"{name}_l{k + 1}_remember"] = moments[j]
        stats["layers"].append(
            {
                "layer": k + 1,
                "gates": {f"{net}_{gate}": gate_ranges(mean[gate]) for net, gate in GATE_KEYS},
                "partial": {
                    "update_forget": partial_stats(mean["update"], mean["forget"], level, seed + 2),
                    "one_minus_update_input": partial_stats(
                        1 - mean["update"], mean["input"], level, seed + 3
                    ),
                },
                "remember": remember_stats(
                    moments, level, None if hours is None else hours[rows], seed + 4
                ),
                "mean_level": {n: float(v.mean()) for n, v in mean.items()},
                "corr": {
                    "update_forget": _pearson(mean["update"], mean["forget"]),
                    "update_input": _pearson(mean["update"], mean["input"]),
                    "one_minus_update_input": _pearson(1 - mean["update"], mean["input"]),
                    "reset_forget": _pearson(mean["reset"], mean["forget"]),
                    "reset_input": _pearson(mean["reset"], mean["input"]),
                    "forget_input": _pearson(mean["forget"], mean["input"]),
                },
                "forget_drops": forget_drop_stats(mean["forget"], x_target[rows]),
                "per_window_corr_update_forget": {
                    name: _pearson(mean["update"][j], mean["forget"][j])
                    for j, name in enumerate(chosen)
                },
                "windows": {
                    name: _window_story(mean["forget"][j], x_target[rows[j]])
                    for j, name in enumerate(chosen)
                },
            }
        )
    for j, name in enumerate(chosen):
        for k in range(len(lt)):
            for gate in ("input", "forget", "output"):
                arrays[f"{name}_l{k + 1}_lstm_{gate}"] = lt[k][gate][j].numpy()
            for gate in ("update", "reset"):
                arrays[f"{name}_l{k + 1}_gru_{gate}"] = gt[k][gate][j].numpy()
    return stats, arrays, chosen


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.forecast.gates")
    parser.add_argument("--series", required=True)
    parser.add_argument("--prep", required=True)
    parser.add_argument("--lstm", required=True, help="model.pt of the trained LSTM")
    parser.add_argument("--gru", required=True, help="model.pt of the trained GRU")
    parser.add_argument("--out-json", required=True)
    parser.add_argument("--out-npz", required=True)
    parser.add_argument("--params", required=True, help="JSON: length, common_length, seed, sample")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    cfg = json.loads(args.params)
    series = load_series(args.series, args.prep)
    length = int(cfg["length"])
    targets = window_targets(series, "test", length, common_length=int(cfg["common_length"]))
    x, _ = windows_for(series, targets, length)
    lstm, gru = load_model(args.lstm), load_model(args.gru)
    steps = targets[:, None] + np.arange(-length, 0)[None, :]
    hours = (series.stamps[steps] // 3_600_000_000_000) % 24
    stats, arrays, chosen = analyse(
        lstm, gru, x, series.target_index, int(cfg["seed"]), int(cfg["sample"]), hours=hours
    )
    scale, offset = series.target_std, series.target_mean
    stats["chosen"] = {}
    for name, row in chosen.items():
        t = int(targets[row])
        kw = x[row, :, series.target_index].astype(np.float64) * scale + offset
        arrays[f"{name}_input_kw"] = kw
        arrays[f"{name}_stamps"] = series.stamps[t - length : t]
        stats["chosen"][name] = {
            "target_index": t,
            "start": str(np.datetime64(int(series.stamps[t - length]), "ns"))[:16],
            "end": str(np.datetime64(int(series.stamps[t - 1]), "ns"))[:16],
            "mean_kw": float(kw.mean()),
            "std_kw": float(kw.std()),
            "max_jump_kw": float(np.abs(np.diff(kw)).max()),
        }
    stats["length"] = length
    stats["target"] = FEATURES[series.target_index]
    save_npz(args.out_npz, **arrays)
    write_json(args.out_json, stats)
    print(json.dumps(stats["deviation"]), flush=True)
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
