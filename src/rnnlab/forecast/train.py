"""Train one Q7 forecaster (one model x window length x seed) and score it on the test split.

One Snakemake job per trained model; its settings come as one JSON (`--params`,
the `forecast` config section resolved for the run, `seed` included). The epoch
loop, early stopping on validation MSE (`patience`, `min_delta`, `max_epochs`), the
learning-rate schedule (`lr_schedule`), the resume state and its fingerprint are
those of the one training engine, `rnnlab.training`; this module supplies the
model, the batches, the loss and the validation metric.

An epoch is one full pass over the training windows, in a fresh order drawn from
a generator seeded by (seed, epoch). The windows are materialised once, as
tensors; a batch gathers its rows from them. The best validation epoch's weights
are tested once, on the targets shared by every window length
(`power.window_targets(common_length=...)`), so errors are comparable across
lengths and against the persistence forecast on the same targets.

Convergence speed (`epochs_to_90pct_skill`): the validation skill of an epoch is
`1 - val_mse / persistence_val_mse` (the share of the persistence forecast's error
removed, on the validation windows); the measure is the first epoch whose skill
reaches 90 % of the best skill of the run (None when no epoch beats persistence).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from rnnlab import training
from rnnlab.data.power import Series, load_series, window_targets, windows_for
from rnnlab.errors import RnnlabError
from rnnlab.forecast.models import Forecaster
from rnnlab.runtime import cli, resolve_device, save_torch, seed_everything, set_threads, write_json

ENTRY = "rnnlab.forecast.train"  # the module whose import closure is the run's code
# Validation and test are scored in large batches under no_grad: one batch per few
# thousand windows keeps memory small and the per-call overhead negligible.
EVAL_BATCH = 4096
SKILL_FRACTION = 0.9


def val_skill(val_mse: float, persistence_val_mse: float) -> float:
    """Validation skill over persistence: 1 - mse / persistence mse (1 perfect, 0 persistence)."""
    return 1.0 - val_mse / persistence_val_mse


def epochs_to_skill(skills: list[float], fraction: float = SKILL_FRACTION) -> int | None:
    """First epoch (1-based) whose skill reaches `fraction` of the run's best skill.

    None when the best skill is not positive (no epoch beat persistence): a fraction
    of a non-positive skill is not a target worth reaching.
    """
    best = max(skills)
    if not best > 0:
        return None
    return next(e for e, s in enumerate(skills, start=1) if s >= fraction * best)


def convergence_epochs(val_losses: list[float], initial: float) -> dict[str, int | None]:
    """Two loss-based readings of "epochs to reach 90% of the best validation performance".

    `within_10pct`: the first epoch whose validation MSE is <= 1.1 x the best.
    `gain_90pct`: the first epoch that achieves 90% of the total reduction from the
    untrained model's loss to the best. (`epochs_to_skill` is the skill reading.)
    """
    best = min(val_losses)
    within = next(e for e, v in enumerate(val_losses, start=1) if v <= 1.1 * best)
    goal = initial - 0.9 * (initial - best)
    gain = next((e for e, v in enumerate(val_losses, start=1) if v <= goal), None)
    return {"within_10pct": within, "gain_90pct": gain}


def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device
             ) -> tuple[np.ndarray, float, float]:  # fmt: skip
    """Predictions (standardised), MSE and MAE in standardised units."""
    model.eval()
    preds = []
    with torch.no_grad():
        for start in range(0, len(x), EVAL_BATCH):
            preds.append(model(x[start : start + EVAL_BATCH].to(device)).cpu().numpy())
    pred = np.concatenate(preds) if preds else np.zeros(0, dtype=np.float32)
    err = pred.astype(np.float64) - y.numpy().astype(np.float64)
    return pred, float(np.mean(err**2)), float(np.mean(np.abs(err)))


def series_sha256(series: Series) -> str:
    """Content hash of everything training reads from the prepared series."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(series.values).tobytes())
    digest.update(np.ascontiguousarray(series.stamps).tobytes())
    meta = {"bounds": series.bounds, "target_index": series.target_index,
            "target_mean": series.target_mean, "target_std": series.target_std}  # fmt: skip
    digest.update(json.dumps(meta, sort_keys=True).encode())
    return digest.hexdigest()


