"""Q6-A: train one sentiment model per (cell, length, seed) on IMDb.

Command (the `sentiment_train` rule in workflow/rules/sentiment.smk):

    python -m rnnlab.sentiment.train fit --data encoded.pt --model lstm --length 200 --seed 0 \\
        --hyper '{...}' --out-dir results/sentiment/runs/lstm_L200_s0 --threads 1

`rnnlab.sentiment.summary` aggregates the runs into the table and the figure.

Method. Reviews are cut to their first (or last, as the data was encoded) L tokens
and padded on the right; the logit is read at each review's last real token
(`SentimentRNN`), so padding never reaches the prediction and no packing is needed.
Batches are bucketed by length and trimmed to their longest review (`batching`).
The embedding can take sparse gradients (only the rows a batch uses are updated by
a lazy Adam), which skips a dense update of the whole vocabulary matrix per step.
The epoch loop, early stopping on validation accuracy (`patience`, `min_delta`,
`max_epochs`), the learning-rate schedule, the resume state and its fingerprint are
those of the one training engine, `rnnlab.training`; this module supplies the model,
the batches, the loss and the validation metric. The test split is scored once, with
the best epoch's weights; `predictions.npz` keeps each test review's label, logit
and correctness (in split order) for paired tests between models.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from rnnlab import training
from rnnlab.data.imdb import SPLITS, clip_to_length, load_encoded
from rnnlab.errors import RnnlabError
from rnnlab.runtime import (
    cli,
    resolve_device,
    save_torch,
    seed_everything,
    set_threads,
    sha256_file,
    write_json,
)
from rnnlab.sentiment.batching import bucketed_order, iterate, sorted_order
from rnnlab.sentiment.models import CELLS, SentimentRNN, count_parameters

CURVE_COLUMNS = (
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "seconds",
    "tokens_per_s",
    "cpu_seconds",
    "lr",
)
ENTRY = "rnnlab.sentiment.train"  # the module whose import closure is the run's code


@dataclass(frozen=True)
class Hyper:
    """Training hyper-parameters shared by every (model, length, seed) run."""

    embed_dim: int = 128
    hidden_size: int = 128
    dropout: float = 0.0
    batch_size: int = 64
    eval_batch_size: int = 256
    lr: float = 1e-3
    # rnnlab.training.Schedule as a mapping, e.g. {"kind": "exponential", "decay": 0.8}
    lr_schedule: dict[str, Any] = field(default_factory=lambda: asdict(training.Schedule()))
    grad_clip: float = 1.0  # max global gradient L2 norm; 0 disables clipping
    max_epochs: int = 10
    patience: int = 2  # epochs without a better validation accuracy before stopping
    min_delta: float = 0.0  # a validation accuracy must beat the best by more than this
    bucket_pool: int = 50  # batches per sorting pool; 1 = no bucketing
    sparse_embedding: bool = True

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Hyper:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise RnnlabError(
                f"unknown sentiment hyper-parameter(s) {unknown}; known: {sorted(known)}."
            )
        hyper = cls(**raw)
        checks = {
            "embed_dim": hyper.embed_dim >= 1,
            "hidden_size": hyper.hidden_size >= 1,
            "batch_size": hyper.batch_size >= 1,
            "eval_batch_size": hyper.eval_batch_size >= 1,
            "grad_clip": hyper.grad_clip >= 0,
            "bucket_pool": hyper.bucket_pool >= 1,
            "dropout": 0 <= hyper.dropout < 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise RnnlabError(
                f"sentiment hyper-parameter(s) out of range: "
                f"{ {name: getattr(hyper, name) for name in bad} }; fix them in the config."
            )
        # lr, stopping and schedule: checked by the engine; the schedule is kept resolved
        schedule = asdict(hyper.settings().schedule)
        return replace(hyper, lr_schedule=schedule)

    def settings(self) -> training.Settings:
        return training.Settings.from_config(asdict(self), "sentiment.hyper")


@dataclass
class Split:
    ids: torch.Tensor  # [N, L] long, left-aligned, 0-padded
    lengths: torch.Tensor  # [N] long, clipped to 1..L
    labels: torch.Tensor  # [N] long 0/1

    def __len__(self) -> int:
        return len(self.labels)


# ---------------------------------------------------------------- data


def clip_split(data: dict[str, Any], split: str, length: int) -> Split:
    """The split cut to `length` tokens as the data was encoded (head or tail)."""
    if length > int(data["max_length"]):
        raise RnnlabError(
            f"length {length} exceeds the stored imdb.max_length={data['max_length']}; "
            "raise imdb.max_length in the config (or drop this length)."
        )
    part = data[split]
    ids, lengths = clip_to_length(
        part["ids"], part["lengths"], length, data.get("truncation", "head")
    )
    # An empty review (no known token) is read at position 0, a pad whose embedding is zero.
    return Split(
        ids=ids, lengths=lengths.clamp(min=1), labels=torch.as_tensor(part["labels"]).long()
    )


# ---------------------------------------------------------------- optimisation


class Optimiser:
    """Adam on the dense weights; lazy (sparse) Adam on the embedding when it is sparse.

    Clipping uses the global norm over all gradients, sparse ones included, so the
    sparse and dense variants clip the same update.
    """

    def __init__(self, model: SentimentRNN, hyper: Hyper) -> None:
        self.model = model
        self.grad_clip = hyper.grad_clip
        model.embedding.sparse = hyper.sparse_embedding
        if hyper.sparse_embedding:
            dense = [p for n, p in model.named_parameters() if not n.startswith("embedding.")]
            self.parts = [
                torch.optim.Adam(dense, lr=hyper.lr),
                torch.optim.SparseAdam([model.embedding.weight], lr=hyper.lr),
            ]
        else:
            self.parts = [torch.optim.Adam(model.parameters(), lr=hyper.lr)]

    def zero_grad(self) -> None:
        for opt in self.parts:
            opt.zero_grad(set_to_none=True)

    def clip(self) -> float:
        grads = [p.grad for p in self.model.parameters() if p.grad is not None]
        squares = []
        for grad in grads:
            values = grad.coalesce().values() if grad.is_sparse else grad
            squares.append(values.pow(2).sum())
        norm = float(torch.stack(squares).sum().sqrt()) if squares else 0.0
        if self.grad_clip > 0 and norm > self.grad_clip:
            scale = self.grad_clip / (norm + 1e-6)
            for grad in grads:
                grad.mul_(scale)
        return norm

    def step(self) -> None:
        for opt in self.parts:
            opt.step()

    def set_lr(self, lr: float) -> None:
        for opt in self.parts:
            for group in opt.param_groups:
                group["lr"] = lr

    def state_dict(self) -> list[dict[str, Any]]:
        return [opt.state_dict() for opt in self.parts]

    def load_state_dict(self, states: list[dict[str, Any]]) -> None:
        for opt, state in zip(self.parts, states, strict=True):
            opt.load_state_dict(state)


# ---------------------------------------------------------------- training


@torch.no_grad()
def evaluate(model: SentimentRNN, split: Split, batch_size: int, device: torch.device) -> dict:
    """Mean BCE loss, accuracy, and per-review logits and correctness (in split order).

    Batches are sorted by length: the same result as any order, with less padding.
    """
    model.eval()
    total_loss = 0.0
    logits_all = torch.zeros(len(split), dtype=torch.float32)
    order = sorted_order(split.lengths, batch_size)
    for index, batch in zip(
        order, iterate(split.ids, split.lengths, split.labels, order), strict=True
    ):
        batch = batch.to(device)
        logits = model(batch.ids, batch.lengths)
        total_loss += float(
            F.binary_cross_entropy_with_logits(logits, batch.labels, reduction="sum")
        )
        logits_all[index] = logits.float().cpu()
    correct = (logits_all > 0).long() == split.labels
    n = max(1, len(split))
    return {
        "loss": total_loss / n,
        "acc": float(correct.sum()) / n,
        "correct": correct,
        "logits": logits_all,
    }


def make_task(name: str, model: SentimentRNN, splits: dict[str, Split], hyper: Hyper,
              device: torch.device) -> training.Task:  # fmt: skip
    """The Q6-A part of a training: bucketed batches, BCE loss, validation accuracy."""
    train = splits["train"]
    optimiser = Optimiser(model, hyper)

    def batches(gen: torch.Generator):
        order = bucketed_order(train.lengths, hyper.batch_size, hyper.bucket_pool, gen)
        return iterate(train.ids, train.lengths, train.labels, order)

    def loss(batch: Any) -> tuple[torch.Tensor, dict[str, float]]:
        batch = batch.to(device)
        logits = model(batch.ids, batch.lengths)
        value = F.binary_cross_entropy_with_logits(logits, batch.labels)
        correct = int(((logits.detach() > 0).float() == batch.labels).sum())
        return value, {"n": len(batch.labels), "correct": correct, "tokens": batch.real_tokens}

    def epoch_fields(sums: dict[str, float], seconds: float) -> dict[str, float]:
        return {
            "train_acc": sums["correct"] / max(1.0, sums["n"]),
            "tokens_per_s": sums["tokens"] / max(seconds, 1e-9),
            "tokens": sums["tokens"],
        }

    def validate() -> dict[str, float]:
        val = evaluate(model, splits["val"], hyper.eval_batch_size, device)
        return {"val_loss": val["loss"], "val_acc": val["acc"]}

    return training.Task(
        name=name, model=model, optimiser=optimiser, batches=batches,
        n_batches=math.ceil(len(train) / hyper.batch_size), loss=loss, clip=optimiser.clip,
        validate=validate, metric="val_acc", mode="max", epoch_fields=epoch_fields,
    )  # fmt: skip


def train_run(
    data_path: str | Path,
    cell: str,
    length: int,
    seed: int,
    hyper: Hyper,
    out_dir: str | Path,
    device: torch.device | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Train one model, resuming from `out_dir/last.pt` when it belongs to this run.

    Writes `best.pt`, `metrics.json`, `curve.csv` and `predictions.npz` into `out_dir`
    and returns the metrics.
    """
    if cell not in CELLS:
        raise RnnlabError(f"unknown model {cell!r}; use one of {', '.join(CELLS)}.")
    if length < 1:
        raise RnnlabError(f"sequence length must be positive, got {length}.")
    if not Path(data_path).exists():
        raise RnnlabError(f"encoded IMDb data {data_path} is missing; run the `imdb_encode` rule.")
    device = device or torch.device("cpu")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    settings = hyper.settings()
    data = load_encoded(data_path)
    splits = {name: clip_split(data, name, length) for name in SPLITS}
    seed_everything(seed)
    model = SentimentRNN(
        vocab_size=int(data["vocab_size"]),
        embed_dim=hyper.embed_dim,
        hidden_size=hyper.hidden_size,
        cell=cell,
        pad_id=int(data["pad_id"]),
        dropout=hyper.dropout,
    ).to(device)
    task = make_task(f"{cell} L={length} seed={seed}", model, splits, hyper, device)
    run = {"cell": cell, "length": length, "seed": seed, "hyper": asdict(hyper),
           "device": device.type}  # fmt: skip
    fp = training.fingerprint(run, ENTRY, sha256_file(data_path), cap=("hyper", "max_epochs"))
    log(
        f"{task.name}: {len(splits['train'])} train / {len(splits['val'])} val / "
        f"{len(splits['test'])} test reviews, {count_parameters(model)} parameters, "
        f"{task.n_batches} batches per epoch, device {device.type}, "
        f"threads {torch.get_num_threads()}"
    )
    outcome = training.fit(task, settings, seed, out_dir / training.RESUME_NAME, fp, log)
    test = evaluate(model, splits["test"], hyper.eval_batch_size, device)
    write_outputs(out_dir, run, data, splits, model, outcome, test)
    metrics = run_metrics(run, data, splits, model, outcome, test)
    write_json(out_dir / "metrics.json", metrics)
    log(f"test_acc {test['acc']:.4f} test_loss {test['loss']:.4f}; "
        f"{outcome.train_seconds:.0f}s training ({outcome.cpu_seconds:.0f}s cpu)")  # fmt: skip
    return metrics


