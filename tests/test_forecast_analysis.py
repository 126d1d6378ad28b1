"""Q7 summary: seed statistics, paired claims against baselines, picks, verdict flips."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnnlab import claims as cl
from rnnlab.forecast import analysis, baselines, gates
from rnnlab.forecast.models import ABLATIONS, ARCHITECTURES, Forecaster

LENGTHS = [30, 60, 120]
N = 400


def _truth() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.cumsum(rng.normal(0, 0.3, N)) * 0.2 + np.sin(np.arange(N) / 4)
    return np.arange(1000, 1000 + N), y


def _metrics(model: str, length: int, seed: int, mse: float, cpu: float) -> dict:
    return {
        "model": model,
        "length": length,
        "seed": seed,
        "test": {"mse": mse, "mae": mse, "mae_kw": mse},
        "persistence": {"mse": 0.4, "val_mse": 0.55},
        "trainable_parameters": 1000 * (2 if model == "bilstm" else 1),
        "history": [{"val_mse": 0.5, "cpu_seconds": cpu / 5}] * 5,
        "cpu_seconds": cpu,
        "epochs_to_90pct_skill": 3 + seed % 2,
        "best_epoch": 4,
        "epochs_run": 5,
        "stopped_early": True,
        "cap_bound": False,
    }


def study(
    noise: dict[str, float],
    ridge_noise: float = 0.5,
    seeds: int = 3,
    cpu: dict[str, float] | None = None,
):
    """Runs whose forecasts are the truth plus seeded noise of a per-model scale."""
    targets, y = _truth()
    rng = np.random.default_rng(1)
    errors = {"targets": targets, "y": y}
    by_length = {}
    for n in LENGTHS:
        for name, scale in (("persistence", 0.9), ("seasonal_naive", 1.2), ("ridge", ridge_noise)):
            errors[f"{name}_L{n}"] = rng.normal(0, scale, N)
        by_length[str(n)] = {
            name: {
                "mse": float(np.mean(errors[f"{name}_L{n}"] ** 2)),
                "mae": 0.0,
                "val_mse": 0.55 if name == "persistence" else 0.5,
            }
            for name in baselines.BASELINES
        }
        # Validation harder than test, as on the real data (winter against summer).
        by_length[str(n)]["persistence"]["val_mse"] = 1.4 * by_length[str(n)]["persistence"]["mse"]
    base = {"lengths": LENGTHS, "by_length": by_length}
    runs: analysis.Runs = {}
    models = [(m, n) for m in ARCHITECTURES for n in LENGTHS]
    models += [(m, 60) for m in ABLATIONS if ABLATIONS[m]]
    for m, n in models:
        for s in range(seeds):
            pred = y + rng.normal(0, noise.get(m, 0.5), N)
            mse = float(np.mean((pred - y) ** 2))
            seconds = (cpu or {}).get(m, 10.0) * (1 + 0.01 * s)
            record = analysis.run_record(
                _metrics(m, n, s, mse, seconds), {"targets": targets, "pred": pred, "y": y}
            )
            runs.setdefault((m, n), []).append(record)
    return runs, base, errors


def _gates() -> dict:
    torch.manual_seed(0)
    x = np.random.default_rng(2).normal(size=(30, 12, 7)).astype(np.float32)
    stats, _, _ = gates.analyse(
        Forecaster("lstm", 7, 4, 2), Forecaster("gru", 7, 4, 2), x, 0, seed=0, sample=10
    )
    return stats


@pytest.fixture(scope="module")
def gate_stats() -> dict:
    return _gates()


def summarise(runs, base, errors, gate_stats):
    return analysis.build_summary({}, runs, base, errors, gate_stats, {"main_length": 60})


def test_summary_claims_hold_and_cover_every_part(gate_stats) -> None:
    runs, base, errors = study({m: 0.5 for m in ARCHITECTURES})
    summary = summarise(runs, base, errors, gate_stats)
    claims = summary["claims"]
    assert {cid.split(".")[1] for cid in claims} == {"a", "b", "c", "d", "e"}
    assert cl.check_claims({"claims": {"q7": claims}}) == []
    row = summary["a"]["rows"]["lstm"]
    assert row["mse"]["sd"] is not None and len(row["mse"]["values"]) == 3
    assert summary["n_seeds"] == 3 and summary["runs_stopped_early"] == summary["n_runs"]
    # The paired test's mean squares are exactly the seed-mean test MSEs of the table.
    pair = claims["q7.a.lstm_vs_ridge"]
    assert pair["evidence"]["mse_a"] == pytest.approx(row["mse"]["mean"])
    assert pair["evidence"]["mse_b"] == pytest.approx(base["by_length"]["60"]["ridge"]["mse"])


@pytest.mark.parametrize(("lstm_noise", "verdict"), [(0.3, "a_better"), (0.7, "b_better")])
def test_network_against_ridge_flips_with_the_errors(gate_stats, lstm_noise, verdict) -> None:
    runs, base, errors = study({"lstm": lstm_noise})
    claims = summarise(runs, base, errors, gate_stats)["claims"]
    assert claims["q7.a.lstm_vs_ridge"]["verdict"] == verdict
    assert claims["q7.a.lstm_vs_ridge.seeds"]["verdict"] == verdict
    assert claims["q7.c.lstm_vs_ridge_L120"]["verdict"] == verdict


def test_picks_are_ties_within_noise_and_winners_outside(gate_stats) -> None:
    same = {m: 0.5 for m in ARCHITECTURES}
    runs, base, errors = study(same, cpu={m: 10.0 for m in ARCHITECTURES})
    claims = summarise(runs, base, errors, gate_stats)["claims"]
    assert claims["q7.a.best"]["verdict"] == "tie"
    runs, base, errors = study(
        same | {"gru": 0.2}, cpu={"rnn": 3.0, "lstm": 10.0, "gru": 9.0, "bilstm": 20.0}
    )
    claims = summarise(runs, base, errors, gate_stats)["claims"]
    assert claims["q7.a.best"]["verdict"] == "gru"
    assert claims["q7.a.fastest"]["verdict"] == "rnn"
    assert claims["q7.a.fastest"]["machine_dependent"] is True
    # Only the GRU is as accurate as the best: it is the trade-off.
    assert claims["q7.a.tradeoff"]["verdict"] == "gru"


def test_ablation_claims_name_the_more_critical_gate(gate_stats) -> None:
    runs, base, errors = study({"lstm": 0.4, "lstm_forget_only": 0.42, "lstm_input_only": 0.9})
    claims = summarise(runs, base, errors, gate_stats)["claims"]
    assert claims["q7.e.forget_only_vs_input_only"]["verdict"] == "a_better"
    assert claims["q7.e.lstm_input_only_vs_full"]["verdict"] == "b_better"


def test_season_shift_is_a_claim(gate_stats) -> None:
    runs, base, errors = study({})
    summary = summarise(runs, base, errors, gate_stats)
    assert summary["claims"]["q7.d.season_shift"]["verdict"] == "above"
    assert summary["d"]["val_over_test"] > 1


def test_other_test_targets_are_refused(gate_stats) -> None:
    runs, base, errors = study({})
    runs[("gru", 30)][1]["targets"] = runs[("gru", 30)][1]["targets"] + 1
    with pytest.raises(Exception, match="other test targets"):
        summarise(runs, base, errors, gate_stats)


def test_best_lag_of_persistence_is_one_step() -> None:
    targets, y = _truth()
    persistence = np.r_[y[0], y[:-1]]
    assert baselines.best_lag(persistence, y, targets)["lag"] == 1
    assert baselines.best_lag(y, y, targets)["lag"] == 0
    # Gaps in the targets: only pairs whose shifted target exists are used.
    keep = np.r_[0:150, 170:N]
    assert baselines.best_lag(persistence[keep], y[keep], targets[keep])["lag"] == 1
