"""Q7 summary: every number the chapter prints, derived from the runs' metrics.

`summary` reads prep.json, each run's metrics.json and gates.json and writes
results/forecast/summary.json (`r.q7` in the report). Comparisons the prose makes
(winners, ratios, rankings, degradation) are computed here once, so the template
only words them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.forecast.models import ABLATIONS, ARCHITECTURES
from rnnlab.runtime import cli, read_json, write_json

# "Best trade-off": the cheapest model (CPU seconds per epoch) whose test MSE is within
# this fraction of the most accurate model's. One seed per model cannot resolve
# differences of a few percent, so closer than this counts as "as accurate".
TRADEOFF_TOLERANCE = 0.05
# The ablation's full LSTM is the part-a LSTM (MaskedLSTM with no gate fixed equals
# nn.LSTM with the same weights and the same initialisation; both are tested).
ABLATION_VARIANTS = ("lstm", *[name for name in ABLATIONS if ABLATIONS[name]])


def _row(metrics: dict[str, Any]) -> dict[str, Any]:
    persistence = metrics["persistence"]
    return {
        "model": metrics["model"],
        "length": metrics["length"],
        "mse": metrics["test"]["mse"],
        "mae": metrics["test"]["mae"],
        "mse_kw2": metrics["test"]["mse_kw2"],
        "mae_kw": metrics["test"]["mae_kw"],
        "rmse_kw": metrics["test"]["rmse_kw"],
        # Share of the persistence forecast's MSE removed (> 0: better than persistence).
        "skill": 1.0 - metrics["test"]["mse"] / persistence["mse"],
        "beats_persistence": metrics["test"]["mse"] < persistence["mse"],
        "epoch_seconds": metrics["mean_epoch_seconds"],
        # CPU seconds of the training pass: the cost comparisons use these, since wall
        # time on a shared machine also measures the other jobs.
        "epoch_cpu_seconds": metrics["mean_epoch_cpu_seconds"],
        "parameters": metrics["trainable_parameters"],
        "convergence_within_10pct": metrics["convergence_epochs"]["within_10pct"],
        "convergence_gain_90pct": metrics["convergence_epochs"]["gain_90pct"],
        "best_epoch": metrics["best_epoch"],
        "best_val_mse": metrics["best_val_mse"],
        "val_curve": [h["val_mse"] for h in metrics["history"]],
        "train_curve": [h["train_mse"] for h in metrics["history"]],
    }


def _persistence(metrics: dict[str, Any]) -> dict[str, Any]:
    p = metrics["persistence"]
    return {"mse": p["mse"], "mae": p["mae"], "mse_kw2": p["mse_kw2"], "mae_kw": p["mae_kw"],
            "val_mse": p.get("val_mse")}


def part_a(runs: dict[tuple[str, int], dict[str, Any]], length: int) -> dict[str, Any]:
    rows = {m: _row(runs[(m, length)]) for m in ARCHITECTURES}
    by_mse = sorted(rows, key=lambda m: rows[m]["mse"])
    best = by_mse[0]
    fastest = min(rows, key=lambda m: rows[m]["epoch_cpu_seconds"])
    near_best = [m for m in rows if rows[m]["mse"] <= rows[best]["mse"] * (1 + TRADEOFF_TOLERANCE)]
    tradeoff = min(near_best, key=lambda m: rows[m]["epoch_cpu_seconds"])
    lstm, bilstm, gru = rows["lstm"], rows["bilstm"], rows["gru"]
    return {
        "length": length,
        "rows": rows,
        "order": list(ARCHITECTURES),
        "ranking": by_mse,
        "best": best,
        "fastest": fastest,
        "fastest_convergence": min(rows, key=lambda m: (rows[m]["convergence_within_10pct"],
                                                        rows[m]["mse"])),
        "tradeoff": tradeoff,
        "tradeoff_tolerance": TRADEOFF_TOLERANCE,
        "persistence": _persistence(runs[("lstm", length)]),
        "all_beat_persistence": all(r["beats_persistence"] for r in rows.values()),
        "min_skill": min(r["skill"] for r in rows.values()),
        "bilstm_vs_lstm": {
            # > 0: BiLSTM's test MSE is lower than LSTM's by this fraction.
            "mse_gain": 1.0 - bilstm["mse"] / lstm["mse"],
            "param_ratio": bilstm["parameters"] / lstm["parameters"],
            "time_ratio": bilstm["epoch_cpu_seconds"] / lstm["epoch_cpu_seconds"],
        },
        "gru_vs_lstm": {
            "mse_gain": 1.0 - gru["mse"] / lstm["mse"],
            "param_ratio": gru["parameters"] / lstm["parameters"],
            "time_ratio": gru["epoch_cpu_seconds"] / lstm["epoch_cpu_seconds"],
        },
        "rnn_vs_lstm": {"mse_gain": 1.0 - rows["rnn"]["mse"] / lstm["mse"]},
    }


def part_c(runs: dict[tuple[str, int], dict[str, Any]], lengths: list[int]) -> dict[str, Any]:
    short, long = min(lengths), max(lengths)
    table = {m: {str(n): _row(runs[(m, n)]) for n in lengths} for m in ARCHITECTURES}
    degradation = {
        m: table[m][str(long)]["mse"] / table[m][str(short)]["mse"] - 1.0 for m in ARCHITECTURES
    }
    best_at = {str(n): min(ARCHITECTURES, key=lambda m, n=n: table[m][str(n)]["mse"])
               for n in lengths}
    gated = [m for m in ARCHITECTURES if m != "rnn"]
    best_gated_long = min(gated, key=lambda m: table[m][str(long)]["mse"])
    return {
        "lengths": lengths,
        "short": short,
        "long": long,
        "table": table,
        # (MSE at the longest window / MSE at the shortest) - 1: > 0 means worse when longer.
        "degradation": degradation,
        # Least degradation (a model that improves with length counts as most stable) ...
        "most_stable": min(ARCHITECTURES, key=lambda m: degradation[m]),
        # ... and the smallest change either way.
        "most_stable_abs": min(ARCHITECTURES, key=lambda m: abs(degradation[m])),
        "improved": [m for m in ARCHITECTURES if degradation[m] < 0],
        "least_stable": max(ARCHITECTURES, key=lambda m: degradation[m]),
        "best_at": best_at,
        "persistence": {str(n): _persistence(runs[("lstm", n)]) for n in lengths},
        "rnn_over_best_gated": {
            str(n): table["rnn"][str(n)]["mse"] / min(table[m][str(n)]["mse"] for m in gated)
            for n in lengths
        },
        "best_gated_long": best_gated_long,
        "bilstm_minus_lstm": {
            str(n): 1.0 - table["bilstm"][str(n)]["mse"] / table["lstm"][str(n)]["mse"]
            for n in lengths
        },
        "bilstm_max_gain": max(
            1.0 - table["bilstm"][str(n)]["mse"] / table["lstm"][str(n)]["mse"] for n in lengths
        ),
        "gru_minus_lstm": {
            str(n): 1.0 - table["gru"][str(n)]["mse"] / table["lstm"][str(n)]["mse"]
            for n in lengths
        },
    }


def part_e(runs: dict[tuple[str, int], dict[str, Any]], length: int) -> dict[str, Any]:
    rows = {m: _row(runs[(m, length)]) for m in ABLATION_VARIANTS}
    ranking = sorted(rows, key=lambda m: rows[m]["mse"])
    full = rows["lstm"]["mse"]
    return {
        "length": length,
        "rows": rows,
        "order": list(ABLATION_VARIANTS),
        "ranking": ranking,
        "best": ranking[0],
        "worst": ranking[-1],
        # Relative increase of test MSE over the full LSTM (> 0: worse than full).
        "loss_vs_full": {m: rows[m]["mse"] / full - 1.0 for m in rows},
        "persistence": _persistence(runs[("lstm", length)]),
        # The gate whose removal hurts more: dropping forget (input-only variant) or
        # dropping input (forget-only variant); output is removed in both.
        "more_critical_gate": (
            "forget" if rows["lstm_input_only"]["mse"] > rows["lstm_forget_only"]["mse"]
            else "input"
        ),
    }


def build_summary(prep: dict[str, Any], runs: dict[tuple[str, int], dict[str, Any]],
                  gates: dict[str, Any], setup: dict[str, Any]) -> dict[str, Any]:
    lengths = sorted({n for _, n in runs})
    main_length = int(setup["main_length"])
    missing = [(m, n) for m in ARCHITECTURES for n in lengths if (m, n) not in runs]
    missing += [(m, main_length) for m in ABLATION_VARIANTS if (m, main_length) not in runs]
    if missing:
        raise RnnlabError(f"Q7 summary is missing runs {missing}; rerun the forecast rules.")
    sample = runs[("lstm", main_length)]
    return {
        "data": {k: prep[k] for k in (
            "minute_rows", "missing_rows", "missing_row_share", "absent_minutes", "first", "last",
            "resolution_minutes", "min_coverage", "max_gap_steps", "steps", "missing_steps",
            "interpolated_steps", "unfilled_steps", "splits", "target", "target_std",
            "target_mean", "features", "text_sha256")},
        "windows": sample["windows"],
        "setup": setup,
        "a": part_a(runs, main_length),
        "b": gates,
        "c": part_c(runs, lengths),
        "e": part_e(runs, main_length),
    }


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.forecast.analysis")
    parser.add_argument("--prep", required=True)
    parser.add_argument("--gates", required=True)
    parser.add_argument("--metrics", action="append", required=True, help="a run's metrics.json")
    parser.add_argument("--setup", required=True, help="JSON: shared training settings")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    runs = {}
    for path in args.metrics:
        metrics = read_json(path)
        runs[(metrics["model"], int(metrics["length"]))] = metrics
    summary = build_summary(read_json(args.prep), runs, read_json(args.gates),
                            json.loads(args.setup))
    write_json(Path(args.out), summary)
    print(json.dumps({"ranking_a": summary["a"]["ranking"], "ranking_e": summary["e"]["ranking"]}),
          flush=True)
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