def build_windows(series: Series, length: int, common: int) -> dict[str, Any]:
    """Target indices and window tensors of the three splits (materialised once)."""
    if common < length:
        raise RnnlabError(f"forecast common_length {common} is shorter than window {length}.")
    targets = {
        "train": window_targets(series, "train", length),
        "val": window_targets(series, "val", length),
        "test": window_targets(series, "test", length, common_length=common),
    }
    for split, found in targets.items():
        if len(found) == 0:
            raise RnnlabError(
                f"the {split} split has no complete window of length {length} "
                f"(common length {common}); the series is too short for this window or "
                f"has too many long gaps: use a longer series or shorter windows."
            )
    windows: dict[str, Any] = {"targets": targets}
    for split, found in targets.items():
        x, y = windows_for(series, found, length)
        windows[split] = (torch.from_numpy(x), torch.from_numpy(y))
    return windows


def make_task(name: str, model: Forecaster, windows: dict[str, Any], cfg: dict[str, Any],
              persistence_val_mse: float, device: torch.device) -> training.Task:  # fmt: skip
    """The Q7 part of a training: shuffled full passes, MSE loss, validation MSE."""
    x_train, y_train = windows["train"]
    x_val, y_val = windows["val"]
    batch_size = int(cfg["batch_size"])
    optimiser = torch.optim.Adam(model.parameters(), lr=float(cfg["lr"]))
    loss_fn = nn.MSELoss()

    def batches(gen: torch.Generator):
        order = torch.randperm(len(x_train), generator=gen)
        for sel in torch.split(order, batch_size):
            yield x_train[sel], y_train[sel]

    def loss(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
        xb, yb = batch
        return loss_fn(model(xb.to(device)), yb.to(device)), {"n": len(yb)}

    def validate() -> dict[str, float]:
        _, mse, mae = evaluate(model, x_val, y_val, device)
        return {"val_mse": mse, "val_mae": mae, "val_skill": val_skill(mse, persistence_val_mse)}

    return training.Task(
        name=name, model=model, optimiser=optimiser, batches=batches,
        n_batches=-(-len(x_train) // batch_size), loss=loss,
        clip=lambda: nn.utils.clip_grad_norm_(model.parameters(), float(cfg["grad_clip"])),
        validate=validate, metric="val_mse", mode="min", loss_key="train_mse",
    )  # fmt: skip


def persistence_errors(series: Series, windows: dict[str, Any], split: str) -> np.ndarray:
    """Errors of the persistence forecast (the last input value of the target)."""
    x, y = windows[split]
    last = x[:, -1, series.target_index].numpy().astype(np.float64)
    return last - y.numpy().astype(np.float64)


def train_run(series: Series, cfg: dict[str, Any], out_dir: Path,
              log: Any = print) -> dict[str, Any]:  # fmt: skip
    """Train (resuming from `out_dir/last.pt` when it belongs to this run), select, test.

    Writes `model.pt`, `predictions.npz` and `metrics.json` into `out_dir`; returns the metrics.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    length, seed = int(cfg["length"]), int(cfg["seed"])
    settings = training.Settings.from_config(cfg, "forecast")
    device = resolve_device(cfg.get("device", "cpu"))
    windows = build_windows(series, length, int(cfg["common_length"]))
    persistence_val = float(np.mean(persistence_errors(series, windows, "val") ** 2))
    seed_everything(seed)
    n_features = series.values.shape[1]
    model = Forecaster(cfg["model"], n_features, int(cfg["hidden"]), int(cfg["layers"]))
    model = model.to(device)
    task = make_task(f"{cfg['model']} L{length} seed {seed}", model, windows, cfg,
                     persistence_val, device)  # fmt: skip
    initial_val = evaluate(model, *windows["val"], device)[1]  # the untrained model, no RNG used
    fp = training.fingerprint(cfg, ENTRY, series_sha256(series))
    log(f"{task.name}: {len(windows['train'][1])} train / {len(windows['val'][1])} val / "
        f"{len(windows['test'][1])} test windows, {task.n_batches} batches per epoch")  # fmt: skip
    outcome = training.fit(task, settings, seed, out_dir / training.RESUME_NAME, fp, log)
    pred, test_mse, test_mae = evaluate(model, *windows["test"], device)
    metrics = run_metrics(series, cfg, model, windows, outcome, initial_val, persistence_val)
    metrics["test"] = scaled(test_mse, test_mae, series.target_std)
    save_torch(out_dir / "model.pt", {
        "model": cfg["model"], "length": length, "config": cfg, "n_features": n_features,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    })  # fmt: skip
    training.save_arrays(out_dir / "predictions.npz", targets=windows["targets"]["test"],
                         pred=pred, y=windows["test"][1].numpy())  # fmt: skip
    write_json(out_dir / "metrics.json", metrics)
    log(f"test mse {test_mse:.4f} (persistence {metrics['persistence']['mse']:.4f})")
    return metrics


def scaled(mse: float, mae: float, scale: float) -> dict[str, float]:
    """Errors in standardised units and in kW (the target's standard deviation is `scale`)."""
    return {"mse": mse, "mae": mae, "mse_kw2": mse * scale**2, "mae_kw": mae * scale,
            "rmse_kw": float(np.sqrt(mse)) * scale}  # fmt: skip


def run_metrics(series: Series, cfg: dict[str, Any], model: Forecaster, windows: dict[str, Any],
                outcome: training.Outcome, initial_val: float,
                persistence_val: float) -> dict[str, Any]:  # fmt: skip
    history = outcome.history
    val_losses = [h["val_mse"] for h in history]
    persist = persistence_errors(series, windows, "test")
    persistence = scaled(float(np.mean(persist**2)), float(np.mean(np.abs(persist))),
                         series.target_std)  # fmt: skip
    del persistence["rmse_kw"]
    targets = windows["targets"]
    return {
        "model": cfg["model"],
        "length": int(cfg["length"]),
        "seed": int(cfg["seed"]),
        "common_length": int(cfg["common_length"]),
        "trainable_parameters": model.trainable_parameters(),
        "epochs": outcome.max_epochs,  # the budget (kept for readers of older metrics)
        **outcome.summary(),
        "initial_val_mse": initial_val,
        "best_val_mse": outcome.best_value,
        "convergence_epochs": convergence_epochs(val_losses, initial_val),
        "epochs_to_90pct_skill": epochs_to_skill([h["val_skill"] for h in history]),
        "mean_epoch_seconds": float(np.mean([h["seconds"] for h in history])),
        "mean_epoch_cpu_seconds": float(np.mean([h["cpu_seconds"] for h in history])),
        "threads": torch.get_num_threads(),
        "subnormals_flushed": training.subnormals_flushed(),
        "history": history,
        "windows": {
            "train": len(targets["train"]),
            "train_per_epoch": len(targets["train"]),
            "val": len(targets["val"]),
            "test": len(targets["test"]),
        },  # fmt: skip
        "persistence": persistence | {"val_mse": persistence_val},
        "config": cfg,
    }


def load_model(path: str | Path, device: torch.device | None = None) -> Forecaster:
    """A trained forecaster from its model.pt (best-validation weights)."""
    saved = torch.load(path, map_location=device or "cpu", weights_only=False)
    cfg = saved["config"]
    model = Forecaster(saved["model"], int(saved["n_features"]), int(cfg["hidden"]),
                       int(cfg["layers"]))  # fmt: skip
    model.load_state_dict(saved["state_dict"])
    model.eval()
    return model


def _log_to_stdout(message: str) -> None:
    print(message, flush=True)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.forecast.train")
    parser.add_argument("--series", required=True)
    parser.add_argument("--prep", required=True)
    parser.add_argument("--out-dir", required=True, help="run folder (last.pt: resume state)")
    parser.add_argument("--params", required=True, help="JSON: this run's settings, seed included")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    training.flush_subnormals()
    try:
        cfg = json.loads(args.params)
    except json.JSONDecodeError as err:
        raise RnnlabError(f"--params is not valid JSON ({err}).") from err
    series = load_series(args.series, args.prep)
    train_run(series, cfg, Path(args.out_dir), log=_log_to_stdout)
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
