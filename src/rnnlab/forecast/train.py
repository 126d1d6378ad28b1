"""Train one Q7 forecaster (one model x one window length) and score it on the test split.

One Snakemake job per trained model. The job is deterministic (seeded init, an
epoch's order drawn from a generator seeded by (seed, epoch)) and resumable: after
every epoch it saves model, optimiser, history, best weights and RNG states to a
resume file; a killed job rerun with the same settings and code continues from
the last finished epoch and ends with the very same numbers. The resume file is
removed once the job's outputs are written.

Training windows: `train_subsample` k > 1 makes epoch e use every k-th training
target starting at e mod k, so k consecutive epochs see every window once while an
epoch costs 1/k (consecutive hourly windows overlap in all but one step).
Validation picks the best epoch (by validation MSE); the test split is scored once,
with those weights, on the targets shared by every window length
(`power.window_targets(common_length=...)`), so errors are comparable across
lengths and against the persistence forecast on the same targets.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnlab.data.power import Series, load_series, window_targets, windows_for
from rnnlab.errors import RnnlabError
from rnnlab.forecast import models as models_module
from rnnlab.forecast.models import Forecaster
from rnnlab.runtime import cli, resolve_device, save_torch, seed_everything, set_threads, write_json

EVAL_BATCH = 1024


def _code_fingerprint() -> str:
    """Hash of the code that defines a run: a resume file from other code is not reused."""
    digest = hashlib.sha256()
    for path in (Path(__file__), Path(models_module.__file__)):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def convergence_epochs(val_losses: list[float], initial: float) -> dict[str, int | None]:
    """Two definitions of "epochs to reach 90% of the best validation performance".

    `within_10pct`: the first epoch whose validation MSE is <= 1.1 x the best
    (the loss-ratio reading, the one the table shows). `gain_90pct`: the first
    epoch that achieves 90% of the total reduction from the untrained model's
    loss to the best (a stricter reading that is not fooled by a low start).
    """
    best = min(val_losses)
    within = next(e for e, v in enumerate(val_losses, start=1) if v <= 1.1 * best)
    goal = initial - 0.9 * (initial - best)
    gain = next((e for e, v in enumerate(val_losses, start=1) if v <= goal), None)
    return {"within_10pct": within, "gain_90pct": gain}


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, device: torch.device
             ) -> tuple[np.ndarray, float, float]:
    """Predictions (standardised), MSE and MAE in standardised units."""
    model.eval()
    preds = []
    with torch.no_grad():
        for start in range(0, len(x), EVAL_BATCH):
            batch = torch.from_numpy(x[start : start + EVAL_BATCH]).to(device)
            preds.append(model(batch).cpu().numpy())
    pred = np.concatenate(preds) if preds else np.zeros(0, dtype=np.float32)
    err = pred.astype(np.float64) - y.astype(np.float64)
    return pred, float(np.mean(err**2)), float(np.mean(np.abs(err)))


def _rng_state() -> dict[str, Any]:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(),
            "python": random.getstate()}


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def train_run(series: Series, cfg: dict[str, Any], out_dir: Path, resume_path: Path,
              stop_after: int | None = None) -> dict[str, Any] | None:
    """Train, select, test; returns the metrics (None when stopped early by `stop_after`)."""
    model_name = cfg["model"]
    length = int(cfg["length"])
    common = int(cfg["common_length"])
    if common < length:
        raise RnnlabError(f"forecast common_length {common} is shorter than window {length}.")
    device = resolve_device(cfg.get("device", "cpu"))
    seed_everything(int(cfg["seed"]))

    train_t = window_targets(series, "train", length)
    val_t = window_targets(series, "val", length)
    test_t = window_targets(series, "test", length, common_length=common)
    for split, targets in (("train", train_t), ("val", val_t), ("test", test_t)):
        if len(targets) == 0:
            raise RnnlabError(
                f"the {split} split has no complete window of length {length} "
                f"(common length {common}); the series is too short for this window or "
                f"has too many long gaps: use a longer series or shorter windows."
            )
    x_train_all, y_train_all = windows_for(series, train_t, length)
    x_val, y_val = windows_for(series, val_t, length)
    x_test, y_test = windows_for(series, test_t, length)

    n_features = series.values.shape[1]
    model = Forecaster(model_name, n_features, int(cfg["hidden"]), int(cfg["layers"])).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=float(cfg["lr"]))
    loss_fn = nn.MSELoss()
    epochs = int(cfg["epochs"])
    subsample = int(cfg["train_subsample"])
    batch_size = int(cfg["batch_size"])

    fingerprint = hashlib.sha256(
        (json.dumps(cfg, sort_keys=True) + _code_fingerprint()
         + hashlib.sha256(series.values.tobytes()).hexdigest()).encode()
    ).hexdigest()
    history: list[dict[str, float]] = []
    best_state: dict[str, torch.Tensor] | None = None
    best_val = float("inf")
    initial_val = evaluate(model, x_val, y_val, device)[1]
    start_epoch = 1
    if resume_path.exists():
        saved = torch.load(resume_path, map_location=device, weights_only=False)
        if saved.get("fingerprint") == fingerprint:
            model.load_state_dict(saved["model"])
            optimiser.load_state_dict(saved["optimiser"])
            history, best_state, best_val = saved["history"], saved["best_state"], saved["best_val"]
            initial_val = saved["initial_val"]
            _set_rng_state(saved["rng"])
            start_epoch = len(history) + 1
            print(f"resuming {model_name} L{length} after epoch {len(history)}", flush=True)
        else:
            print(f"ignoring {resume_path}: other settings, data or code", flush=True)

    for epoch in range(start_epoch, epochs + 1):
        model.train()
        phase = (epoch - 1) % subsample
        idx = np.arange(phase, len(x_train_all), subsample)
        # The order of an epoch depends only on (seed, epoch): a resumed run draws the same.
        gen = torch.Generator().manual_seed(int(cfg["seed"]) * 100_003 + epoch)
        order = idx[torch.randperm(len(idx), generator=gen).numpy()]
        # Wall time depends on what else the machine runs; the process's CPU time (one
        # torch thread) is the cost of the epoch itself, comparable across models.
        tick, cpu_tick = time.perf_counter(), time.process_time()
        total, count = 0.0, 0
        for start in range(0, len(order), batch_size):
            sel = order[start : start + batch_size]
            xb = torch.from_numpy(x_train_all[sel]).to(device)
            yb = torch.from_numpy(y_train_all[sel]).to(device)
            optimiser.zero_grad()
            loss = loss_fn(model(xb), yb)
            if not torch.isfinite(loss):
                # Stop before the bad step reaches the weights; earlier epochs stay saved.
                value = float(loss.detach())
                raise RnnlabError(
                    f"the training loss became {value} in epoch {epoch} (lr {cfg['lr']:g}): "
                    f"training diverged. Lower `forecast.lr` (or `forecast.grad_clip`) in the "
                    f"config and rerun; finished runs and this run's saved epochs are kept."
                )
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), float(cfg["grad_clip"]))
            optimiser.step()
            total += float(loss.detach()) * len(sel)
            count += len(sel)
        seconds = time.perf_counter() - tick
        cpu_seconds = time.process_time() - cpu_tick
        _, val_mse, val_mae = evaluate(model, x_val, y_val, device)
        history.append({"epoch": epoch, "train_mse": total / count, "val_mse": val_mse,
                        "val_mae": val_mae, "seconds": seconds, "cpu_seconds": cpu_seconds})
        if val_mse < best_val:
            best_val = val_mse
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        print(f"{model_name} L{length} epoch {epoch}/{epochs} train {total / count:.4f} "
              f"val {val_mse:.4f} ({seconds:.1f}s wall, {cpu_seconds:.1f}s cpu)", flush=True)
        save_torch(resume_path, {
            "fingerprint": fingerprint, "model": model.state_dict(),
            "optimiser": optimiser.state_dict(), "history": history, "best_state": best_state,
            "best_val": best_val, "initial_val": initial_val, "rng": _rng_state(),
        })
        if stop_after is not None and epoch >= stop_after and epoch < epochs:
            return None

    assert best_state is not None
    model.load_state_dict(best_state)
    pred, test_mse, test_mae = evaluate(model, x_test, y_test, device)
    last_input = x_test[:, -1, series.target_index].astype(np.float64)
    persist_err = last_input - y_test.astype(np.float64)
    persist_val = x_val[:, -1, series.target_index].astype(np.float64) - y_val.astype(np.float64)
    scale = series.target_std
    val_losses = [h["val_mse"] for h in history]
    best_epoch = int(np.argmin(val_losses)) + 1
    metrics = {
        "model": model_name,
        "length": length,
        "common_length": common,
        "trainable_parameters": model.trainable_parameters(),
        "epochs": epochs,
        "best_epoch": best_epoch,
        "initial_val_mse": initial_val,
        "best_val_mse": best_val,
        "convergence_epochs": convergence_epochs(val_losses, initial_val),
        "mean_epoch_seconds": float(np.mean([h["seconds"] for h in history])),
        "mean_epoch_cpu_seconds": float(np.mean([h["cpu_seconds"] for h in history])),
        "threads": torch.get_num_threads(),
        "history": history,
        "windows": {"train": len(train_t),
                    "train_per_epoch": int(np.ceil(len(train_t) / subsample)),
                    "val": len(val_t), "test": len(test_t)},
        "test": {
            "mse": test_mse, "mae": test_mae,
            "mse_kw2": test_mse * scale**2, "mae_kw": test_mae * scale,
            "rmse_kw": float(np.sqrt(test_mse)) * scale,
        },
        "persistence": {
            "mse": float(np.mean(persist_err**2)), "mae": float(np.mean(np.abs(persist_err))),
            "mse_kw2": float(np.mean(persist_err**2)) * scale**2,
            "mae_kw": float(np.mean(np.abs(persist_err))) * scale,
            "val_mse": float(np.mean(persist_val**2)),
        },
        "config": cfg,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    save_torch(out_dir / "model.pt", {"model": model_name, "length": length, "config": cfg,
                                      "n_features": n_features, "state_dict": best_state})
    tmp = out_dir / ".predictions.tmp.npz"
    np.savez(tmp, targets=test_t, pred=pred, y=y_test)
    tmp.replace(out_dir / "predictions.npz")
    write_json(out_dir / "metrics.json", metrics)
    resume_path.unlink(missing_ok=True)
    return metrics


def load_model(path: str | Path, device: torch.device | None = None) -> Forecaster:
    """A trained forecaster from its model.pt (best-validation weights)."""
    saved = torch.load(path, map_location=device or "cpu", weights_only=False)
    cfg = saved["config"]
    model = Forecaster(saved["model"], int(saved["n_features"]), int(cfg["hidden"]),
                       int(cfg["layers"]))
    model.load_state_dict(saved["state_dict"])
    model.eval()
    return model


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.forecast.train")
    parser.add_argument("--series", required=True)
    parser.add_argument("--prep", required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--resume", required=True, help="resume file (kept only while unfinished)")
    parser.add_argument("--params", required=True, help="JSON: this run's settings")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--stop-after", type=int, default=None,
                        help="stop after this epoch as if killed (tests of resuming)")
    args = parser.parse_args(argv)
    set_threads(args.threads)
    series = load_series(args.series, args.prep)
    train_run(series, json.loads(args.params), Path(args.out_dir), Path(args.resume),
              args.stop_after)
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
