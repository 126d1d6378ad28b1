"""Q6-A results: the table of all runs, the report summary with its claims, and the figure.

    python -m rnnlab.sentiment.summary aggregate --metrics run/metrics.json ... \\
        --predictions run/predictions.npz ... [--baseline baseline.json \\
        --baseline-predictions baseline.npz] --table accuracy.csv --summary summary.json
    python -m rnnlab.sentiment.summary plot --summary summary.json --font fonts.json \\
        --figure accuracy_vs_length.svg

Kept apart from `rnnlab.sentiment.train` so that editing the table or the figure does not
invalidate the trained models (Snakemake reruns a job when its code changes).

Every comparison or trend the report states is a claim (`rnnlab.claims`) under
``claims`` in the summary, ids ``q6a.*``:

- ``q6a.lstm_vs_rnn.L{L}``: LSTM vs Simple RNN at length L over seeds (Welch's
  interval of the difference of mean test accuracies). With one seed per model
  the spread is unknown and the verdict is ``indistinguishable`` (``single_seed``).
- ``q6a.lstm_vs_rnn.L{L}.s{seed}``: the same two models trained with the same
  seed, McNemar's exact test on their test predictions. The two tests answer
  different questions: Welch asks whether the gap survives another training
  seed, McNemar whether one trained pair differs on these 25,000 reviews beyond
  test-set noise. Pooling the seeds into one McNemar test would count each
  review three times as if independent, so each seed pair is tested alone.
- ``q6a.trend.{model}``: the model's accuracy along log2(L), a least-squares
  slope through every seed's point.
- ``q6a.baseline_vs_{model}.L{L}``: the TF-IDF baseline (one deterministic fit)
  vs the network's median seed at L (the run whose test accuracy is the median
  of the seeds; with two seeds the lower), McNemar on the same test reviews.
  ``q6a.baseline_vs_best.L{L}`` is the same against the network with the higher
  mean accuracy at L.
- ``q6a.cap_bound``: how many runs were still improving when the epoch cap
  stopped them (``above`` the named threshold 0: the cap bound somewhere).
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab import claims
from rnnlab.errors import RnnlabError
from rnnlab.runtime import atomic_write, cli, read_json, write_json
from rnnlab.sentiment.models import CELLS

TABLE_COLUMNS = (
    "model",
    "length",
    "seed",
    "test_acc",
    "val_acc",
    "test_loss",
    "best_epoch",
    "epochs_run",
    "max_epochs",
    "stopped_early",
    "cap_bound",
    "train_seconds",
    "cpu_seconds",
    "tokens_per_s",
    "parameters",
    "test_acc_cut",
    "test_acc_whole",
)
#: Keys of a run's predictions.npz (the trainer's contract), in test-split order.
PREDICTION_KEYS = ("label", "logit", "correct")
#: `q6a.cap_bound` is `above` this count when at least one run ended at its cap.
CAP_BOUND_THRESHOLD = 0
BASELINE = "tfidf"


def _mean_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def _cap_bound(run: dict[str, Any]) -> bool:
    """The trainer's `cap_bound`, else: it used every epoch without stopping early."""
    if run.get("cap_bound") is not None:
        return bool(run["cap_bound"])
    max_epochs = run.get("max_epochs", (run.get("hyper") or {}).get("max_epochs"))
    return not run.get("stopped_early", False) and run.get("epochs_run") == max_epochs


def load_predictions(path: str | Path) -> dict[str, np.ndarray]:
    """A run's predictions.npz, checked against the contract."""
    path = Path(path)
    if not path.exists():
        raise RnnlabError(f"{path} is missing; rerun the run's `sentiment_train` job.")
    with np.load(path) as handle:
        missing = [k for k in PREDICTION_KEYS if k not in handle.files]
        if missing:
            raise RnnlabError(f"{path} lacks {missing}; rerun the run's `sentiment_train` job.")
        return {k: handle[k] for k in PREDICTION_KEYS}