def write_outputs(out_dir: Path, run: dict[str, Any], data: dict[str, Any],
                  splits: dict[str, Split], model: SentimentRNN, outcome: training.Outcome,
                  test: dict[str, Any]) -> None:  # fmt: skip
    """best.pt, curve.csv and predictions.npz (metrics.json is written last, by the caller)."""
    save_torch(
        out_dir / "best.pt",
        {
            "model_config": model.config,
            "model_state": {k: v.cpu() for k, v in model.state_dict().items()},
            "model": run["cell"],
            "length": run["length"],
            "seed": run["seed"],
            "epoch": outcome.best_epoch,
            "val_acc": outcome.best_value,
            "hyper": run["hyper"],
            "truncation": data.get("truncation", "head"),
        },
    )
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=CURVE_COLUMNS, extrasaction="ignore")
    writer.writeheader()
    for row in outcome.history:
        writer.writerow({k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()})
    training.write_text(out_dir / "curve.csv", text.getvalue())
    # Paired tests between models (McNemar) need each test review's outcome, in split order.
    training.save_arrays(
        out_dir / "predictions.npz",
        label=splits["test"].labels.numpy().astype(np.int8),
        logit=test["logits"].numpy().astype(np.float32),
        correct=test["correct"].numpy().astype(bool),
    )


