"""Fake Q6-A runs for the summary, claims and template tests: metrics.json + predictions.npz.

Written to the trainer's contract (a run directory holds both files; predictions are
in test-split order with `label` int8, `logit` float32, `correct` bool), so these
tests do not need a trained model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

N_TEST = 400


def correct_vector(acc: float, n: int = N_TEST, shift: int = 0) -> np.ndarray:
    """`round(acc * n)` correct reviews: a block starting at `shift` (wrapping)."""
    k = int(round(acc * n))
    out = np.zeros(n, dtype=bool)
    out[:k] = True
    return np.roll(out, shift)


def fake_metrics(model: str, length: int, seed: int, acc: float, **extra) -> dict:
    metrics = {
        "model": model,
        "length": length,
        "seed": seed,
        "test_acc": float(correct_vector(acc).mean()),
        "val_acc": acc + 0.01,
        "test_loss": 0.5,
        "best_epoch": 2,
        "epochs_run": 5,
        "max_epochs": 10,
        "stopped_early": True,
        "cap_bound": False,
        "cpu_seconds": 12.0,
        "train_seconds": 10.0,
        "tokens_per_s": 1000.0,
        "parameters": 100 if model == "rnn" else 400,
        "truncated_share": 0.5 if length == 50 else 0.1,
        "truncation": "head",
        "hyper": {
            "embed_dim": 8,
            "hidden_size": 8,
            "dropout": 0.3,
            "batch_size": 16,
            "eval_batch_size": 64,
            "lr": 0.003,
            "lr_schedule": {"kind": "exponential", "decay": 0.8},
            "grad_clip": 1.0,
            "max_epochs": 10,
            "patience": 2,
            "bucket_pool": 4,
            "sparse_embedding": True,
        },
        "n_train": 10,
        "n_val": 2,
        "n_test": N_TEST,
        "device": "cpu",
        "test_acc_cut": acc - 0.05,
        "test_acc_whole": acc + 0.02,
    }
    metrics.update(extra)
    return metrics


def write_run(
    root: Path, model: str, length: int, seed: int, acc: float, shift: int = 0, **extra
) -> tuple[Path, Path]:
    """One run directory; returns (metrics.json, predictions.npz)."""
    run = root / f"{model}_L{length}_s{seed}"
    run.mkdir(parents=True, exist_ok=True)
    metrics = fake_metrics(model, length, seed, acc, **extra)
    (run / "metrics.json").write_text(json.dumps(metrics))
    correct = correct_vector(acc, shift=shift)
    label = (np.arange(N_TEST) % 2).astype(np.int8)
    logit = np.where(correct == label.astype(bool), 1.0, -1.0).astype(np.float32)
    np.savez(run / "predictions.npz", label=label, logit=logit, correct=correct)
    return run / "metrics.json", run / "predictions.npz"


def write_runs(root: Path, accs: dict) -> tuple[list[Path], list[Path]]:
    """`accs[(model, length)]` = accuracy or a list (one per seed)."""
    metrics, preds = [], []
    for (model, length), value in accs.items():
        for seed, acc in enumerate(value if isinstance(value, list) else [value]):
            m, p = write_run(root, model, length, seed, acc)
            metrics.append(m)
            preds.append(p)
    return metrics, preds


def write_baseline(root: Path, accs: dict[int, float], full: float = 0.9) -> tuple[Path, Path]:
    """A baseline.json + predictions.npz with the given accuracy per length."""
    root.mkdir(parents=True, exist_ok=True)
    variants, arrays = {}, {"label": (np.arange(N_TEST) % 2).astype(np.int8)}
    for key, acc in [*((f"L{n}", a) for n, a in accs.items()), ("full", full)]:
        correct = correct_vector(acc)
        arrays[f"correct_{key}"] = correct
        arrays[f"logit_{key}"] = np.where(correct, 1.0, -1.0).astype(np.float32)
        variants[key] = {
            "length": key if key == "full" else int(key[1:]),
            "C": 1.0, "val_acc": acc, "val_acc_by_C": {"1.0": acc},
            "test_acc": float(correct.mean()), "n_features": 1000, "cpu_seconds": 1.0,
        }  # fmt: skip
    summary = {
        "method": "tf-idf + logistic regression", "ngram_range": [1, 2], "min_df": 2,
        "c_grid": [1.0], "truncation": "head", "n_train": 10, "n_val": 2, "n_test": N_TEST,
        "variants": variants, "cpu_seconds": 5.0,
    }  # fmt: skip
    (root / "baseline.json").write_text(json.dumps(summary))
    np.savez(root / "predictions.npz", **arrays)
    return root / "baseline.json", root / "predictions.npz"