def load_runs(
    metrics_paths: list[str | Path], prediction_paths: list[str | Path] | None
) -> tuple[list[dict[str, Any]], dict[tuple[str, int, int], np.ndarray]]:
    """Every run's metrics and, keyed by (model, length, seed), its test correctness.

    A predictions file belongs to the metrics.json in the same directory.
    """
    if not metrics_paths:
        raise RnnlabError("no run metrics to aggregate; configure sentiment.models and lengths.")
    by_dir = {Path(p).resolve().parent: Path(p) for p in prediction_paths or []}
    runs, correct = [], {}
    for path in metrics_paths:
        run = read_json(path)
        run["max_epochs"] = run.get("max_epochs", (run.get("hyper") or {}).get("max_epochs"))
        run["cap_bound"] = _cap_bound(run)
        run.setdefault("stopped_early", False)
        runs.append(run)
        if prediction_paths is None:
            continue
        pred_path = by_dir.get(Path(path).resolve().parent)
        if pred_path is None:
            raise RnnlabError(f"no predictions.npz next to {path}; pass it with --predictions.")
        preds = load_predictions(pred_path)
        if preds["correct"].shape[0] != run["n_test"]:
            raise RnnlabError(
                f"{pred_path} holds {preds['correct'].shape[0]} predictions for "
                f"{run['n_test']} test reviews; rerun that run."
            )
        key = (run["model"], int(run["length"]), int(run["seed"]))
        correct[key] = preds["correct"].astype(bool)
    return runs, correct


def _rows(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        ({k: run.get(k) for k in TABLE_COLUMNS} for run in runs),
        key=lambda r: (CELLS.index(r["model"]), r["length"], r["seed"]),
    )


def _point(group: list[dict[str, Any]], length: int) -> dict[str, Any]:
    """One (model, length) cell over its seeds: mean, sd, interval and every seed's value."""
    test = claims.mean_sd_ci([r["test_acc"] for r in group])
    val = claims.mean_sd_ci([r["val_acc"] for r in group])
    cpu = [r.get("cpu_seconds") for r in group]
    return {
        "length": length,
        "n_seeds": len(group),
        "seeds": [r["seed"] for r in group],
        "test_acc": test["mean"],
        "test_acc_sd": test["sd"],
        "test_acc_sd_pp": None if test["sd"] is None else 100 * test["sd"],
        "test_acc_ci95": test["ci95"],
        "test_acc_seeds": [float(r["test_acc"]) for r in group],
        "val_acc": val["mean"],
        "val_acc_sd": val["sd"],
        "best_epochs": [r["best_epoch"] for r in group],
        "epochs_run": [r["epochs_run"] for r in group],
        "max_epochs": group[0].get("max_epochs"),
        "stopped_early": sum(bool(r.get("stopped_early")) for r in group),
        "cap_bound": sum(bool(r.get("cap_bound")) for r in group),
        "train_seconds": sum(r["train_seconds"] for r in group) / len(group),
        "train_minutes": sum(r["train_seconds"] for r in group) / len(group) / 60,
        "cpu_seconds": None if None in cpu else sum(cpu) / len(cpu),
        "tokens_per_s": sum(r["tokens_per_s"] for r in group) / len(group),
        "test_acc_cut": _mean_or_none([r.get("test_acc_cut") for r in group]),
        "test_acc_whole": _mean_or_none([r.get("test_acc_whole") for r in group]),
    }


