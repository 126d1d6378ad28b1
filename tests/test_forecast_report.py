"""Q7 summary and chapter: the analysis words what the numbers say, whichever way they fall."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from rnnlab.forecast import analysis, gates
from rnnlab.forecast.models import Forecaster
from rnnlab.report.render import Figures, make_environment

REPO = Path(__file__).resolve().parents[1]
FIGURES = ["curves", "forecast", "lengths", "ablation", "gates_calm", "gates_peak", "gates_typical"]


def fake_metrics(model: str, length: int, mse: float, seconds: float, params: int) -> dict:
    history = [{"epoch": e, "train_mse": mse * 1.2, "val_mse": mse * (1 + 1.0 / e), "val_mae": 0.4,
                "seconds": seconds, "cpu_seconds": seconds * 0.9} for e in range(1, 6)]
    return {
        "model": model, "length": length, "trainable_parameters": params,
        "test": {"mse": mse, "mae": mse ** 0.5, "mse_kw2": mse * 0.81, "mae_kw": mse ** 0.5 * 0.9,
                 "rmse_kw": mse ** 0.5 * 0.9},
        "persistence": {"mse": 0.40, "mae": 0.42, "mse_kw2": 0.32, "mae_kw": 0.38, "val_mse": 0.41},
        "mean_epoch_seconds": seconds, "mean_epoch_cpu_seconds": seconds * 0.9,
        "convergence_epochs": {"within_10pct": 3, "gain_90pct": 2},
        "best_epoch": 5, "best_val_mse": mse * 1.2, "initial_val_mse": 1.0, "history": history,
        "windows": {"train": 24000, "train_per_epoch": 6000, "val": 5000, "test": 4600},
    }


def fake_runs(mse: dict[str, float]) -> dict[tuple[str, int], dict]:
    seconds = {"rnn": 1.5, "lstm": 4.5, "gru": 3.2, "bilstm": 6.5, "lstm_forget_only": 7.0,
               "lstm_input_only": 7.0}
    params = {m: Forecaster(m, 7, 64, 2).trainable_parameters() for m in seconds}
    runs = {}
    for m in ("rnn", "lstm", "gru", "bilstm"):
        for n, factor in ((30, 1.0), (60, 1.05), (120, 1.3 if m == "rnn" else 1.02)):
            runs[(m, n)] = fake_metrics(m, n, mse[m] * factor, seconds[m] * n / 60, params[m])
    for m in ("lstm_forget_only", "lstm_input_only"):
        runs[(m, 60)] = fake_metrics(m, 60, mse[m], seconds[m], params[m])
    return runs


def fake_gates() -> dict[str, Any]:
    torch.manual_seed(0)
    lstm, gru = Forecaster("lstm", 7, 8, 2), Forecaster("gru", 7, 8, 2)
    x = np.random.default_rng(0).normal(size=(40, 12, 7)).astype(np.float32)
    stats, _, chosen = gates.analyse(lstm, gru, x, 0, seed=0, sample=20)
    stats["chosen"] = {name: {"start": "2010-05-01 00:00", "end": "2010-05-03 11:00",
                              "mean_kw": 1.0, "std_kw": 0.2, "max_jump_kw": 2.5,
                              "target_index": 1} for name in chosen}
    return stats


PREP = {"minute_rows": 2075259, "missing_rows": 25979, "missing_row_share": 0.0125,
        "absent_minutes": 0, "first": "2006-12-16 17:24:00", "last": "2010-11-26 21:02:00",
        "resolution_minutes": 60, "min_coverage": 0.5, "max_gap_steps": 3, "steps": 34589,
        "missing_steps": 432, "interpolated_steps": 6, "unfilled_steps": 426,
        "splits": {k: {"steps": 100, "first": "2007-01-01 00:00:00", "last": "2008-01-01 00:00:00",
                       "start": 0, "end": 100} for k in ("train", "val", "test")},
        "target": "Global_active_power", "target_std": 0.93, "target_mean": 1.09,
        "features": ["a"] * 7, "text_sha256": "0" * 64}
SETUP = {"hidden": 64, "layers": 2, "max_epochs": 30, "patience": 3, "min_delta": 0.0,
         "lr_schedule": {"kind": "constant"}, "batch_size": 128, "lr": 0.002, "grad_clip": 1.0,
         "seed": 0, "main_length": 60}


def render(summary: dict, tmp_path: Path) -> str:
    paths = {f"q7_{n}": str(tmp_path / f"{n}.svg") for n in FIGURES}
    for path in paths.values():
        Path(path).write_text("<svg/>")
    env = make_environment(REPO / "templates", Figures(paths, tmp_path))
    html = env.get_template("sections/q7.html.j2").render(r={"q7": summary})
    return re.sub(r"\s+", " ", html)


SCENARIOS = {
    # BiLSTM best and forget gate critical
    "bilstm_wins": {"rnn": 0.36, "lstm": 0.30, "gru": 0.305, "bilstm": 0.25,
                    "lstm_forget_only": 0.31, "lstm_input_only": 0.38},
    # GRU best, input gate critical, an ablated LSTM worse than persistence
    "gru_wins": {"rnn": 0.33, "lstm": 0.31, "gru": 0.30, "bilstm": 0.315,
                 "lstm_forget_only": 0.45, "lstm_input_only": 0.32},
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_summary_and_chapter_follow_the_numbers(scenario: str, tmp_path: Path) -> None:
    mse = SCENARIOS[scenario]
    summary = analysis.build_summary(PREP, fake_runs(mse), fake_gates(), SETUP)
    a, e = summary["a"], summary["e"]
    assert a["ranking"][0] == min(("rnn", "lstm", "gru", "bilstm"), key=lambda m: mse[m] * 1.05)
    # The ablation full LSTM is the part-a LSTM at the main length (x 1.05 in fake_runs).
    assert e["ranking"][0] == min(analysis.ABLATION_VARIANTS,
                                  key=lambda m: mse[m] * (1.05 if m == "lstm" else 1.0))
    assert summary["c"]["degradation"]["rnn"] == pytest.approx(0.3)
    assert summary["c"]["least_stable"] == "rnn"
    text = render(summary, tmp_path)
    assert "None" not in text and "nan" not in text.lower()
    for part in ("q7-a", "q7-b", "q7-c", "q7-d", "q7-e"):
        assert f'id="{part}"' in text
    if scenario == "bilstm_wins":
        assert a["best"] == "bilstm" and e["more_critical_gate"] == "forget"
        assert "دروازهٔ <b>فراموشی</b> حیاتی‌تر است" in text
        assert "هر چهار مدل از مبنا بهترند" in text
    else:
        assert a["best"] == "gru" and e["more_critical_gate"] == "input"
        assert "دروازهٔ <b>ورودی</b> در این داده حیاتی‌تر بوده است" in text
        assert "حتی به مبنای تکرار مقدار قبلی" in text
    assert "بهترین توازن" in text


def test_missing_runs_are_named(tmp_path: Path) -> None:
    runs = fake_runs(SCENARIOS["gru_wins"])
    del runs[("gru", 120)]
    with pytest.raises(Exception, match="gru"):
        analysis.build_summary(PREP, runs, fake_gates(), SETUP)


def test_figures_draw_from_the_summary(tmp_path: Path) -> None:
    import warnings

    from rnnlab.forecast import figures

    summary = analysis.build_summary(PREP, fake_runs(SCENARIOS["gru_wins"]), fake_gates(), SETUP)
    rng = np.random.default_rng(0)
    predictions = {}
    for m in ("rnn", "lstm", "gru", "bilstm"):
        path = tmp_path / f"{m}.npz"
        np.savez(path, targets=np.arange(200), pred=rng.normal(size=200), y=rng.normal(size=200))
        predictions[m] = path
    arrays = {f"{w}_input_kw": rng.random(12) for w in figures.WINDOW_LABELS}
    for w in figures.WINDOW_LABELS:
        for key in figures.GATE_LABELS:
            arrays[f"{w}_l1_{key}"] = rng.random((12, 8))
    np.savez(tmp_path / "gates.npz", **arrays)
    gates_npz = np.load(tmp_path / "gates.npz")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # no Persian font registered in a test: glyph warnings
        figures.curves(summary, tmp_path / "curves.svg")
        figures.lengths(summary, tmp_path / "lengths.svg")
        figures.ablation(summary, tmp_path / "ablation.svg")
        figures.forecast(summary, predictions, tmp_path / "forecast.svg")
        for w in figures.WINDOW_LABELS:
            figures.gates(gates_npz, w, tmp_path / f"gates_{w}.svg")
    for name in ("curves", "lengths", "ablation", "forecast", *[f"gates_{w}" for w in
                                                                figures.WINDOW_LABELS]):
        text = (tmp_path / f"{name}.svg").read_text()
        assert text.startswith("<?xml") and "<svg" in text
