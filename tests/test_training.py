"""The one training engine (rnnlab.training) under Q6-A and Q7.

Kills resume bit-identical (in process and with a real SIGKILL), a resume state of
another run (a code edit, a patience or max-epoch change) is discarded and the run
retrains in place to a fresh directory's result, and a non-finite loss stops with
the config key named.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from test_forecast_train import run_cfg, tiny_series
from test_train import TINY, make_encoded

from rnnlab import training
from rnnlab.errors import RnnlabError
from rnnlab.forecast import train as forecast_train
from rnnlab.sentiment import train as sentiment_train

SRC = Path(__file__).resolve().parents[1] / "src"


class Killed(BaseException):
    """Stands for a SIGKILL right after a resume state was written."""


def kill_after_epoch(monkeypatch: pytest.MonkeyPatch, epoch: int) -> None:
    """Make the engine 'die' right after it saved `epoch`'s resume state."""
    save = training.save_torch

    def save_then_die(path: Path, obj: dict) -> None:
        save(path, obj)
        if obj["state"]["epoch"] == epoch:
            raise Killed

    monkeypatch.setattr(training, "save_torch", save_then_die)


def without_timing(value: object) -> object:
    """A metrics tree without the measurements of the machine (times, rates)."""
    if isinstance(value, dict):
        return {k: without_timing(v) for k, v in value.items()
                if "second" not in k and "per_s" not in k}  # fmt: skip
    if isinstance(value, list):
        return [without_timing(v) for v in value]
    return value


def same_weights(a: Path, b: Path, key: str) -> bool:
    left = torch.load(a, weights_only=False)[key]
    right = torch.load(b, weights_only=False)[key]
    return left.keys() == right.keys() and all(torch.equal(left[k], right[k]) for k in left)


def scramble_rngs() -> None:
    """Global RNGs as a fresh process would leave them: the resume must restore them."""
    torch.manual_seed(1234)
    np.random.seed(99)


@pytest.fixture(scope="module")
def encoded(tmp_path_factory) -> Path:
    return make_encoded(tmp_path_factory.mktemp("data") / "encoded.pt")


def sentiment(encoded: Path, out: Path, log=lambda _: None, **hyper) -> dict:
    params = {**TINY, "max_epochs": 4, "patience": 4, "dropout": 0.2, "lr": 0.02, **hyper}
    hyper_ = sentiment_train.Hyper.from_dict(params)
    return sentiment_train.train_run(encoded, "lstm", 12, 0, hyper_, out, log=log)


# ---------------------------------------------------------------- kill and resume


@pytest.mark.parametrize("sparse", [True, False])
def test_sentiment_resumes_bit_identical_after_a_kill(encoded, tmp_path, monkeypatch, sparse):
    whole = sentiment(encoded, tmp_path / "whole", sparse_embedding=sparse)
    with monkeypatch.context() as patch:
        kill_after_epoch(patch, 2)
        with pytest.raises(Killed):
            sentiment(encoded, tmp_path / "killed", sparse_embedding=sparse)
    assert not (tmp_path / "killed" / "metrics.json").exists()
    scramble_rngs()
    messages: list[str] = []
    resumed = sentiment(encoded, tmp_path / "killed", messages.append, sparse_embedding=sparse)
    assert any("resuming" in m and "after epoch 2" in m for m in messages)
    assert without_timing(resumed) == without_timing(whole)
    assert same_weights(tmp_path / "whole" / "best.pt", tmp_path / "killed" / "best.pt",
                        "model_state")  # fmt: skip
    a = np.load(tmp_path / "whole" / "predictions.npz")
    b = np.load(tmp_path / "killed" / "predictions.npz")
    assert all(np.array_equal(a[k], b[k]) for k in ("label", "logit", "correct"))


def test_forecast_resumes_bit_identical_after_a_kill(tmp_path, monkeypatch):
    series = tiny_series()
    whole = forecast_train.train_run(series, run_cfg(), tmp_path / "whole", log=lambda _: None)
    with monkeypatch.context() as patch:
        kill_after_epoch(patch, 1)
        with pytest.raises(Killed):
            forecast_train.train_run(series, run_cfg(), tmp_path / "killed", log=lambda _: None)
    scramble_rngs()
    messages: list[str] = []
    resumed = forecast_train.train_run(series, run_cfg(), tmp_path / "killed", log=messages.append)
    assert any("resuming" in m and "after epoch 1" in m for m in messages)
    assert without_timing(resumed) == without_timing(whole)
    assert same_weights(tmp_path / "whole" / "model.pt", tmp_path / "killed" / "model.pt",
                        "state_dict")  # fmt: skip


