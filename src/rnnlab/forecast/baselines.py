"""Q7 baselines on the very test targets the networks are scored on, at every window length.

- persistence: the next hour equals the window's last hour;
- seasonal naive: the next hour equals the same hour of the day before (24 steps back
  at hourly resolution), read from the series (a past observation even when the
  window is shorter than a day); where that step is a long gap, the last hour is used
  (counted in `seasonal_fallbacks`);
- ridge: a linear autoregressive model on the flattened window (every feature at every
  step), fitted on the training windows of that length; its penalty alpha is the one
  with the lowest validation MSE on a fixed grid (ALPHAS).

`python -m rnnlab.forecast.baselines` writes baselines.json (MSE/MAE per baseline and
length, validation MSE, the alpha scan) and errors.npz (per-target errors
`{name}_L{length}` = prediction − truth, standardised, on the shared test targets
`targets`), so the summary can run paired tests of every network against them.

`best_lag` measures by how many steps a forecast trails the truth (the shift that
maximises their correlation); persistence trails by exactly one step.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data.power import SPLITS, Series, load_series, window_targets, windows_for
from rnnlab.errors import RnnlabError
from rnnlab.runtime import cli, write_json

BASELINES = ("persistence", "seasonal_naive", "ridge")
# Ridge penalties tried on validation (standardised inputs, so one grid fits every length).
ALPHAS = tuple(float(a) for a in np.logspace(-2, 4, 13))
#: Lags tried by best_lag: -MAX_LAG..MAX_LAG steps.
MAX_LAG = 6


def seasonal_steps(resolution_minutes: int) -> int:
    """Steps in one day at the series' resolution (the seasonal-naive look-back)."""
    if (24 * 60) % resolution_minutes:
        raise RnnlabError(
            f"a day is not a whole number of {resolution_minutes}-minute steps; "
            "seasonal naive needs power.resolution_minutes to divide 1440."
        )
    return 24 * 60 // resolution_minutes


def seasonal_naive(series: Series, targets: np.ndarray, day: int) -> tuple[np.ndarray, int]:
    """The value `day` steps before each target; the last step where that one is missing."""
    ti = series.target_index
    before = targets - day
    pred = np.full(len(targets), np.nan)
    inside = before >= 0
    pred[inside] = series.values[before[inside], ti]
    missing = np.isnan(pred)
    pred[missing] = series.values[targets[missing] - 1, ti]
    return pred.astype(np.float64), int(missing.sum())


def _ridge_fit_predict(
    x_train: np.ndarray, y_train: np.ndarray, xs: list[np.ndarray], alpha: float
) -> list[np.ndarray]:
    from sklearn.linear_model import Ridge

    model = Ridge(alpha=alpha)
    model.fit(x_train.reshape(len(x_train), -1), y_train)
    return [model.predict(x.reshape(len(x), -1)) for x in xs]


def length_baselines(
    series: Series, length: int, common_length: int, day: int
) -> tuple[dict[str, Any], dict[str, np.ndarray], np.ndarray]:
    """Scores of the three baselines at one window length, their test errors and targets."""
    split = {
        s: window_targets(series, s, length, common_length=common_length if s == "test" else None)
        for s in SPLITS
    }
    data = {s: windows_for(series, t, length) for s, t in split.items()}
    ti = series.target_index
    preds: dict[str, dict[str, np.ndarray]] = {"persistence": {}, "seasonal_naive": {}}
    fallbacks = 0
    for s in ("val", "test"):
        x = data[s][0]
        preds["persistence"][s] = x[:, -1, ti].astype(np.float64)
        preds["seasonal_naive"][s], missing = seasonal_naive(series, split[s], day)
        fallbacks += missing if s == "test" else 0
    scan = {}
    for alpha in ALPHAS:
        (val_pred,) = _ridge_fit_predict(*data["train"], [data["val"][0]], alpha)
        scan[f"{alpha:g}"] = float(np.mean((val_pred - data["val"][1]) ** 2))
    best_alpha = min(ALPHAS, key=lambda a: scan[f"{a:g}"])
    val_pred, test_pred = _ridge_fit_predict(
        *data["train"], [data["val"][0], data["test"][0]], best_alpha
    )
    preds["ridge"] = {"val": val_pred, "test": test_pred}
    scores: dict[str, Any] = {}
    errors: dict[str, np.ndarray] = {}
    for name in BASELINES:
        err = preds[name]["test"] - data["test"][1].astype(np.float64)
        val_err = preds[name]["val"] - data["val"][1].astype(np.float64)
        errors[name] = err
        scores[name] = {
            "mse": float(np.mean(err**2)),
            "mae": float(np.mean(np.abs(err))),
            "val_mse": float(np.mean(val_err**2)),
            "mse_kw2": float(np.mean(err**2)) * series.target_std**2,
            "mae_kw": float(np.mean(np.abs(err))) * series.target_std,
        }
    scores["ridge"] |= {"alpha": best_alpha, "alpha_scan": scan}
    scores["seasonal_naive"]["fallbacks"] = fallbacks
    return scores, errors, split["test"]