def run_metrics(run: dict[str, Any], data: dict[str, Any], splits: dict[str, Split],
                model: SentimentRNN, outcome: training.Outcome,
                test: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    best_row = outcome.history[outcome.best_epoch - 1]
    tokens = sum(row["tokens"] for row in outcome.history)
    # Accuracy on the reviews the length cut short vs those read whole: where the lost
    # text costs accuracy.
    cut = torch.as_tensor(data["test"]["lengths"]) > run["length"]
    return {
        "model": run["cell"],
        "length": run["length"],
        "seed": run["seed"],
        "test_acc": test["acc"],
        "test_loss": test["loss"],
        "val_acc": best_row["val_acc"],
        "val_loss": best_row["val_loss"],
        "train_acc": best_row["train_acc"],
        **outcome.summary(),
        "tokens_per_s": tokens / max(sum(row["seconds"] for row in outcome.history), 1e-9),
        "parameters": count_parameters(model),
        "n_train": len(splits["train"]),
        "n_val": len(splits["val"]),
        "n_test": len(splits["test"]),
        "truncated_share": float(cut.float().mean()),
        "test_acc_cut": float(test["correct"][cut].float().mean()) if cut.any() else None,
        "test_acc_whole": float(test["correct"][~cut].float().mean()) if (~cut).any() else None,
        "truncation": data.get("truncation", "head"),
        "device": run["device"],
        "threads": torch.get_num_threads(),
        "subnormals_flushed": training.subnormals_flushed(),
        "hyper": run["hyper"],
    }


# ---------------------------------------------------------------- command line


def _log_to_stdout(message: str) -> None:
    print(message, flush=True)


def cmd_fit(args: argparse.Namespace) -> None:
    set_threads(args.threads)
    training.flush_subnormals()
    try:
        hyper = Hyper.from_dict(json.loads(args.hyper))
    except json.JSONDecodeError as err:
        raise RnnlabError(f"--hyper is not valid JSON ({err}).") from err
    except TypeError as err:
        raise RnnlabError(f"--hyper has a value of the wrong type ({err}).") from err
    train_run(
        args.data,
        args.model,
        args.length,
        args.seed,
        hyper,
        args.out_dir,
        device=resolve_device(args.device),
        log=_log_to_stdout,
    )


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.sentiment.train", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="train one (model, length, seed) run")
    fit.add_argument("--data", required=True, help="encoded.pt from the imdb_encode rule")
    fit.add_argument("--model", required=True, choices=CELLS)
    fit.add_argument("--length", required=True, type=int)
    fit.add_argument("--seed", required=True, type=int)
    fit.add_argument("--hyper", required=True, help="JSON of the sentiment hyper-parameters")
    fit.add_argument("--out-dir", required=True)
    fit.add_argument("--threads", type=int, default=1)
    fit.add_argument("--device", default="cpu", help="auto, cpu or cuda")
    fit.set_defaults(func=cmd_fit)
    args = parser.parse_args(argv)
    args.func(args)
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