def write_series_files(folder: Path) -> tuple[Path, Path]:
    """tiny_series() as the power_prepare rule writes it: series.npz + prep.json."""
    series = tiny_series()
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / "series.npz", values=series.values, stamps=series.stamps)
    report = {"splits": {k: {"start": v[0], "end": v[1]} for k, v in series.bounds.items()},
              "target_index": 0, "target_mean": 1.0, "target_std": 2.0}  # fmt: skip
    (folder / "prep.json").write_text(json.dumps(report))
    return folder / "series.npz", folder / "prep.json"


def forecast_cli(files: tuple[Path, Path], out: Path, cfg: dict, src: Path = SRC,
                 kill_after: int | None = None) -> subprocess.CompletedProcess:  # fmt: skip
    """The Q7 training command in a child process; with `kill_after`, the child SIGKILLs
    itself right after writing that epoch's resume state (no flag in the command line)."""
    argv = ["forecast-train", "--series", str(files[0]), "--prep", str(files[1]),
            "--out-dir", str(out), "--params", json.dumps(cfg), "--threads", "1"]  # fmt: skip
    code = f"import sys; sys.argv = {argv!r}\n"
    if kill_after is not None:
        code += (
            "import os, signal\nfrom rnnlab import training\nsave = training.save_torch\n"
            "def save_then_die(path, obj):\n    save(path, obj)\n"
            f"    if obj['state']['epoch'] == {kill_after}:\n"
            "        os.kill(os.getpid(), signal.SIGKILL)\n"
            "training.save_torch = save_then_die\n"
        )
    code += "from rnnlab.forecast.train import main\nmain()\n"
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)


@pytest.mark.slow  # real subprocesses: the second test group
def test_a_real_sigkill_then_rerun_ends_identical(tmp_path):
    files = write_series_files(tmp_path / "data")
    killed = forecast_cli(files, tmp_path / "killed", run_cfg(), kill_after=2)
    assert killed.returncode == -signal.SIGKILL
    assert (tmp_path / "killed" / "last.pt").exists()
    assert not (tmp_path / "killed" / "metrics.json").exists()
    rerun = forecast_cli(files, tmp_path / "killed", run_cfg())
    assert rerun.returncode == 0, rerun.stderr
    assert "after epoch 2" in rerun.stdout
    forecast_cli(files, tmp_path / "whole", run_cfg())
    metrics = [json.loads((tmp_path / d / "metrics.json").read_text()) for d in ("killed", "whole")]
    assert without_timing(metrics[0]) == without_timing(metrics[1])
    assert same_weights(tmp_path / "whole" / "model.pt", tmp_path / "killed" / "model.pt",
                        "state_dict")  # fmt: skip


# ---------------------------------------------------------------- what the fingerprint decides


@pytest.mark.parametrize("change", [{"patience": 1}, {"max_epochs": 2}, {"max_epochs": 5}])
def test_a_stopping_change_ends_with_the_result_of_a_fresh_run(encoded, tmp_path, change):
    run = tmp_path / "run"
    first = sentiment(encoded, run, lr=0.5)  # lr 0.5: validation accuracy stalls, patience matters
    messages: list[str] = []
    again = sentiment(encoded, run, messages.append, lr=0.5, **change)
    if "patience" in change:
        # The stopping rule decides after every epoch: the saved state is not reused.
        assert any(m.startswith("discarding") and "settings hyper" in m for m in messages)
        assert not any("resuming" in m for m in messages)
    elif change["max_epochs"] < first["epochs_run"]:
        assert any("trained past this run's cap of 2" in m for m in messages)
    else:
        # Up to the old cap the epochs are the same: the run goes on from the saved state.
        assert any("resuming" in m and "(saved under max_epochs 4)" in m for m in messages)
    fresh = sentiment(encoded, tmp_path / "fresh", lr=0.5, **change)
    assert without_timing(again) == without_timing(fresh)
    assert again["max_epochs"] == change.get("max_epochs", 4)


def test_unchanged_run_rebuilds_deleted_outputs_from_the_kept_state(encoded, tmp_path):
    run = tmp_path / "run"
    first = sentiment(encoded, run)
    for name in ("best.pt", "metrics.json", "curve.csv", "predictions.npz"):
        (run / name).unlink()
    messages: list[str] = []
    rebuilt = sentiment(encoded, run, messages.append)
    assert any("resuming" in m and "after epoch 4" in m for m in messages)
    assert not any(" epoch 4/4 " in m for m in messages)  # no epoch was trained again
    assert rebuilt == first  # times included: they come from the saved state


