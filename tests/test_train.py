"""Q6-A training: determinism, early stopping, outputs, aggregation, CLI errors.

Kills, resumes and the fingerprint are tested with the engine, in test_training.py.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from rnnlab.errors import RnnlabError
from rnnlab.sentiment.models import load_checkpoint
from rnnlab.sentiment.summary import aggregate, write_table
from rnnlab.sentiment.train import Hyper, train_run

# Fields that measure the machine, not the result.
TIMING = {"train_seconds", "tokens_per_s", "cpu_seconds"}
TINY = {"embed_dim": 8, "hidden_size": 8, "batch_size": 16, "eval_batch_size": 32}


def make_encoded(path: Path, seed: int = 0, max_length: int = 16) -> Path:
    """An encoded.pt in the layout of the imdb_encode rule, with a learnable signal.

    Token 2 marks positive reviews and token 3 negative ones (mixed with noise
    tokens 4..19); lengths vary and some reviews are longer than `max_length`.
    """
    gen = torch.Generator().manual_seed(seed)

    def split(n: int) -> dict:
        labels = torch.arange(n) % 2
        lengths = torch.randint(3, max_length + 6, (n,), generator=gen)
        ids = torch.zeros(n, max_length, dtype=torch.int32)
        for i in range(n):
            stored = min(int(lengths[i]), max_length)
            row = torch.randint(4, 20, (stored,), generator=gen)
            cue = torch.rand(stored, generator=gen) < 0.3
            row[cue] = 2 if labels[i] == 1 else 3
            ids[i, :stored] = row.int()
        return {
            "ids": ids,
            "lengths": lengths.long(),
            "labels": labels.long(),
            "keys": [f"r{i}" for i in range(n)],
        }

    data = {
        "train": split(96),
        "val": split(32),
        "test": split(32),
        "vocab_size": 20,
        "pad_id": 0,
        "unk_id": 1,
        "max_length": max_length,
        "truncation": "head",
    }
    torch.save(data, path)
    return path


@pytest.fixture(scope="module")
def encoded(tmp_path_factory) -> Path:
    return make_encoded(tmp_path_factory.mktemp("data") / "encoded.pt")


def without_timing(metrics: dict) -> dict:
    return {k: v for k, v in metrics.items() if k not in TIMING}


def curve_without_timing(run_dir: Path) -> list[dict]:
    with open(run_dir / "curve.csv", newline="") as handle:
        return [
            {k: v for k, v in row.items() if k not in {"seconds", "tokens_per_s", "cpu_seconds"}}
            for row in csv.DictReader(handle)
        ]


def fit(encoded: Path, out: Path, cell: str = "lstm", **hyper) -> dict:
    params = {**TINY, "max_epochs": 3, "patience": 3, **hyper}
    return train_run(encoded, cell, 12, 0, Hyper.from_dict(params), out, log=lambda _: None)


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_training_learns_and_is_deterministic(encoded, tmp_path, cell):
    first = fit(encoded, tmp_path / "a", cell=cell, max_epochs=4, lr=0.02)
    second = fit(encoded, tmp_path / "b", cell=cell, max_epochs=4, lr=0.02)
    assert without_timing(first) == without_timing(second)
    assert curve_without_timing(tmp_path / "a") == curve_without_timing(tmp_path / "b")
    # The cue tokens make the task easy: a working loop gets well above chance.
    assert first["val_acc"] > 0.8
    assert first["n_train"] == 96 and first["length"] == 12
    # The run leaves its outputs and keeps the resume state (it cannot go stale).
    run = tmp_path / "a"
    left = {p.name for p in run.iterdir()}
    assert left == {"best.pt", "metrics.json", "curve.csv", "predictions.npz", "last.pt"}
    assert json.loads((run / "metrics.json").read_text())["test_acc"] == first["test_acc"]
    assert first["epochs_run"] == first["max_epochs"] == 4
    assert first["cap_bound"] is not first["stopped_early"]


def test_predictions_hold_each_test_review_in_split_order(encoded, tmp_path):
    metrics = fit(encoded, tmp_path / "run", max_epochs=2)
    saved = np.load(tmp_path / "run" / "predictions.npz")
    assert saved["label"].dtype == np.int8 and saved["logit"].dtype == np.float32
    assert saved["correct"].dtype == bool
    labels = torch.load(encoded, weights_only=False)["test"]["labels"].numpy()
    assert np.array_equal(saved["label"], labels)
    assert np.array_equal(saved["correct"], (saved["logit"] > 0) == (saved["label"] == 1))
    assert saved["correct"].mean() == pytest.approx(metrics["test_acc"])
    cut = torch.load(encoded, weights_only=False)["test"]["lengths"].numpy() > 12
    assert saved["correct"][cut].mean() == pytest.approx(metrics["test_acc_cut"])


def test_best_checkpoint_reproduces_the_reported_test_accuracy(encoded, tmp_path):
    metrics = fit(encoded, tmp_path / "run", max_epochs=4, lr=0.02)
    model = load_checkpoint(tmp_path / "run" / "best.pt")
    data = torch.load(encoded, weights_only=False)
    ids = data["test"]["ids"][:, :12].long()
    lengths = data["test"]["lengths"].clamp(max=12)
    with torch.no_grad():
        acc = float(((model(ids, lengths) > 0).long() == data["test"]["labels"]).float().mean())
    assert acc == pytest.approx(metrics["test_acc"])
    checkpoint = torch.load(tmp_path / "run" / "best.pt", weights_only=False)
    assert checkpoint["epoch"] == metrics["best_epoch"]


def test_early_stopping_keeps_the_best_epoch(encoded, tmp_path):
    # A huge learning rate makes validation accuracy stall quickly.
    metrics = fit(encoded, tmp_path / "run", max_epochs=30, patience=1, lr=0.5)
    assert metrics["stopped_early"] and not metrics["cap_bound"]
    assert metrics["epochs_run"] == metrics["best_epoch"] + 1
    with open(tmp_path / "run" / "curve.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    best_val = max(float(r["val_acc"]) for r in rows)
    assert metrics["val_acc"] == pytest.approx(best_val, abs=1e-6)


def test_bad_hyper_parameters_and_lengths_are_named(encoded, tmp_path):
    with pytest.raises(RnnlabError, match="unknown sentiment hyper-parameter"):
        Hyper.from_dict({"learning_rate": 0.1})
    with pytest.raises(RnnlabError, match="out of range"):
        Hyper.from_dict({"lr": 0})
    with pytest.raises(RnnlabError, match="exceeds the stored imdb.max_length"):
        train_run(encoded, "lstm", 64, 0, Hyper.from_dict(TINY), tmp_path, log=lambda _: None)
    with pytest.raises(RnnlabError, match="imdb_encode"):
        train_run(tmp_path / "none.pt", "rnn", 8, 0, Hyper(), tmp_path, log=lambda _: None)


def test_cli_reports_user_errors_in_one_line(encoded, tmp_path):
    cmd = [sys.executable, "-m", "rnnlab.sentiment.train", "fit", "--data", str(encoded)]
    cmd += ["--model", "rnn", "--length", "8", "--seed", "0", "--out-dir", str(tmp_path)]
    proc = subprocess.run([*cmd, "--hyper", '{"lr": "fast"'], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("rnnlab error: --hyper is not valid JSON")
    assert "Traceback" not in proc.stderr


def fake_metrics(model: str, length: int, seed: int, acc: float) -> dict:
    return {
        "model": model,
        "length": length,
        "seed": seed,
        "test_acc": acc,
        "val_acc": acc + 0.01,
        "test_loss": 0.5,
        "best_epoch": 2,
        "epochs_run": 4,
        "train_seconds": 10.0,
        "tokens_per_s": 1000.0,
        "parameters": 100 if model == "rnn" else 400,
        "truncated_share": 0.5 if length == 50 else 0.1,
        "truncation": "head",
        "hyper": asdict(Hyper()),
        "n_train": 10,
        "n_val": 2,
        "n_test": 10,
        "device": "cpu",
    }


def test_aggregate_compares_models_from_the_numbers(tmp_path):
    accs = {
        ("rnn", 50, 0): 0.80,
        ("rnn", 50, 1): 0.78,
        ("rnn", 400, 0): 0.60,
        ("rnn", 400, 1): 0.62,
        ("lstm", 50, 0): 0.77,
        ("lstm", 50, 1): 0.77,
        ("lstm", 400, 0): 0.88,
        ("lstm", 400, 1): 0.86,
    }
    paths = []
    for (model, length, seed), acc in accs.items():
        path = tmp_path / f"{model}_{length}_{seed}.json"
        path.write_text(json.dumps(fake_metrics(model, length, seed, acc)))
        paths.append(path)
    rows, summary = aggregate(paths)
    assert [(r["model"], r["length"], r["seed"]) for r in rows][:2] == [
        ("rnn", 50, 0),
        ("rnn", 50, 1),
    ]
    assert summary["models"] == ["rnn", "lstm"] and summary["lengths"] == [50, 400]
    short, long = summary["comparison"]
    assert short["winner"] == "rnn" and short["margin"] == pytest.approx(0.02)
    assert long["winner"] == "lstm" and long["lstm_minus_rnn"] == pytest.approx(0.26)
    assert summary["lstm_wins"] == 1
    lstm400 = summary["points"]["lstm"][1]
    assert lstm400["n_seeds"] == 2 and lstm400["test_acc"] == pytest.approx(0.87)
    assert lstm400["test_acc_std"] == pytest.approx(0.01414, abs=1e-4)
    assert summary["trend"]["rnn"]["change"] == pytest.approx(-0.18)
    assert summary["trend"]["lstm"]["best_length"] == 400
    write_table(rows, tmp_path / "table.csv")
    with open(tmp_path / "table.csv", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == 8
    with pytest.raises(RnnlabError, match="no run metrics"):
        aggregate([])


def aggregate_fake_runs(
    tmp_path: Path, accs: dict[tuple[str, int], float | list[float]]
) -> dict:
    """Summary of fake runs; a list of accuracies gives one run per seed."""
    paths = []
    for (model, length), value in accs.items():
        for seed, acc in enumerate(value if isinstance(value, list) else [value]):
            metrics = fake_metrics(model, length, seed, acc)
            metrics.update(test_acc_cut=acc - 0.05, test_acc_whole=acc + 0.02)
            path = tmp_path / f"{model}_{length}_s{seed}.json"
            path.write_text(json.dumps(metrics))
            paths.append(path)
    return aggregate(paths)[1]


def render_q6(tmp_path: Path, accs: dict[tuple[str, int], float | list[float]]) -> str:
    """The Q6 section rendered from a summary aggregated from fake runs, as plain text."""
    import html
    import re

    from rnnlab.report.render import Figures, make_environment

    summary = aggregate_fake_runs(tmp_path, accs)
    # Part A alone: parts B and C (other stages' results) are left empty here.
    templates = tmp_path / "templates"
    repo_templates = Path(__file__).resolve().parents[1] / "templates"
    shutil.copytree(repo_templates, templates, dirs_exist_ok=True)
    for part in ("q6_b", "q6_c"):
        (templates / "sections" / f"{part}.html.j2").write_text("")
    figures = Figures({"q6a_accuracy": str(tmp_path / "figure.svg")}, tmp_path)
    env = make_environment(templates, figures)
    page = env.get_template("sections/q6.html.j2").render(r={"q6a": summary})
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_q6_analysis_follows_the_numbers(tmp_path):
    lstm_ahead = {("rnn", 50): 0.70, ("rnn", 400): 0.72, ("lstm", 50): 0.74, ("lstm", 400): 0.88}
    text = render_q6(tmp_path, lstm_ahead)
    assert "LSTM در هر ۲ طول بهتر از «RNN ساده» است" in text
    assert "برتری LSTM با طول بیشتر می‌شود" in text
    assert "۱۶٫۰ واحد درصد" in text  # the margin at 400, from the numbers
    rnn_ahead = {("rnn", 50): 0.80, ("rnn", 400): 0.82, ("lstm", 50): 0.74, ("lstm", 400): 0.81}
    text = render_q6(tmp_path, rnn_ahead)
    assert "«RNN ساده» در همهٔ طول‌ها هم‌پا یا بهتر از LSTM است" in text
    assert "برتری LSTM با طول بیشتر" not in text
    assert "عقب‌ماندگی LSTM با طول کم می‌شود" in text
    crossing = {("rnn", 50): 0.80, ("rnn", 400): 0.75, ("lstm", 50): 0.76, ("lstm", 400): 0.86}
    text = render_q6(tmp_path, crossing)
    assert "برتری «RNN ساده» در طول ۵۰ (۴٫۰ واحد درصد) به برتری LSTM در طول ۴۰۰" in text


def test_several_seeds_give_spread_and_say_which_gaps_are_real(tmp_path):
    accs = {
        ("rnn", 50): [0.70, 0.76],  # 0.73 ± 0.042
        ("lstm", 50): [0.74, 0.76],  # 0.75 ± 0.014: gap 0.02 within the spread
        ("rnn", 400): [0.72, 0.74],
        ("lstm", 400): [0.88, 0.86],  # gap 0.14, far beyond it
    }
    summary = aggregate_fake_runs(tmp_path, accs)
    assert summary["seeds"] == [0, 1] and summary["n_seeds"] == 2
    short, long = summary["comparison"]
    assert short["seed_spread"] == pytest.approx(0.0566, abs=1e-4)
    assert short["beyond_spread"] is False and long["beyond_spread"] is True
    assert len(summary["runs"]) == 8  # results.json keeps every seed's run
    text = render_q6(tmp_path, accs)
    assert "میانگین و انحراف معیار روی ۲ بذر" in text
    assert "جلوتر است. با ۲ بذر برای هر مدل و طول" in text  # a sentence of its own
    assert "۷۳٫۰٪ ± ۴٫۲" in text
    assert "در طول ۴۰۰ از مجموع انحراف معیار دو مدل بیشتر است" in text
    assert "در طول ۵۰ در حد نوسان بذرهاست" in text
    # One seed: no spread is claimed either way.
    first_seed = {key: values[0] for key, values in accs.items()}
    (tmp_path / "one").mkdir()
    single = aggregate_fake_runs(tmp_path / "one", first_seed)
    assert single["comparison"][0]["beyond_spread"] is None
    assert "بذر برای هر مدل و طول" not in render_q6(tmp_path / "one", first_seed)


def test_accuracy_figure_draws_the_spread_and_each_seed(tmp_path, monkeypatch):
    from matplotlib.collections import PathCollection
    from matplotlib.container import ErrorbarContainer

    from rnnlab.sentiment.summary import plot_accuracy
    from rnnlab.style import plots

    drawn = []
    monkeypatch.setattr(plots, "setup_style", lambda manifest: "DejaVu Sans")
    monkeypatch.setattr(plots, "save_figure", lambda fig, path: drawn.append(fig))
    accs = {("rnn", 50): [0.70, 0.76], ("lstm", 50): [0.74, 0.76],
            ("rnn", 400): [0.72, 0.74], ("lstm", 400): [0.88, 0.86]}  # fmt: skip
    plot_accuracy(aggregate_fake_runs(tmp_path, accs), "fonts.json", tmp_path / "a.svg")
    (ax,) = drawn[0].axes
    bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(bars) == 2 and all(c.has_yerr for c in bars)
    seed_dots = [len(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection)]
    assert seed_dots == [4, 4]  # 2 lengths × 2 seeds per model
    drawn.clear()
    plot_accuracy(
        aggregate_fake_runs(tmp_path, {k: v[0] for k, v in accs.items()}), "f", tmp_path / "b.svg"
    )
    (ax,) = drawn[0].axes
    assert not any(c.has_yerr for c in ax.containers)
    assert not any(isinstance(c, PathCollection) for c in ax.collections)


@pytest.mark.slow
def test_pipeline_trains_every_run_and_rebuilds_a_deleted_run(smoke_run, tmp_path):
    from conftest import run_snakemake

    config = yaml.safe_load((smoke_run / "smoke-config.yaml").read_text())
    lengths = config["sentiment"]["lengths"]
    table = (smoke_run / "results" / "sentiment" / "accuracy.csv").read_text().splitlines()
    assert len(table) == 1 + 2 * len(lengths)
    summary = json.loads((smoke_run / "results" / "sentiment" / "summary.json").read_text())
    assert summary["lengths"] == sorted(lengths) and summary["models"] == ["rnn", "lstm"]
    assert (smoke_run / "results" / "sentiment" / "accuracy_vs_length.svg").stat().st_size > 0
    # In a copy of the finished run: Snakemake deletes a job's outputs before rerunning it
    # (--forcerun, a killed job); the job then rebuilds them from last.pt, same numbers.
    work = tmp_path / "copy"
    shutil.copytree(smoke_run, work, symlinks=True)
    run = work / "results" / "sentiment" / "runs" / f"lstm_L{lengths[-1]}_s0"
    before = json.loads((run / "metrics.json").read_text())
    target = str(run.relative_to(work) / "metrics.json")
    # (the target goes first: --forcerun takes every name that follows it)
    run_snakemake(work, work / "smoke-config.yaml", target, "--forcerun", "sentiment_train")
    log = (work / "logs" / "sentiment_train" / f"lstm_L{lengths[-1]}_s0.log").read_text()
    assert "resuming from" in log
    assert json.loads((run / "metrics.json").read_text()) == before
