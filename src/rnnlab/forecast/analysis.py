"""Q7 summary: every number and every claim the chapter states, from the runs and baselines.

`summary` reads prep.json, each run's metrics.json and predictions.npz (one run per
model x window length x seed), the baselines (baselines.json, errors.npz) and the
gate analysis (gates.json), and writes results/forecast/summary.json (`r.q7`).

Numbers: every per-run quantity is summarised over seeds as mean ± sd (`stat`).

Claims (`summary["claims"]`, ids `q7.a.*` … `q7.e.*`): every comparison between two
forecasters is made twice, on the same test targets:
- `<id>`: a paired moving-block bootstrap (claims.compare_forecasters) on the
  per-target error averaged over seeds, e_t = sqrt(mean_s e_{s,t}^2). Its mean square
  is exactly the seed-mean test MSE the table prints, so the test asks whether the
  table's difference survives resampling the (autocorrelated) targets, seeds fixed;
  we do not average the forecasts themselves, which would test an ensemble that no
  table shows.
- `<id>.seeds`: Welch's interval over the per-seed test MSEs (claims.compare_seeds),
  which carries the seed-to-seed spread the bootstrap holds fixed. Baselines are
  deterministic: their side is the one value repeated, which makes this a one-sample
  t interval of the network's seeds around it.
A sentence calls a winner only where both agree (the template words each verdict).
Picks (best, fastest, best trade-off, fastest to converge) are claims.pick: a tie
unless the first beats the runner-up over seeds. Time picks use the job's CPU seconds
(machine-dependent, and said so in the text).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab import claims as cl
from rnnlab.errors import RnnlabError
from rnnlab.forecast.baselines import best_lag
from rnnlab.forecast.models import ABLATIONS, ARCHITECTURES
from rnnlab.runtime import cli, read_json, write_json

# The ablation's full LSTM is the part-a LSTM (FixedGateLSTM with no gate fixed is nn.LSTM).
ABLATION_VARIANTS = ("lstm", *[name for name in ABLATIONS if ABLATIONS[name]])
GATED = tuple(m for m in ARCHITECTURES if m != "rnn")
#: A lag of more than this many steps counts as "trailing the truth" (q7.a.lag_*).
LAG_THRESHOLD = 0.5
#: Persistence's validation/test MSE ratio above this says validation is the harder season.
SEASON_RATIO = 1.0

Runs = dict[tuple[str, int], list[dict[str, Any]]]


def stat(values: list[float]) -> dict[str, Any]:
    """Mean ± sd (sample, None with one seed) and the per-seed values."""
    summary = cl.mean_sd_ci(values)
    return {"mean": summary["mean"], "sd": summary["sd"], "values": [float(v) for v in values]}


def _get(metrics: dict[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        node: Any = metrics
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            return node
    return default


def run_record(metrics: dict[str, Any], predictions: dict[str, np.ndarray]) -> dict[str, Any]:
    """The numbers of one run that the summary uses, plus its per-target test errors."""
    history = metrics.get("history", [])
    epoch_cpu = [h["cpu_seconds"] for h in history if "cpu_seconds" in h]
    cpu = _get(metrics, "cpu_seconds", default=float(np.sum(epoch_cpu)) if epoch_cpu else 0.0)
    return {
        "model": metrics["model"],
        "length": int(metrics["length"]),
        "seed": int(_get(metrics, "seed", "config.seed", default=0)),
        "mse": metrics["test"]["mse"],
        "mae": metrics["test"]["mae"],
        "mae_kw": metrics["test"]["mae_kw"],
        "skill": 1.0 - metrics["test"]["mse"] / metrics["persistence"]["mse"],
        "cpu_seconds": float(cpu),
        "epoch_cpu_seconds": float(np.mean(epoch_cpu))
        if epoch_cpu
        else float(metrics.get("mean_epoch_cpu_seconds", 0.0)),
        "parameters": metrics["trainable_parameters"],
        "epochs_to_90pct_skill": _get(
            metrics, "epochs_to_90pct_skill", "convergence_epochs.gain_90pct"
        ),
        "best_epoch": metrics.get("best_epoch"),
        "epochs_run": _get(metrics, "epochs_run", default=len(history)),
        "stopped_early": bool(metrics.get("stopped_early", False)),
        "cap_bound": bool(metrics.get("cap_bound", False)),
        "best_val_mse": metrics.get("best_val_mse"),
        "val_curve": [h["val_mse"] for h in history],
        "targets": np.asarray(predictions["targets"]),
        "pred": np.asarray(predictions["pred"], dtype=np.float64),
        "y": np.asarray(predictions["y"], dtype=np.float64),
        "persistence_val_mse": _get(metrics, "persistence.val_mse"),
    }


def seed_rms_errors(runs: list[dict[str, Any]]) -> np.ndarray:
    """Per-target sqrt(mean over seeds of squared error); its mean square is the seed-mean MSE."""
    squared = np.stack([(r["pred"] - r["y"]) ** 2 for r in runs])
    return np.sqrt(squared.mean(axis=0))


def row(runs: list[dict[str, Any]], targets: np.ndarray) -> dict[str, Any]:
    """Table row of one model and length: mean ± sd over seeds of each quantity."""
    out: dict[str, Any] = {"n_seeds": len(runs), "seeds": [r["seed"] for r in runs]}
    for key in (
        "mse",
        "mae",
        "mae_kw",
        "skill",
        "cpu_seconds",
        "epoch_cpu_seconds",
        "best_epoch",
        "epochs_run",
    ):
        out[key] = stat([float(r[key]) for r in runs])
    conv = [r["epochs_to_90pct_skill"] for r in runs]
    out["epochs_to_90pct_skill"] = stat([float(c) for c in conv]) if None not in conv else None
    out["parameters"] = runs[0]["parameters"]
    out["stopped_early"] = sum(r["stopped_early"] for r in runs)
    out["cap_bound"] = sum(r["cap_bound"] for r in runs)
    out["val_curves"] = [r["val_curve"] for r in runs]
    lags = [best_lag(r["pred"], r["y"], targets)["lag"] for r in runs]
    out["lag"] = stat([float(v) for v in lags])
    return out


class Evidence:
    """Per-seed scores and seed-averaged test errors of every forecaster, networks and baselines."""

    def __init__(self, runs: Runs, baselines: dict[str, Any], errors: dict[str, np.ndarray]):
        self.runs, self.baselines, self.errors = runs, baselines, errors
        self.n_seeds = max(len(v) for v in runs.values())

    def is_baseline(self, name: str) -> bool:
        return name in ("persistence", "seasonal_naive", "ridge")

    def err(self, name: str, length: int) -> np.ndarray:
        if self.is_baseline(name):
            return self.errors[f"{name}_L{length}"]
        return seed_rms_errors(self.runs[(name, length)])

    def seeds(self, name: str, length: int, key: str = "mse") -> list[float]:
        if self.is_baseline(name):
            return [self.baselines["by_length"][str(length)][name][key]] * self.n_seeds
        return [float(r[key]) for r in self.runs[(name, length)]]

    def pair(self, claim_id: str, a: str, b: str, length: int) -> list[dict[str, Any]]:
        """The paired test on the same targets and the comparison over seeds, a vs b."""
        ea, eb = self.err(a, length), self.err(b, length)
        mse_a, mse_b = float(np.mean(ea**2)), float(np.mean(eb**2))
        # > 0: a's seed-mean test MSE is lower than b's by this share of b's.
        gain = 1.0 - mse_a / mse_b
        # The template words the direction from `direction` and prints `gain_abs`.
        extra = {
            "pair": [a, b],
            "window": length,
            "n_seeds": self.n_seeds,
            "gain": gain,
            "gain_abs": abs(gain),
            "direction": "lower" if gain > 0 else "higher",
        }
        paired = cl.compare_forecasters(claim_id, ea, eb, names=(a, b), **extra)
        seeds = cl.compare_seeds(
            f"{claim_id}.seeds",
            self.seeds(a, length),
            self.seeds(b, length),
            higher_is_better=False,
            names=(a, b),
            **extra,
        )
        return [paired, seeds]

    def pick(
        self, claim_id: str, names: list[str], length: int, key: str, higher_is_better: bool = False
    ) -> dict[str, Any]:
        """Best of `names` by the seed mean of `key`; a tie unless it beats the runner-up."""
        scores = {m: float(np.mean(self.seeds(m, length, key))) for m in names}
        ranked = sorted(scores, key=lambda m: scores[m], reverse=higher_is_better)
        inner = cl.compare_seeds(
            f"{claim_id}.runner_up",
            self.seeds(ranked[0], length, key),
            self.seeds(ranked[1], length, key),
            higher_is_better=higher_is_better,
            names=(ranked[0], ranked[1]),
        )
        return cl.pick(
            claim_id,
            scores,
            inner,
            higher_is_better=higher_is_better,
            key=key,
            window=length,
            machine_dependent=key == "cpu_seconds",
        )


def tradeoff_pick(ev: Evidence, claim_id: str, length: int) -> dict[str, Any]:
    """Cheapest (job CPU seconds) among the models not worse than the most accurate over seeds."""
    mses = {m: float(np.mean(ev.seeds(m, length))) for m in ARCHITECTURES}
    best = min(mses, key=lambda m: mses[m])
    near = [best] + [
        m
        for m in ARCHITECTURES
        if m != best
        and cl.compare_seeds(
            "tmp", ev.seeds(best, length), ev.seeds(m, length), higher_is_better=False
        )["verdict"]
        == cl.INDISTINGUISHABLE
    ]
    if len(near) == 1:
        # Only the most accurate is accurate enough: it is the trade-off unless it ties.
        return ev.pick(claim_id, list(ARCHITECTURES), length, "mse") | {
            "candidates": near,
            "machine_dependent": True,
        }
    claim = ev.pick(claim_id, near, length, "cpu_seconds")
    return claim | {"candidates": near, "most_accurate": best}


def part_a(ev: Evidence, length: int, targets: np.ndarray) -> tuple[dict[str, Any], list]:
    rows = {m: row(ev.runs[(m, length)], targets) for m in ARCHITECTURES}
    claims: list[dict[str, Any]] = []
    for m in ARCHITECTURES:
        claims += ev.pair(f"q7.a.{m}_vs_ridge", m, "ridge", length)
        claims += ev.pair(f"q7.a.{m}_vs_persistence", m, "persistence", length)
        claims.append(
            cl.versus_threshold(
                f"q7.a.lag_{m}", rows[m]["lag"]["mean"], LAG_THRESHOLD, "half a step", model=m
            )
        )
    for m in ("gru", "bilstm", "rnn"):
        claims += ev.pair(f"q7.a.{m}_vs_lstm", m, "lstm", length)
    claims.append(ev.pick("q7.a.best", list(ARCHITECTURES), length, "mse"))
    claims.append(ev.pick("q7.a.fastest", list(ARCHITECTURES), length, "cpu_seconds"))
    if all(rows[m]["epochs_to_90pct_skill"] is not None for m in ARCHITECTURES):
        claims.append(
            ev.pick(
                "q7.a.fastest_convergence", list(ARCHITECTURES), length, "epochs_to_90pct_skill"
            )
        )
    claims.append(tradeoff_pick(ev, "q7.a.tradeoff", length))
    lstm = rows["lstm"]
    ratios = {
        m: {
            "param_ratio": rows[m]["parameters"] / lstm["parameters"],
            "time_ratio": rows[m]["cpu_seconds"]["mean"] / lstm["cpu_seconds"]["mean"],
            "epoch_time_ratio": rows[m]["epoch_cpu_seconds"]["mean"]
            / lstm["epoch_cpu_seconds"]["mean"],
            # > 0: lower seed-mean test MSE than the LSTM by this share (Q2/Q3 quote it).
            "mse_gain": 1.0 - rows[m]["mse"]["mean"] / lstm["mse"]["mean"],
        }
        for m in ARCHITECTURES
    }
    part = {
        "length": length,
        "rows": rows,
        "order": list(ARCHITECTURES),
        "ranking": sorted(rows, key=lambda m: rows[m]["mse"]["mean"]),
        "vs_lstm": ratios,
        "baselines": ev.baselines["by_length"][str(length)],
        # Quoted by Q2-g/Q3-b (report.xref): parameter and time ratios against the LSTM.
        "bilstm_vs_lstm": ratios["bilstm"],
        "gru_vs_lstm": ratios["gru"],
    }
    return part, claims


def part_c(ev: Evidence, lengths: list[int], targets: np.ndarray) -> tuple[dict[str, Any], list]:
    short, long = min(lengths), max(lengths)
    table = {m: {str(n): row(ev.runs[(m, n)], targets) for n in lengths} for m in ARCHITECTURES}
    claims: list[dict[str, Any]] = []
    for n in lengths:
        for m in ARCHITECTURES:
            claims += ev.pair(f"q7.c.{m}_vs_ridge_L{n}", m, "ridge", n)
        for m in GATED:
            claims += ev.pair(f"q7.c.{m}_vs_rnn_L{n}", m, "rnn", n)
        claims += ev.pair(f"q7.c.gru_vs_lstm_L{n}", "gru", "lstm", n)
        claims += ev.pair(f"q7.c.bilstm_vs_lstm_L{n}", "bilstm", "lstm", n)
        claims.append(ev.pick(f"q7.c.best_L{n}", list(ARCHITECTURES), n, "mse"))
    degradation: dict[str, Any] = {}
    for m in ARCHITECTURES:
        claims.append(
            cl.trend(f"q7.c.trend_{m}", lengths, [ev.seeds(m, n) for n in lengths], model=m)
        )
        per_seed = [
            lo / sh - 1.0 for lo, sh in zip(ev.seeds(m, long), ev.seeds(m, short), strict=True)
        ]
        degradation[m] = stat(per_seed)
    # Does the Simple RNN fall further behind the LSTM as the window grows? (per-seed gap)
    gaps = [
        [a - b for a, b in zip(ev.seeds("rnn", n), ev.seeds("lstm", n), strict=True)]
        for n in lengths
    ]
    claims.append(cl.trend("q7.c.rnn_gap_trend", lengths, gaps))
    absolute = {m: [abs(v) for v in degradation[m]["values"]] for m in ARCHITECTURES}
    ranked = sorted(absolute, key=lambda m: float(np.mean(absolute[m])))
    inner = cl.compare_seeds(
        "q7.c.most_stable.runner_up",
        absolute[ranked[0]],
        absolute[ranked[1]],
        higher_is_better=False,
        names=tuple(ranked[:2]),
    )
    claims.append(
        cl.pick(
            "q7.c.most_stable",
            {m: float(np.mean(absolute[m])) for m in absolute},
            inner,
            higher_is_better=False,
        )
    )
    part = {
        "lengths": lengths,
        "short": short,
        "long": long,
        "table": table,
        "degradation": degradation,
        "rnn_gap": [stat(g) for g in gaps],
        "baselines": {str(n): ev.baselines["by_length"][str(n)] for n in lengths},
    }
    return part, claims


def part_e(ev: Evidence, length: int, targets: np.ndarray) -> tuple[dict[str, Any], list]:
    rows = {m: row(ev.runs[(m, length)], targets) for m in ABLATION_VARIANTS}
    claims: list[dict[str, Any]] = []
    for m in ABLATION_VARIANTS[1:]:
        claims += ev.pair(f"q7.e.{m}_vs_full", m, "lstm", length)
        claims += ev.pair(f"q7.e.{m}_vs_ridge", m, "ridge", length)
        claims += ev.pair(f"q7.e.{m}_vs_persistence", m, "persistence", length)
        claims.append(
            cl.compare_seeds(
                f"q7.e.{m}_time_vs_full",
                ev.seeds(m, length, "epoch_cpu_seconds"),
                ev.seeds("lstm", length, "epoch_cpu_seconds"),
                higher_is_better=False,
                names=(m, "lstm"),
                machine_dependent=True,
            )
        )
    claims += ev.pair(
        "q7.e.forget_only_vs_input_only", "lstm_forget_only", "lstm_input_only", length
    )
    claims.append(ev.pick("q7.e.best", list(ABLATION_VARIANTS), length, "mse"))
    full = rows["lstm"]["mse"]["mean"]
    part = {
        "length": length,
        "rows": rows,
        "order": list(ABLATION_VARIANTS),
        "ranking": sorted(rows, key=lambda m: rows[m]["mse"]["mean"]),
        "loss_vs_full": {m: rows[m]["mse"]["mean"] / full - 1.0 for m in rows},
        "baselines": ev.baselines["by_length"][str(length)],
    }
    return part, claims


def part_d(ev: Evidence, length: int) -> tuple[dict[str, Any], list]:
    """The season shift between validation (winter) and test (summer), from persistence."""
    base = ev.baselines["by_length"][str(length)]["persistence"]
    ratio = base["val_mse"] / base["mse"]
    claim = cl.versus_threshold(
        "q7.d.season_shift",
        ratio,
        SEASON_RATIO,
        "equal difficulty",
        val_mse=base["val_mse"],
        test_mse=base["mse"],
    )
    return {
        "persistence_val_mse": base["val_mse"],
        "persistence_test_mse": base["mse"],
        "val_over_test": ratio,
    }, [claim]


def interval_claims(
    claim_id: str, ci95: list[float], null: float = 0.0, **extra: Any
) -> list[dict[str, Any]]:
    """An interval against a null value as two threshold claims: `.above` (its lower end is
    above the null) and `.below` (its upper end is below it); neither: undetermined."""
    return [
        cl.versus_threshold(f"{claim_id}.above", ci95[0], null, "null value", ci95=ci95, **extra),
        cl.versus_threshold(f"{claim_id}.below", ci95[1], null, "null value", ci95=ci95, **extra),
    ]


#: The forget gate "stays within a narrow band" when its largest temporal spread (sd over a
#: window's steps of the unit-mean gate) is below this.
NARROW_SPREAD = 0.05


def part_b(gates: dict[str, Any]) -> list[dict[str, Any]]:
    claims: list[dict[str, Any]] = []
    for layer in gates["layers"]:
        k = layer["layer"]
        spread = layer["gates"]["lstm_forget"]["temporal_spread_max"]
        claims.append(
            cl.versus_threshold(
                f"q7.b.forget_spread_l{k}", spread, NARROW_SPREAD, "NARROW_SPREAD", layer=k
            )
        )
        for pair in ("update_forget", "one_minus_update_input"):
            p = layer["partial"][pair]
            claims += interval_claims(
                f"q7.b.{pair}_partial_l{k}", p["ci95"], layer=k, r=p["r"], raw=p["raw"]
            )
        rem = layer["remember"]
        for key in ("level_diff", "change_diff"):
            claims += interval_claims(
                f"q7.b.remember_{key}_l{k}", rem[key]["ci95"], layer=k, estimate=rem[key]["value"]
            )
    return claims


def build_summary(
    prep: dict[str, Any],
    runs: Runs,
    baselines: dict[str, Any],
    errors: dict[str, np.ndarray],
    gates: dict[str, Any],
    setup: dict[str, Any],
) -> dict[str, Any]:
    lengths = sorted(int(n) for n in baselines["lengths"])
    main_length = int(setup["main_length"])
    missing = [(m, n) for m in ARCHITECTURES for n in lengths if (m, n) not in runs]
    missing += [(m, main_length) for m in ABLATION_VARIANTS if (m, main_length) not in runs]
    if missing:
        raise RnnlabError(f"Q7 summary is missing runs {missing}; rerun the forecast rules.")
    targets = errors["targets"]
    for key, group in runs.items():
        for r in group:
            if not np.array_equal(r["targets"], targets):
                raise RnnlabError(
                    f"run {key} seed {r['seed']} was scored on other test targets "
                    "than the baselines; rerun it with the same forecast.lengths."
                )
    ev = Evidence(runs, baselines, errors)
    a, claims_a = part_a(ev, main_length, targets)
    c, claims_c = part_c(ev, lengths, targets)
    e, claims_e = part_e(ev, main_length, targets)
    d, claims_d = part_d(ev, main_length)
    every = [r for group in runs.values() for r in group]
    return {
        "data": {
            k: prep[k]
            for k in (
                "minute_rows",
                "missing_rows",
                "missing_row_share",
                "absent_minutes",
                "first",
                "last",
                "resolution_minutes",
                "min_coverage",
                "max_gap_steps",
                "steps",
                "missing_steps",
                "interpolated_steps",
                "unfilled_steps",
                "splits",
                "target",
                "target_std",
                "target_mean",
                "features",
                "text_sha256",
            )
            if k in prep
        }
        # The template's unit word: "hour" when one step is an hour.
        | {"hourly": prep.get("resolution_minutes") == 60},
        "setup": setup,
        "n_seeds": ev.n_seeds,
        "train_subsample": 1,
        "n_runs": len(every),
        "n_test": int(len(targets)),
        "windows": {"test": int(len(targets))},
        "runs_stopped_early": sum(r["stopped_early"] for r in every),
        "runs_cap_bound": sum(r["cap_bound"] for r in every),
        "cpu_seconds_training": float(sum(r["cpu_seconds"] for r in every)),
        "baselines": baselines,
        "a": a,
        "b": gates,
        "c": c,
        "d": d,
        "e": e,
        "claims": cl.collect(*claims_a, *part_b(gates), *claims_c, *claims_d, *claims_e),
    }


def load_runs(metrics_paths: list[str]) -> Runs:
    """Runs keyed by (model, length), seeds in order; predictions.npz sits beside metrics.json."""
    runs: Runs = {}
    for path in metrics_paths:
        metrics = read_json(path)
        with np.load(Path(path).parent / "predictions.npz") as data:
            record = run_record(metrics, {k: data[k] for k in ("targets", "pred", "y")})
        runs.setdefault((record["model"], record["length"]), []).append(record)
    for group in runs.values():
        group.sort(key=lambda r: r["seed"])
    return runs


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.forecast.analysis")
    parser.add_argument("--prep", required=True)
    parser.add_argument("--gates", required=True)
    parser.add_argument("--baselines", required=True, help="baselines.json")
    parser.add_argument("--baseline-errors", required=True, help="errors.npz of the baselines")
    parser.add_argument(
        "--metrics",
        action="append",
        required=True,
        help="a run's metrics.json (predictions.npz beside it)",
    )
    parser.add_argument("--setup", required=True, help="JSON: shared training settings")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    with np.load(args.baseline_errors) as data:
        errors = {k: data[k] for k in data.files}
    summary = build_summary(
        read_json(args.prep),
        load_runs(args.metrics),
        read_json(args.baselines),
        errors,
        read_json(args.gates),
        json.loads(args.setup),
    )
    write_json(Path(args.out), summary)
    verdicts = {k: v["verdict"] for k, v in summary["claims"].items() if v["kind"] == "pick"}
    print(json.dumps({"claims": len(summary["claims"]), "picks": verdicts}), flush=True)
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
