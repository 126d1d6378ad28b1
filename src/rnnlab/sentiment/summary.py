"""Q6-A results: the table of all runs, the report summary and the accuracy-vs-length figure.

    python -m rnnlab.sentiment.summary aggregate --metrics run/metrics.json ... \\
        --table accuracy.csv --summary summary.json
    python -m rnnlab.sentiment.summary plot --summary summary.json --font fonts.json \\
        --figure accuracy_vs_length.svg

Kept apart from `rnnlab.sentiment.train` so that editing the table or the figure does not
invalidate the trained models (Snakemake reruns a job when its code changes).
The summary states every comparison the report makes (winner and margin per
length, trend per model) so templates never hard-code a winner.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path
from typing import Any

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
    "train_seconds",
    "tokens_per_s",
    "parameters",
    "test_acc_cut",
    "test_acc_whole",
)


def _mean_std(values: list[float]) -> tuple[float, float]:
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var)


def _mean_or_none(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


def aggregate(metrics_paths: list[str | Path]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of the run table and the report summary (per model and length, seeds pooled)."""
    if not metrics_paths:
        raise RnnlabError("no run metrics to aggregate; configure sentiment.models and lengths.")
    runs = [read_json(p) for p in metrics_paths]
    rows = sorted(
        ({k: run.get(k) for k in TABLE_COLUMNS} for run in runs),
        key=lambda r: (CELLS.index(r["model"]), r["length"], r["seed"]),
    )
    models = [m for m in CELLS if any(r["model"] == m for r in rows)]
    lengths = sorted({r["length"] for r in rows})
    seeds = sorted({r["seed"] for r in rows})

    by_model: dict[str, list[dict[str, Any]]] = {}
    trend: dict[str, dict[str, Any]] = {}
    for model in models:
        points = []
        for length in lengths:
            group = [r for r in rows if r["model"] == model and r["length"] == length]
            if not group:
                continue
            test_mean, test_std = _mean_std([r["test_acc"] for r in group])
            val_mean, val_std = _mean_std([r["val_acc"] for r in group])
            points.append(
                {
                    "length": length,
                    "n_seeds": len(group),
                    "test_acc": test_mean,
                    "test_acc_std": test_std,
                    "val_acc": val_mean,
                    "val_acc_std": val_std,
                    "best_epoch": _mean_std([r["best_epoch"] for r in group])[0],
                    "epochs_run": _mean_std([r["epochs_run"] for r in group])[0],
                    "train_seconds": _mean_std([r["train_seconds"] for r in group])[0],
                    "tokens_per_s": _mean_std([r["tokens_per_s"] for r in group])[0],
                    # accuracy on the test reviews the cut shortened vs those read whole
                    "test_acc_cut": _mean_or_none([r.get("test_acc_cut") for r in group]),
                    "test_acc_whole": _mean_or_none([r.get("test_acc_whole") for r in group]),
                }
            )
        best = max(points, key=lambda p: p["test_acc"])
        worst = min(points, key=lambda p: p["test_acc"])
        by_model[model] = points
        trend[model] = {
            "first_length": points[0]["length"],
            "last_length": points[-1]["length"],
            "change": points[-1]["test_acc"] - points[0]["test_acc"],
            "best_length": best["length"],
            "best_acc": best["test_acc"],
            "worst_length": worst["length"],
            "worst_acc": worst["test_acc"],
            "spread": best["test_acc"] - worst["test_acc"],
        }

    comparison = []
    if {"rnn", "lstm"} <= set(models):
        for length in lengths:
            point = {
                m: next((p for p in by_model[m] if p["length"] == length), None)
                for m in ("rnn", "lstm")
            }
            if None in point.values():
                continue
            acc = {m: point[m]["test_acc"] for m in point}
            winner = "lstm" if acc["lstm"] >= acc["rnn"] else "rnn"
            margin = abs(acc["lstm"] - acc["rnn"])
            # With several seeds a gap counts as real only when it exceeds the two
            # seed spreads together (a conservative, assumption-free reading).
            spread = point["rnn"]["test_acc_std"] + point["lstm"]["test_acc_std"]
            several = min(point["rnn"]["n_seeds"], point["lstm"]["n_seeds"]) > 1
            comparison.append(
                {
                    "length": length,
                    "rnn": acc["rnn"],
                    "lstm": acc["lstm"],
                    "winner": winner,
                    "margin": margin,
                    "lstm_minus_rnn": acc["lstm"] - acc["rnn"],
                    "seed_spread": spread,
                    "beyond_spread": (margin > spread) if several else None,
                }
            )
    summary = {
        "models": models,
        "lengths": lengths,
        "seeds": seeds,
        "runs": rows,
        "points": by_model,
        "trend": trend,
        "comparison": comparison,
        "lstm_wins": sum(1 for c in comparison if c["winner"] == "lstm"),
        "n_seeds": min(p["n_seeds"] for points in by_model.values() for p in points),
        "total_train_seconds": sum(r["train_seconds"] for r in rows),
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
    }
    return rows, summary


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
    """Test accuracy against length, both models on one axis; error bars = std over seeds."""
    import matplotlib.pyplot as plt

    from rnnlab.style import plots  # sets the Agg backend

    plots.setup_style(font_manifest)
    fig, ax = plt.subplots(figsize=(6.0, 3.8))
    for model in summary["models"]:
        points = summary["points"][model]
        xs = [p["length"] for p in points]
        ys = [100 * p["test_acc"] for p in points]
        errs = [100 * p["test_acc_std"] for p in points]
        several = any(p["n_seeds"] > 1 for p in points)
        style = plots.model_style(model)
        ax.errorbar(
            xs, ys, yerr=errs if several else None, capsize=4 if several else 0, **style
        )
        if several:  # every seed's own result, faint, behind the mean
            runs = [r for r in summary["runs"] if r["model"] == model]
            ax.scatter(
                [r["length"] for r in runs],
                [100 * r["test_acc"] for r in runs],
                color=style["color"],
                marker=style["marker"],
                s=12,
                alpha=0.35,
                linewidths=0,
                zorder=1,
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
    rows, summary = aggregate(args.metrics)
    write_table(rows, args.table)
    write_json(args.summary, summary)
    for row in rows:
        print(
            f"{row['model']:>4} L={row['length']:<4} seed={row['seed']} "
            f"test_acc {row['test_acc']:.4f} val_acc {row['val_acc']:.4f} "
            f"{row['train_seconds']:.0f}s"
        )


def cmd_plot(args: argparse.Namespace) -> None:
    plot_accuracy(read_json(args.summary), args.font, args.figure)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.sentiment.summary", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    agg = sub.add_parser("aggregate", help="table and summary of all runs")
    agg.add_argument("--metrics", nargs="+", required=True)
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