@pytest.mark.slow  # real subprocesses: the second test group
def test_a_code_edit_retrains_in_place_to_a_fresh_result(tmp_path):
    """Edit the model code in a copy of the package: the old state is not reused."""
    src = tmp_path / "src"
    shutil.copytree(SRC / "rnnlab", src / "rnnlab", ignore=shutil.ignore_patterns("__pycache__"))
    files = write_series_files(tmp_path / "data")
    cfg = run_cfg(max_epochs=2)
    # Before the edit the copy is this very code: an in-process run writes the state the
    # copy's first run would (the fingerprint hashes files by their path inside src/).
    before = forecast_train.train_run(tiny_series(), cfg, tmp_path / "run", log=lambda _: None)
    models = src / "rnnlab" / "forecast" / "models.py"
    text = models.read_text()
    edited = text.replace(
        "self.head = nn.Linear(directions * hidden, 1)",
        "self.head = nn.Linear(directions * hidden, 1, bias=False)",
    )
    assert edited != text
    models.write_text(edited)
    again = forecast_cli(files, tmp_path / "run", cfg, src)
    assert again.returncode == 0, again.stderr
    assert "discarding" in again.stdout and "rnnlab/forecast/models.py" in again.stdout
    assert forecast_cli(files, tmp_path / "fresh", cfg, src).returncode == 0
    after, fresh = (json.loads((tmp_path / d / "metrics.json").read_text())
                    for d in ("run", "fresh"))  # fmt: skip
    assert without_timing(after) == without_timing(fresh)
    assert after["test"] != before["test"]


@pytest.mark.parametrize("entry", ["rnnlab.sentiment.train", "rnnlab.forecast.train"])
def test_the_fingerprint_code_is_the_rules_code_inputs(entry):
    """The files the fingerprint hashes are the ones the workflow lists as the rule's inputs."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "codedeps_for_training", SRC.parent / "workflow" / "lib" / "codedeps.py"
    )
    codedeps = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(codedeps)
    ours = tuple(p.relative_to(SRC).as_posix() for p in training.code_closure(entry))
    assert ours == codedeps.closure(SRC, entry)


def test_the_fingerprint_covers_settings_code_and_data(tmp_path):
    closure = {p.relative_to(SRC).as_posix() for p in training.code_closure(
        "rnnlab.forecast.train")}  # fmt: skip
    assert {"rnnlab/training.py", "rnnlab/forecast/models.py", "rnnlab/data/power.py",
            "rnnlab/data/sources.py", "rnnlab/__init__.py"} <= closure  # fmt: skip
    assert "rnnlab/sentiment/train.py" not in closure
    base = training.fingerprint({"a": 1}, "rnnlab.forecast.train", "d" * 64)
    assert training.fingerprint_difference(base, base) == ""
    other = training.fingerprint({"a": 2}, "rnnlab.forecast.train", "e" * 64)
    assert training.fingerprint_difference(base, other) == "settings a; data"
    assert training.fingerprint_difference(None, base) == "a state of another format"


# ---------------------------------------------------------------- loop details


def toy_task(nan_in_epoch: int | None = None) -> training.Task:
    """Linear regression on fixed data; the loss turns NaN in `nan_in_epoch`."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(64, 3, generator=gen)
    y = x @ torch.tensor([1.0, -2.0, 0.5])
    model = torch.nn.Linear(3, 1)
    optimiser = torch.optim.SGD(model.parameters(), lr=0.1)
    epochs = {"seen": 0}

    def batches(generator: torch.Generator):
        epochs["seen"] += 1
        for sel in torch.split(torch.randperm(64, generator=generator), 16):
            yield x[sel], y[sel]

    def loss(batch):
        value = torch.mean((model(batch[0]).squeeze(-1) - batch[1]) ** 2)
        if epochs["seen"] == nan_in_epoch:
            value = value * math.nan
        return value, {"n": len(batch[1])}

    def validate():
        with torch.no_grad():
            return {"val_mse": float(torch.mean((model(x).squeeze(-1) - y) ** 2))}

    return training.Task(name="toy", model=model, optimiser=optimiser, batches=batches,
                         n_batches=4, loss=loss, clip=lambda: None, validate=validate,
                         metric="val_mse", mode="min")  # fmt: skip


def test_a_non_finite_loss_stops_naming_the_config_key(tmp_path):
    settings = training.Settings.from_config({"lr": 0.1, "max_epochs": 5, "patience": 5},
                                             "forecast")  # fmt: skip
    fp = training.fingerprint({}, "rnnlab.training", "")
    with pytest.raises(RnnlabError, match=r"epoch 2, batch 1.*`forecast\.lr`.*grad_clip"):
        training.fit(toy_task(nan_in_epoch=2), settings, 0, tmp_path / "last.pt", fp,
                     log=lambda _: None)  # fmt: skip
    saved = torch.load(tmp_path / "last.pt", weights_only=False)
    assert saved["state"]["epoch"] == 1  # the finished epoch stays saved


