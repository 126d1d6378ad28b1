"""Replay early-stopping rules on the recorded Q6-A validation curves of a finished run.

Not part of the pipeline. Each run's `curve.csv` holds one row per epoch it trained,
with the validation accuracy and the epoch's CPU seconds. A rule that stops no later
than the one the run used can be evaluated exactly on these curves: where it would
stop, which epoch it would keep, and how many CPU seconds it would have cost. A rule
that would train past a curve that ended before the cap is counted in `beyond curve`.

    python scripts/q6_stopping_replay.py results/sentiment/runs \\
        --patience 1 2 3 --min-delta 0.002 0.004 0.006 0.01 --min-epochs 0 4

`lost` is the best validation accuracy on the recorded curve minus the accuracy of the
epoch the rule keeps, in points. The test split is never read.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from rnnlab import training


@dataclass(frozen=True)
class Curve:
    name: str
    val_acc: list[float]
    cpu: list[float]
    other_cpu: float  # the run's CPU seconds outside its epochs (test scoring, set-up)
    max_epochs: int  # the run's cap: a curve that reached it ends where any rule would


@dataclass(frozen=True)
class Replay:
    epochs: int  # epochs the rule trains
    kept: int  # the epoch whose weights it keeps
    within_curve: bool  # False: the rule would train past the recorded curve


def load_curves(runs: Path) -> list[Curve]:
    curves = []
    for run in sorted(p for p in runs.iterdir() if (p / "curve.csv").exists()):
        with open(run / "curve.csv", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        cpu = [float(r["cpu_seconds"]) for r in rows]
        metrics = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
        curves.append(Curve(run.name, [float(r["val_acc"]) for r in rows], cpu,
                            float(metrics["cpu_seconds"]) - sum(cpu),
                            int(metrics["max_epochs"])))  # fmt: skip
    if not curves:
        raise SystemExit(f"no run folder with a curve.csv under {runs}")
    return curves


def replay(val_acc: list[float], patience: int, min_delta: float, min_epochs: int) -> Replay:
    """The engine's rule, with its own improvement test (`rnnlab.training`): stop after
    `patience` epochs in a row that do not beat the best by more than min_delta.
    `min_epochs` (no stop before that epoch) is a candidate rule the engine does not have."""
    best, kept, bad = math.nan, 0, 0
    for epoch, value in enumerate(val_acc, start=1):
        if training._improved(value, best, "max", min_delta):
            best, kept, bad = value, epoch, 0
        else:
            bad += 1
        if bad >= patience and epoch >= min_epochs:
            return Replay(epoch, kept, True)
    return Replay(len(val_acc), kept, False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=Path, help="results/sentiment/runs of a finished run")
    parser.add_argument("--patience", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--min-delta", type=float, nargs="+", default=[0.002])
    parser.add_argument("--min-epochs", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    curves = load_curves(args.runs)
    print("| patience | min_delta | no stop before | CPU-s | epochs | lost, mean / max (points) "
          "| runs losing > 0.5 | beyond curve |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for patience, min_delta, min_epochs in itertools.product(
        args.patience, args.min_delta, args.min_epochs
    ):
        cpu, epochs, lost, beyond = 0.0, 0, [], 0
        for curve in curves:
            r = replay(curve.val_acc, patience, min_delta, min_epochs)
            beyond += not r.within_curve and r.epochs < curve.max_epochs
            cpu += sum(curve.cpu[: r.epochs]) + curve.other_cpu
            epochs += r.epochs
            lost.append(100 * (max(curve.val_acc) - curve.val_acc[r.kept - 1]))
        print(f"| {patience} | {min_delta} | {min_epochs or '–'} | {cpu:,.0f} | {epochs} "
              f"| {sum(lost) / len(lost):.2f} / {max(lost):.2f} | {sum(x > 0.5 for x in lost)} "
              f"| {beyond} |")  # fmt: skip


if __name__ == "__main__":
    main()