def best_lag(
    pred: np.ndarray, truth: np.ndarray, targets: np.ndarray, max_lag: int = MAX_LAG
) -> dict[str, Any]:
    """The shift k (steps) for which pred at target t correlates best with the truth at t − k.

    Targets need not be contiguous: for each k only the targets t whose t − k is also a
    target are paired. k = 1 means the forecast repeats what happened one step earlier
    (a lag of one step, like persistence); k = 0 means aligned with the truth.
    """
    position = {int(t): i for i, t in enumerate(targets)}
    corr = {}
    for k in range(-max_lag, max_lag + 1):
        pairs = [(i, position[int(t) - k]) for i, t in enumerate(targets) if int(t) - k in position]
        if len(pairs) < 3:
            continue
        a = np.array([pred[i] for i, _ in pairs], dtype=np.float64)
        b = np.array([truth[j] for _, j in pairs], dtype=np.float64)
        if a.std() == 0 or b.std() == 0:
            continue
        corr[k] = float(np.corrcoef(a, b)[0, 1])
    if not corr:
        raise RnnlabError("too few consecutive test targets to measure a forecast's lag.")
    lag = max(corr, key=lambda k: corr[k])
    return {
        "lag": int(lag),
        "corr": {str(k): v for k, v in corr.items()},
        "corr_at_lag": corr[lag],
        "corr_at_zero": corr.get(0),
    }


def compute(
    series: Series, lengths: list[int], resolution_minutes: int
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    common = max(lengths)
    day = seasonal_steps(resolution_minutes)
    out: dict[str, Any] = {
        "lengths": lengths,
        "common_length": common,
        "seasonal_steps": day,
        "max_lag": MAX_LAG,
        "alphas": list(ALPHAS),
        "by_length": {},
    }
    arrays: dict[str, np.ndarray] = {}
    for n in lengths:
        scores, errors, targets = length_baselines(series, n, common, day)
        out["by_length"][str(n)] = scores
        if "targets" in arrays and not np.array_equal(arrays["targets"], targets):
            raise RnnlabError("baseline test targets differ between window lengths.")
        arrays["targets"] = targets
        for name, err in errors.items():
            arrays[f"{name}_L{n}"] = err
    arrays["y"] = series.values[arrays["targets"], series.target_index].astype(np.float64)
    out["n_test"] = int(len(arrays["targets"]))
    out["lag"] = {
        name: best_lag(
            arrays[f"{name}_L{lengths[0]}"] + arrays["y"], arrays["y"], arrays["targets"]
        )
        for name in BASELINES
    }
    return out, arrays


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.forecast.baselines")
    parser.add_argument("--series", required=True)
    parser.add_argument("--prep", required=True)
    parser.add_argument("--params", required=True, help="JSON: lengths, resolution_minutes")
    parser.add_argument("--out-json", required=True)
    parser.add_argument("--out-npz", required=True)
    args = parser.parse_args(argv)
    cfg = json.loads(args.params)
    series = load_series(args.series, args.prep)
    summary, arrays = compute(
        series, [int(n) for n in cfg["lengths"]], int(cfg["resolution_minutes"])
    )
    Path(args.out_npz).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(args.out_npz).with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(args.out_npz)
    write_json(args.out_json, summary)
    print(
        json.dumps(
            {
                n: {k: round(v["mse"], 4) for k, v in s.items()}
                for n, s in summary["by_length"].items()
            }
        ),
        flush=True,
    )
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