def _median_seed(group: list[dict[str, Any]]) -> int:
    """The seed whose test accuracy is the median of the group's (the lower one of two)."""
    ranked = sorted(group, key=lambda r: (r["test_acc"], r["seed"]))
    return int(ranked[(len(ranked) - 1) // 2]["seed"])


def _trend_summary(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Descriptive numbers of one model's means along the lengths (no verdict here)."""
    best = max(points, key=lambda p: p["test_acc"])
    worst = min(points, key=lambda p: p["test_acc"])
    return {
        "first_length": points[0]["length"],
        "last_length": points[-1]["length"],
        "change": points[-1]["test_acc"] - points[0]["test_acc"],
        "best_length": best["length"],
        "best_acc": best["test_acc"],
        "worst_length": worst["length"],
        "worst_acc": worst["test_acc"],
        "spread": best["test_acc"] - worst["test_acc"],
    }


def network_claims(
    by_model: dict[str, list[dict[str, Any]]],
    correct: dict[tuple[str, int, int], np.ndarray],
) -> list[dict[str, Any]]:
    """LSTM vs RNN per length (over seeds and per seed pair) and each model's trend."""
    out = []
    models = list(by_model)
    for model in models:
        points = by_model[model]
        out.append(
            claims.trend(
                f"q6a.trend.{model}",
                [math.log2(p["length"]) for p in points],
                [p["test_acc_seeds"] for p in points],
                axis="log2 length",
                lengths=[p["length"] for p in points],
                model=model,
            )
        )
    if not {"rnn", "lstm"} <= set(models):
        return out
    index = {m: {p["length"]: i for i, p in enumerate(by_model[m])} for m in ("rnn", "lstm")}
    for length in sorted(set(index["rnn"]) & set(index["lstm"])):
        lstm = by_model["lstm"][index["lstm"][length]]
        rnn = by_model["rnn"][index["rnn"][length]]
        out.append(
            claims.compare_seeds(
                f"q6a.lstm_vs_rnn.L{length}",
                lstm["test_acc_seeds"],
                rnn["test_acc_seeds"],
                higher_is_better=True,
                names=("lstm", "rnn"),
                refs={
                    "a": f"/q6a/points/lstm/{index['lstm'][length]}/test_acc_seeds",
                    "b": f"/q6a/points/rnn/{index['rnn'][length]}/test_acc_seeds",
                },
                length=length,
            )
        )
        for seed in sorted(set(lstm["seeds"]) & set(rnn["seeds"])):
            pair = (correct.get(("lstm", length, seed)), correct.get(("rnn", length, seed)))
            if pair[0] is None or pair[1] is None:
                continue
            out.append(
                claims.compare_classifiers(
                    f"q6a.lstm_vs_rnn.L{length}.s{seed}",
                    pair[0],
                    pair[1],
                    names=("lstm", "rnn"),
                    length=length,
                    seed=seed,
                )
            )
    return out


def _per_seed(rows: list[dict[str, Any]], model: str, length: int, key: str) -> dict[int, float]:
    return {
        int(r["seed"]): r[key]
        for r in rows
        if r["model"] == model and r["length"] == length and r.get(key) is not None
    }


def paired_seed_claims(rows: list[dict[str, Any]], lengths: list[int]) -> list[dict[str, Any]]:
    """Statements about differences taken within one training seed (both models share it).

    - ``q6a.gap_trend``: the LSTM − RNN gap of each seed along log2(L) (does the lead grow?);
    - ``q6a.gain_lstm_vs_rnn``: each model's gain from the shortest to the longest length,
      per seed, LSTM vs RNN over seeds;
    - ``q6a.cut_drop.L{L}``: at the longest length, each model's accuracy on the reviews
      read whole minus on those cut short, per seed, RNN vs LSTM over seeds
      (``a_better`` = the RNN loses more when the end of the review is cut).
    """
    models = {r["model"] for r in rows}
    if not {"rnn", "lstm"} <= models or len(lengths) < 2:
        return []
    acc = {(m, n): _per_seed(rows, m, n, "test_acc") for m in ("rnn", "lstm") for n in lengths}
    xs, gaps = [], []
    for n in lengths:
        seeds = sorted(set(acc[("lstm", n)]) & set(acc[("rnn", n)]))
        if seeds:
            xs.append(math.log2(n))
            gaps.append([acc[("lstm", n)][s] - acc[("rnn", n)][s] for s in seeds])
    out = [claims.trend("q6a.gap_trend", xs, gaps, axis="log2 length", lengths=lengths)]
    first, last = lengths[0], lengths[-1]
    gain = {
        m: [acc[(m, last)][s] - acc[(m, first)][s] for s in sorted(acc[(m, first)])
            if s in acc[(m, last)]]
        for m in ("rnn", "lstm")
    }  # fmt: skip
    if gain["rnn"] and gain["lstm"]:
        out.append(
            claims.compare_seeds(
                "q6a.gain_lstm_vs_rnn", gain["lstm"], gain["rnn"], higher_is_better=True,
                names=("lstm", "rnn"), first_length=first, last_length=last,
            )
        )  # fmt: skip
    drop = {}
    for m in ("rnn", "lstm"):
        whole = _per_seed(rows, m, last, "test_acc_whole")
        cut = _per_seed(rows, m, last, "test_acc_cut")
        drop[m] = [whole[s] - cut[s] for s in sorted(whole) if s in cut]
    if drop["rnn"] and drop["lstm"]:
        out.append(
            claims.compare_seeds(
                f"q6a.cut_drop.L{last}", drop["rnn"], drop["lstm"], higher_is_better=True,
                names=("rnn", "lstm"), length=last, value="accuracy whole − accuracy cut",
                drops={"rnn": drop["rnn"], "lstm": drop["lstm"]},
            )
        )  # fmt: skip
    return out


def baseline_claims(
    by_model: dict[str, list[dict[str, Any]]],
    runs: list[dict[str, Any]],
    correct: dict[tuple[str, int, int], np.ndarray],
    baseline_correct: dict[str, np.ndarray],
) -> list[dict[str, Any]]:
    """The baseline vs each network's median seed, and vs the better network, per length."""
    out = []
    lengths = sorted({p["length"] for points in by_model.values() for p in points})
    for length in lengths:
        base = baseline_correct.get(f"L{length}")
        if base is None:
            continue
        mean_acc = {}
        for model, points in by_model.items():
            group = [r for r in runs if r["model"] == model and r["length"] == length]
            if not group:
                continue
            seed = _median_seed(group)
            net = correct.get((model, length, seed))
            if net is None:
                continue
            mean_acc[model] = next(p["test_acc"] for p in points if p["length"] == length)
            out.append(
                claims.compare_classifiers(
                    f"q6a.baseline_vs_{model}.L{length}",
                    base,
                    net,
                    names=(BASELINE, model),
                    length=length,
                    network=model,
                    seed=seed,
                )
            )
        if mean_acc:
            best = max(mean_acc, key=lambda m: (mean_acc[m], m))
            twin = next(c for c in out if c["id"] == f"q6a.baseline_vs_{best}.L{length}")
            out.append({**twin, "id": f"q6a.baseline_vs_best.L{length}"})
    return out


def with_points(claim: dict[str, Any]) -> dict[str, Any]:
    """The claim plus its numbers in percentage points, for printing (templates do no arithmetic).

    Extra fields only: `recompute` reads the evidence, never these.
    """
    ev = claim["evidence"]
    out = dict(claim)
    if claim["kind"] == "seeds":
        out["diff_pp"] = 100 * ev["diff"]
        out["ci95_pp"] = None if ev["ci95"] is None else [100 * v for v in ev["ci95"]]
    elif claim["kind"] == "mcnemar":
        out["diff_pp"] = 100 * (ev["acc_a"] - ev["acc_b"])
    elif claim["kind"] == "trend" and ev.get("slope") is not None:
        # x is log2(length): the slope is the change per doubling of the length.
        out["slope_pp"] = 100 * ev["slope"]
        out["ci95_pp"] = [100 * v for v in ev["ci95"]]
    return out


def load_baseline(
    baseline_json: str | Path | None, predictions: str | Path | None
) -> tuple[dict[str, Any] | None, dict[str, np.ndarray]]:
    """baseline.json and its per-variant test correctness (``L50`` ... ``full``)."""
    if baseline_json is None:
        return None, {}
    if predictions is None:
        raise RnnlabError("--baseline needs --baseline-predictions (the baseline's .npz).")
    summary = read_json(baseline_json)
    with np.load(predictions) as handle:
        correct = {
            name.removeprefix("correct_"): handle[name].astype(bool)
            for name in handle.files
            if name.startswith("correct_")
        }
    return summary, correct


def aggregate(
    metrics_paths: list[str | Path],
    prediction_paths: list[str | Path] | None = None,
    baseline_json: str | Path | None = None,
    baseline_predictions: str | Path | None = None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of the run table and the report summary (cells over seeds, with claims)."""
    runs, correct = load_runs(metrics_paths, prediction_paths)
    rows = _rows(runs)
    models = [m for m in CELLS if any(r["model"] == m for r in rows)]
    lengths = sorted({r["length"] for r in rows})
    by_model: dict[str, list[dict[str, Any]]] = {}
    for model in models:
        groups = [
            (length, [r for r in rows if r["model"] == model and r["length"] == length])
            for length in lengths
        ]
        by_model[model] = [_point(g, length) for length, g in groups if g]
    baseline, baseline_correct = load_baseline(baseline_json, baseline_predictions)
    found = network_claims(by_model, correct)
    found += baseline_claims(by_model, runs, correct, baseline_correct)
    found += paired_seed_claims(rows, lengths)
    n_bound = sum(bool(r["cap_bound"]) for r in rows)
    found.append(
        claims.versus_threshold(
            "q6a.cap_bound",
            n_bound,
            CAP_BOUND_THRESHOLD,
            "CAP_BOUND_THRESHOLD (no run ended at its epoch cap)",
            runs=[f"{r['model']}_L{r['length']}_s{r['seed']}" for r in rows if r["cap_bound"]],
        )
    )
    summary = {
        "models": models,
        "lengths": lengths,
        "seeds": sorted({r["seed"] for r in rows}),
        "runs": rows,
        "points": by_model,
        "trend": {m: _trend_summary(by_model[m]) for m in models},
        "comparison": _comparison(by_model, lengths),
        "n_seeds": min(p["n_seeds"] for points in by_model.values() for p in points),
        "n_runs": len(rows),
        "stopped_early": sum(bool(r["stopped_early"]) for r in rows),
        "cap_bound": n_bound,
        "total_train_seconds": sum(r["train_seconds"] for r in rows),
        "total_train_minutes": sum(r["train_seconds"] for r in rows) / 60,
        "total_cpu_seconds": _total([r.get("cpu_seconds") for r in rows]),
        "hyper": runs[0]["hyper"],
        "truncation": runs[0]["truncation"],
        "truncated_share": {
            str(r["length"]): r["truncated_share"] for r in runs if r["model"] == models[0]
        },
        "n_train": runs[0]["n_train"],
        "n_val": runs[0]["n_val"],
        "n_test": runs[0]["n_test"],
        "parameters": {m: next(r["parameters"] for r in rows if r["model"] == m) for m in models},
        "device": runs[0]["device"],
        "baseline": _baseline_summary(baseline, lengths),
        "several_seeds": len({r["seed"] for r in rows}) > 1,
        # The ids present, for templates that test whether an optional claim exists
        # (report_collect moves `claims` itself into results["claims"]["q6a"]).
        "claim_ids": [c["id"] for c in found],
        "claims": claims.collect(*(with_points(c) for c in found)),
    }
    return rows, summary


def _total(values: list[float | None]) -> float | None:
    return None if None in values else float(sum(values))  # type: ignore[arg-type]


def _comparison(
    by_model: dict[str, list[dict[str, Any]]], lengths: list[int]
) -> list[dict[str, Any]]:
    """Per length, both models' mean accuracies side by side (numbers only; verdicts are claims)."""
    if not {"rnn", "lstm"} <= set(by_model):
        return []
    out = []
    for length in lengths:
        acc = {
            m: next((p["test_acc"] for p in by_model[m] if p["length"] == length), None)
            for m in ("rnn", "lstm")
        }
        if None in acc.values():
            continue
        out.append(
            {
                "length": length,
                "rnn": acc["rnn"],
                "lstm": acc["lstm"],
                "lstm_minus_rnn": acc["lstm"] - acc["rnn"],  # type: ignore[operator]
                "claim": f"q6a.lstm_vs_rnn.L{length}",
            }
        )
    return out


def _baseline_summary(baseline: dict[str, Any] | None, lengths: list[int]) -> dict[str, Any] | None:
    """The baseline's numbers per network length (``points``) and on the full text."""
    if baseline is None:
        return None
    variants = baseline["variants"]
    points = [{"length": n, **variants[f"L{n}"]} for n in lengths if f"L{n}" in variants]
    return {
        "method": baseline["method"],
        "points": points,
        "full": variants.get("full"),
        "cpu_seconds": baseline["cpu_seconds"],
        "c_grid": baseline["c_grid"],
        "min_df": baseline["min_df"],
        "ngram_range": baseline["ngram_range"],
    }


def write_table(rows: list[dict[str, Any]], path: str | Path) -> None:
    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=TABLE_COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()}
                )

    atomic_write(path, write)


def plot_accuracy(summary: dict[str, Any], font_manifest: str | Path, figure: str | Path) -> None:
    """Test accuracy against length: mean ± sd over seeds, every seed, and the baseline."""
    import matplotlib.pyplot as plt

    from rnnlab.style import plots  # sets the Agg backend

    plots.setup_style(font_manifest)
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    for model in summary["models"]:
        points = summary["points"][model]
        several = any(p["n_seeds"] > 1 for p in points)
        style = plots.model_style(model)
        ax.errorbar(
            [p["length"] for p in points],
            [100 * p["test_acc"] for p in points],
            yerr=[100 * (p["test_acc_sd"] or 0.0) for p in points] if several else None,
            capsize=4 if several else 0,
            **style,
        )
        if several:  # every seed's own result, faint, behind the mean
            xs = [p["length"] for p in points for _ in p["test_acc_seeds"]]
            ys = [100 * v for p in points for v in p["test_acc_seeds"]]
            ax.scatter(
                xs, ys, color=style["color"], marker=style["marker"], s=12, alpha=0.35,
                linewidths=0, zorder=1,
            )  # fmt: skip
    baseline = summary.get("baseline")
    if baseline and baseline["points"]:
        style = plots.model_style(BASELINE)
        ax.plot(
            [p["length"] for p in baseline["points"]],
            [100 * p["test_acc"] for p in baseline["points"]],
            linestyle="--",
            **style,
        )
    # Lengths double from one to the next: a log axis spaces them evenly.
    ax.set_xscale("log", base=2)
    ax.set_xticks(summary["lengths"])
    ax.set_xticklabels([plots.plot_number(n) for n in summary["lengths"]])
    ax.minorticks_off()
    ax.axhline(50, color="0.6", linestyle=":", linewidth=1)
    ax.set_xlabel("طول دنباله (توکن)")
    ax.set_ylabel("دقت آزمون (٪)")
    ax.legend()
    ax.grid(True, alpha=0.3)
    plots.persian_ticks(ax)
    plots.save_figure(fig, figure)


def cmd_aggregate(args: argparse.Namespace) -> None:
    rows, summary = aggregate(
        args.metrics, args.predictions, args.baseline, args.baseline_predictions
    )
    write_table(rows, args.table)
    write_json(args.summary, summary)
    for row in rows:
        print(
            f"{row['model']:>4} L={row['length']:<4} seed={row['seed']} "
            f"test_acc {row['test_acc']:.4f} val_acc {row['val_acc']:.4f} "
            f"epochs {row['best_epoch']}/{row['epochs_run']}"
            f"{' cap' if row['cap_bound'] else ''}"
        )
    for cid, claim in summary["claims"].items():
        print(f"{cid}: {claim['verdict']}")


def cmd_plot(args: argparse.Namespace) -> None:
    plot_accuracy(read_json(args.summary), args.font, args.figure)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.sentiment.summary", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    agg = sub.add_parser("aggregate", help="table, summary and claims of all runs")
    agg.add_argument("--metrics", nargs="+", required=True)
    agg.add_argument(
        "--predictions", nargs="+", default=None,
        help="each run's predictions.npz (matched to metrics.json by directory)",
    )  # fmt: skip
    agg.add_argument("--baseline", default=None, help="baseline.json of the baseline rule")
    agg.add_argument("--baseline-predictions", default=None, help="the baseline's .npz")
    agg.add_argument("--table", required=True)
    agg.add_argument("--summary", required=True)
    agg.set_defaults(func=cmd_aggregate)
    plot = sub.add_parser("plot", help="accuracy-vs-length figure")
    plot.add_argument("--summary", required=True)
    plot.add_argument("--font", required=True, help="font manifest from the font rule")
    plot.add_argument("--figure", required=True)
    plot.set_defaults(func=cmd_plot)
    args = parser.parse_args(argv)
    args.func(args)
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