def test_schedule_factors():
    warm_cos = training.Schedule(kind="cosine", warmup_epochs=2, min_lr_fraction=0.1)
    assert warm_cos.factor(1, 0.5, 10, 1.0) == pytest.approx(0.25)  # a quarter of the warm-up
    assert warm_cos.factor(3, 1.0, 10, 1.0) == pytest.approx(1.0)  # cosine starts at 1
    assert warm_cos.factor(10, 1.0, 10, 1.0) == pytest.approx(0.1 + 0.9 * 0.5 * (1 + math.cos(
        math.pi * 7 / 8)))  # fmt: skip
    assert training.Schedule(kind="exponential", decay=0.8).factor(3, 0.5, 9, 1.0) == 0.8**2
    assert training.Schedule(kind="plateau").factor(4, 1.0, 9, 0.25) == 0.25
    with pytest.raises(RnnlabError, match=r"forecast\.lr_schedule\.kind"):
        training.Settings.from_config(
            {"lr": 0.1, "max_epochs": 3, "patience": 1, "lr_schedule": {"kind": "step"}},
            "forecast",
        )


def test_plateau_schedule_halves_the_rate_on_a_stall(tmp_path):
    schedule = {"kind": "plateau", "decay": 0.5, "plateau_patience": 2}
    raw = {"lr": 0.1, "max_epochs": 6, "patience": 6, "min_delta": 10.0, "lr_schedule": schedule}
    settings = training.Settings.from_config(raw, "toy")
    fp = training.fingerprint({}, "rnnlab.training", "")
    outcome = training.fit(toy_task(), settings, 0, tmp_path / "last.pt", fp, log=lambda _: None)
    # min_delta 10: only the first epoch counts as an improvement; stalls at 2, 3, ...
    assert [round(h["lr"], 6) for h in outcome.history] == [0.1, 0.1, 0.1, 0.05, 0.05, 0.025]
    assert outcome.best_epoch == 1 and outcome.cap_bound


# ---------------------------------------------------------------- the cap kept apart


def _fit_toy(path, max_epochs, schedule=None, log=None):
    raw = {"lr": 0.1, "max_epochs": max_epochs, "patience": 9, "lr_schedule": schedule or {}}
    settings = training.Settings.from_config(raw, "toy")
    torch.manual_seed(0)
    task = toy_task()
    fp = training.fingerprint(raw, "rnnlab.training", "")
    outcome = training.fit(task, settings, 0, path, fp, log=log or (lambda _: None))
    weights = {k: v.clone() for k, v in task.model.state_dict().items()}
    return outcome, weights


def _curve(outcome):
    return [{k: v for k, v in row.items() if "seconds" not in k} for row in outcome.history]


@pytest.mark.parametrize("kind", ["exponential", "constant", "plateau"])
def test_a_higher_cap_goes_on_from_a_run_saved_under_a_lower_one(tmp_path, kind):
    schedule = {"kind": kind, "decay": 0.7}
    straight, straight_w = _fit_toy(tmp_path / "a.pt", 5, schedule)
    _fit_toy(tmp_path / "b.pt", 2, schedule)
    lines = []
    resumed, resumed_w = _fit_toy(tmp_path / "b.pt", 5, schedule, log=lines.append)
    assert any("after epoch 2 (saved under max_epochs 2)" in line for line in lines)
    assert _curve(resumed) == _curve(straight) and resumed.epochs_run == 5
    assert all(torch.equal(resumed_w[k], straight_w[k]) for k in straight_w)


def test_a_cap_is_not_crossed_where_it_matters(tmp_path):
    lines = []
    # The cosine schedule spreads its decay over max_epochs: another cap, other rates.
    _fit_toy(tmp_path / "c.pt", 2, {"kind": "cosine"})
    _fit_toy(tmp_path / "c.pt", 4, {"kind": "cosine"}, log=lines.append)
    assert "which the cosine schedule depends on" in lines[0]
    # A state past the new cap cannot be cut back to it.
    _fit_toy(tmp_path / "d.pt", 4)
    outcome, _ = _fit_toy(tmp_path / "d.pt", 2, log=lines.append)
    assert any("trained past this run's cap of 2" in line for line in lines)
    assert outcome.epochs_run == 2


def test_the_cap_is_read_at_its_key_path():
    fp = training.fingerprint({"hyper": {"max_epochs": 4, "lr": 0.1}}, "rnnlab.training", "",
                              cap=("hyper", "max_epochs"))  # fmt: skip
    assert fp["cap"] == 4 and fp["settings"] == {"hyper": {"lr": 0.1}}
    other = training.fingerprint({"hyper": {"max_epochs": 16, "lr": 0.1}}, "rnnlab.training",
                                 "", cap=("hyper", "max_epochs"))  # fmt: skip
    assert training.fingerprint_difference(fp, other) == ""
