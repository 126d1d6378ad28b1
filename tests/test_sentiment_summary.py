"""Q6-A summary: cells over seeds, claims from seeds and test predictions, the baseline."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from q6_fakes import write_baseline, write_run, write_runs

from rnnlab import claims
from rnnlab.errors import RnnlabError
from rnnlab.sentiment.summary import aggregate, write_table

THREE_SEEDS = {
    ("rnn", 50): [0.70, 0.71, 0.69],
    ("lstm", 50): [0.71, 0.69, 0.70],  # same as the RNN: indistinguishable
    ("rnn", 400): [0.72, 0.73, 0.74],
    ("lstm", 400): [0.88, 0.87, 0.89],  # far ahead
}


def test_cells_have_mean_sd_and_every_seed(tmp_path):
    metrics, preds = write_runs(tmp_path, THREE_SEEDS)
    rows, summary = aggregate(metrics, preds)
    assert summary["n_seeds"] == 3 and summary["seeds"] == [0, 1, 2]
    lstm400 = summary["points"]["lstm"][1]
    assert lstm400["test_acc"] == pytest.approx(0.88)
    assert lstm400["test_acc_sd"] == pytest.approx(0.01)
    assert lstm400["test_acc_seeds"] == pytest.approx([0.88, 0.87, 0.89])
    assert lstm400["stopped_early"] == 3 and lstm400["cap_bound"] == 0
    write_table(rows, tmp_path / "table.csv")
    with open(tmp_path / "table.csv", newline="") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == 12 and {"stopped_early", "cap_bound", "cpu_seconds"} <= set(table[0])


def test_lstm_vs_rnn_claims_over_seeds_and_per_seed_pair(tmp_path):
    metrics, preds = write_runs(tmp_path, THREE_SEEDS)
    found = aggregate(metrics, preds)[1]["claims"]
    assert found["q6a.lstm_vs_rnn.L400"]["verdict"] == "a_better"
    assert found["q6a.lstm_vs_rnn.L400"]["kind"] == "seeds"
    assert found["q6a.lstm_vs_rnn.L50"]["verdict"] == "indistinguishable"
    for seed in range(3):
        pair = found[f"q6a.lstm_vs_rnn.L400.s{seed}"]
        assert pair["kind"] == "mcnemar" and pair["verdict"] == "a_better"
        assert pair["seed"] == seed
    assert found["q6a.trend.lstm"]["verdict"] == "increases"
    assert found["q6a.cap_bound"]["verdict"] == "below"
    # Every stored verdict is what its own evidence gives.
    assert all(claims.recompute(c) == c["verdict"] for c in found.values())


def test_claims_refs_point_at_the_summary(tmp_path):
    metrics, preds = write_runs(tmp_path, THREE_SEEDS)
    summary = aggregate(metrics, preds)[1]
    results = {"q6a": summary, "claims": {"q6a": summary["claims"]}}
    assert claims.check_claims(results) == []


def test_one_seed_says_spread_unknown(tmp_path):
    one = {key: value[0] for key, value in THREE_SEEDS.items()}
    metrics, preds = write_runs(tmp_path, one)
    summary = aggregate(metrics, preds)[1]
    claim = summary["claims"]["q6a.lstm_vs_rnn.L400"]
    assert claim["verdict"] == "indistinguishable" and claim["reason"] == "single_seed"
    assert summary["points"]["rnn"][0]["test_acc_sd"] is None
    # The paired test still sees the gap of the one trained pair.
    assert summary["claims"]["q6a.lstm_vs_rnn.L400.s0"]["verdict"] == "a_better"


def test_cap_bound_counts_runs_that_used_every_epoch(tmp_path):
    m1, p1 = write_run(tmp_path, "rnn", 50, 0, 0.7, stopped_early=False, cap_bound=None,
                       epochs_run=10)  # fmt: skip
    m2, p2 = write_run(tmp_path, "lstm", 50, 0, 0.8)
    summary = aggregate([m1, m2], [p1, p2])[1]
    assert summary["cap_bound"] == 1 and summary["runs"][0]["cap_bound"] is True
    claim = summary["claims"]["q6a.cap_bound"]
    assert claim["verdict"] == "above" and claim["runs"] == ["rnn_L50_s0"]


def test_baseline_row_and_claims(tmp_path):
    metrics, preds = write_runs(tmp_path / "runs", THREE_SEEDS)
    base, base_preds = write_baseline(tmp_path / "baseline", {50: 0.85, 400: 0.88})
    summary = aggregate(metrics, preds, base, base_preds)[1]
    assert [p["test_acc"] for p in summary["baseline"]["points"]] == pytest.approx([0.85, 0.88])
    assert summary["baseline"]["full"]["test_acc"] == pytest.approx(0.9)
    found = summary["claims"]
    assert found["q6a.baseline_vs_rnn.L50"]["verdict"] == "a_better"
    # Median seed of the LSTM at 400 is seed 0 (0.88): the same predictions as the baseline.
    assert found["q6a.baseline_vs_lstm.L400"]["seed"] == 0
    assert found["q6a.baseline_vs_lstm.L400"]["verdict"] == "indistinguishable"
    assert found["q6a.baseline_vs_best.L400"]["network"] == "lstm"
    assert found["q6a.baseline_vs_best.L50"]["network"] in {"rnn", "lstm"}


def test_predictions_must_match_their_run(tmp_path):
    metrics, preds = write_runs(tmp_path, {("rnn", 50): 0.7})
    np.savez(preds[0], label=np.zeros(3, np.int8), logit=np.zeros(3, np.float32),
             correct=np.zeros(3, bool))  # fmt: skip
    with pytest.raises(RnnlabError, match="3 predictions for 400"):
        aggregate(metrics, preds)
    with pytest.raises(RnnlabError, match="no predictions.npz"):
        aggregate(metrics, [tmp_path / "elsewhere" / "predictions.npz"])
    with pytest.raises(RnnlabError, match="no run metrics"):
        aggregate([], [])


def test_accuracy_figure_draws_spread_seeds_and_baseline(tmp_path, monkeypatch):
    from matplotlib.collections import PathCollection
    from matplotlib.container import ErrorbarContainer

    from rnnlab.sentiment.summary import plot_accuracy
    from rnnlab.style import plots

    drawn = []
    monkeypatch.setattr(plots, "setup_style", lambda manifest: "DejaVu Sans")
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: drawn.append(fig))
    metrics, preds = write_runs(tmp_path / "runs", THREE_SEEDS)
    base = write_baseline(tmp_path / "baseline", {50: 0.85, 400: 0.88})
    plot_accuracy(aggregate(metrics, preds, *base)[1], "fonts.json", tmp_path / "a.svg")
    (ax,) = drawn[0].axes
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2 and all(c.has_yerr for c in bars)
    seed_dots = [len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection)]
    assert seed_dots == [6, 6]  # 2 lengths × 3 seeds per model
    labels = [line.get_label() for line in ax.lines]
    assert plots.MODEL_LABELS["tfidf"] in labels
    drawn.clear()
    one = {key: value[0] for key, value in THREE_SEEDS.items()}
    metrics, preds = write_runs(tmp_path / "one", one)
    plot_accuracy(aggregate(metrics, preds)[1], "f", tmp_path / "b.svg")
    (ax,) = drawn[0].axes
    assert not any(c.has_yerr for c in ax.containers)
    assert not any(isinstance(c, PathCollection) for c in ax.collections)
