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
Early stopping watches validation accuracy; the test split is scored once, with the
best checkpoint. After every epoch the full training state (weights, optimiser
moments, RNG state, history) is saved, so a killed job resumes from the last
finished epoch and ends with the same numbers as an uninterrupted one.
"""

from __future__ import annotations

import argparse
import csv
import fcntl
import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch
from torch.nn import functional as F

from rnnlab.errors import RnnlabError
from rnnlab.runtime import (
    cli,
    read_json,
    resolve_device,
    save_torch,
    seed_everything,
    set_threads,
    write_json,
)
from rnnlab.sentiment.batching import bucketed_order, epoch_generator, iterate, sorted_order
from rnnlab.sentiment.models import CELLS, SentimentRNN, count_parameters

SPLITS = ("train", "val", "test")
CURVE_COLUMNS = (
    "epoch",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "seconds",
    "tokens_per_s",
    "lr",
)


@dataclass(frozen=True)
class Hyper:
    """Training hyper-parameters shared by every (model, length, seed) run."""

    embed_dim: int = 128
    hidden_size: int = 128
    dropout: float = 0.0
    batch_size: int = 64
    eval_batch_size: int = 256
    lr: float = 1e-3
    lr_decay: float = 1.0  # multiplies the learning rate after every epoch
    grad_clip: float = 1.0  # max global gradient L2 norm; 0 disables clipping
    max_epochs: int = 10
    patience: int = 2  # epochs without a better validation accuracy before stopping
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
            "lr": hyper.lr > 0,
            "lr_decay": 0 < hyper.lr_decay <= 1,
            "grad_clip": hyper.grad_clip >= 0,
            "max_epochs": hyper.max_epochs >= 1,
            "patience": hyper.patience >= 1,
            "bucket_pool": hyper.bucket_pool >= 1,
            "dropout": 0 <= hyper.dropout < 1,
        }
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise RnnlabError(
                f"sentiment hyper-parameter(s) out of range: "
                f"{ {name: getattr(hyper, name) for name in bad} }; fix them in the config."
            )
        return hyper


@dataclass
class Split:
    ids: torch.Tensor  # [N, L] long, left-aligned, 0-padded
    lengths: torch.Tensor  # [N] long, clipped to 1..L
    labels: torch.Tensor  # [N] long 0/1

    def __len__(self) -> int:
        return len(self.labels)


# ---------------------------------------------------------------- data


def load_encoded(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise RnnlabError(f"encoded IMDb data {path} is missing; run the `imdb_encode` rule.")
    data = torch.load(path, map_location="cpu", weights_only=False)
    missing = [k for k in (*SPLITS, "vocab_size", "pad_id", "max_length") if k not in data]
    if missing:
        raise RnnlabError(f"{path} lacks {missing}; rebuild it with the `imdb_encode` rule.")
    return data


def clip_split(data: dict[str, Any], split: str, length: int) -> Split:
    """The split cut to `length` tokens as the data was encoded (head or tail)."""
    from rnnlab.data.imdb import clip_to_length

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


def data_fingerprint(path: str | Path) -> str:
    """Content hash of the data file: a resume checkpoint is only valid for the same data."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


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
    """Mean BCE loss, accuracy and per-review correctness (in split order) over a split.

    Batches are sorted by length: the same result as any order, with less padding.
    """
    model.eval()
    total_loss = 0.0
    correct = torch.zeros(len(split), dtype=torch.bool)
    order = sorted_order(split.lengths, batch_size)
    for index, batch in zip(
        order, iterate(split.ids, split.lengths, split.labels, order), strict=True
    ):
        batch = batch.to(device)
        logits = model(batch.ids, batch.lengths)
        total_loss += float(
            F.binary_cross_entropy_with_logits(logits, batch.labels, reduction="sum")
        )
        correct[index] = ((logits > 0).float() == batch.labels).cpu()
    n = max(1, len(split))
    return {"loss": total_loss / n, "acc": float(correct.sum()) / n, "correct": correct}


class Interrupted(Exception):
    """Raised by the `stop_after_epoch` test hook to simulate a job killed between epochs."""


def train_run(
    data_path: str | Path,
    cell: str,
    length: int,
    seed: int,
    hyper: Hyper,
    out_dir: str | Path,
    device: torch.device | None = None,
    stop_after_epoch: int | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Train one model, resuming from `out_dir/last.pt` when it matches; returns the metrics.

    Writes `best.pt`, `metrics.json` and `curve.csv` into `out_dir`. Two processes
    asked for the same run (two Snakemake invocations in one working tree) never
    train it at once: the second waits on a lock and then reuses the finished run
    when it was made with the same data and settings.
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
    fingerprint = {
        "data": data_fingerprint(data_path),
        "cell": cell,
        "length": length,
        "seed": seed,
        "hyper": asdict(hyper),
        "device": device.type,
    }
    with open(out_dir / ".train.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"another process is training {out_dir}; waiting for it to finish")
            fcntl.flock(lock, fcntl.LOCK_EX)
            finished = _finished_run(out_dir, fingerprint)
            if finished is not None:
                log(f"{out_dir} was trained by the other process with these settings; reusing it")
                return finished
        return _train_locked(
            data_path,
            cell,
            length,
            seed,
            hyper,
            out_dir,
            device,
            fingerprint,
            stop_after_epoch,
            log,
        )


# Settings that decide only when training stops, not what an epoch computes: a saved
# state stays valid when they change (a longer run continues a shorter one).
STOPPING_KEYS = ("max_epochs", "patience")


def same_trajectory(saved: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
    """Whether a saved training state was made with the same data and per-epoch settings."""
    if not isinstance(saved, dict):
        return False

    def core(fp: dict[str, Any]) -> dict[str, Any]:
        hyper = {k: v for k, v in fp.get("hyper", {}).items() if k not in STOPPING_KEYS}
        return {**fp, "hyper": hyper}

    return core(saved) == core(wanted)


def _finished_run(out_dir: Path, fingerprint: dict[str, Any]) -> dict[str, Any] | None:
    """The metrics of a complete run in `out_dir` made with `fingerprint`, else None."""
    paths = [out_dir / name for name in ("best.pt", "metrics.json", "curve.csv")]
    if not all(p.exists() for p in paths):
        return None
    best = torch.load(paths[0], map_location="cpu", weights_only=False)
    if best.get("fingerprint") != fingerprint:  # stopping settings must match too
        return None
    return read_json(paths[1])


def _train_locked(
    data_path: str | Path,
    cell: str,
    length: int,
    seed: int,
    hyper: Hyper,
    out_dir: Path,
    device: torch.device,
    fingerprint: dict[str, Any],
    stop_after_epoch: int | None,
    log: Any,
) -> dict[str, Any]:
    resume_path = out_dir / "last.pt"
    data = load_encoded(data_path)
    splits = {name: clip_split(data, name, length) for name in SPLITS}
    train = splits["train"]

    seed_everything(seed)
    model = SentimentRNN(
        vocab_size=int(data["vocab_size"]),
        embed_dim=hyper.embed_dim,
        hidden_size=hyper.hidden_size,
        cell=cell,
        pad_id=int(data["pad_id"]),
        dropout=hyper.dropout,
    ).to(device)
    optimiser = Optimiser(model, hyper)

    history: list[dict[str, float]] = []
    best: dict[str, Any] = {"epoch": 0, "val_acc": -1.0, "val_loss": math.inf, "state": None}
    bad_epochs = 0
    train_seconds = 0.0
    train_tokens = 0
    start_epoch = 1
    if resume_path.exists():
        state = torch.load(resume_path, map_location="cpu", weights_only=False)
        if state["epoch"] > hyper.max_epochs:
            # It trained past what is asked now; the shorter run cannot be recovered from it.
            log(f"ignoring {resume_path}: it ran {state['epoch']} > max_epochs epochs")
        elif same_trajectory(state.get("fingerprint"), fingerprint):
            model.load_state_dict(state["model_state"])
            optimiser.load_state_dict(state["optim_states"])
            torch.set_rng_state(state["torch_rng"])
            history = state["history"]
            best = state["best"]
            bad_epochs = state["bad_epochs"]
            train_seconds = state["train_seconds"]
            train_tokens = state["train_tokens"]
            start_epoch = state["epoch"] + 1
            log(f"resuming from {resume_path} after epoch {state['epoch']}; earlier epochs:")
            for row in history:
                log(
                    f"epoch {row['epoch']} loss {row['train_loss']:.4f} "
                    f"val_acc {row['val_acc']:.4f} {row['tokens_per_s']:,.0f} tokens/s"
                )
        else:
            log(f"ignoring {resume_path}: it was written for another config or data")

    n_batches = math.ceil(len(train) / hyper.batch_size)
    log(
        f"{cell} L={length} seed={seed}: {len(train)} train / {len(splits['val'])} val / "
        f"{len(splits['test'])} test reviews, {count_parameters(model)} parameters, "
        f"{n_batches} batches per epoch, device {device.type}, threads {torch.get_num_threads()}"
    )
    stopped_early = False
    epoch = start_epoch - 1
    for epoch in range(start_epoch, hyper.max_epochs + 1):
        if bad_epochs >= hyper.patience:
            stopped_early = True
            break
        lr = hyper.lr * hyper.lr_decay ** (epoch - 1)
        optimiser.set_lr(lr)
        model.train()
        order = bucketed_order(
            train.lengths, hyper.batch_size, hyper.bucket_pool, epoch_generator(seed, epoch)
        )
        loss_sum = 0.0
        correct = 0
        seen = 0
        tokens = 0
        started = time.perf_counter()
        report_every = max(1, n_batches // 4)
        for step, batch in enumerate(iterate(train.ids, train.lengths, train.labels, order), 1):
            batch = batch.to(device)
            optimiser.zero_grad()
            logits = model(batch.ids, batch.lengths)
            loss = F.binary_cross_entropy_with_logits(logits, batch.labels)
            if not torch.isfinite(loss):
                # Stop before the bad step reaches the weights; earlier epochs stay saved.
                value = float(loss.detach())
                raise RnnlabError(
                    f"the training loss became {value} in epoch {epoch}, batch {step} "
                    f"(lr {lr:g}): training diverged. Lower `sentiment.hyper.lr` (or "
                    f"`grad_clip`) in the config and rerun; finished runs and this run's "
                    f"saved epochs are kept."
                )
            loss.backward()
            optimiser.clip()
            optimiser.step()
            loss_sum += float(loss.detach()) * len(batch.labels)
            correct += int(((logits.detach() > 0).float() == batch.labels).sum())
            seen += len(batch.labels)
            tokens += batch.real_tokens
            if step % report_every == 0 and step < n_batches:
                elapsed = time.perf_counter() - started
                log(
                    f"  epoch {epoch} {step}/{n_batches} batches, loss {loss_sum / seen:.4f}, "
                    f"{tokens / elapsed:,.0f} tokens/s"
                )
        seconds = time.perf_counter() - started
        train_seconds += seconds
        train_tokens += tokens
        val = evaluate(model, splits["val"], hyper.eval_batch_size, device)
        row = {
            "epoch": epoch,
            "train_loss": loss_sum / max(1, seen),
            "train_acc": correct / max(1, seen),
            "val_loss": val["loss"],
            "val_acc": val["acc"],
            "seconds": seconds,
            "tokens_per_s": tokens / max(seconds, 1e-9),
            "lr": lr,
        }
        history.append(row)
        improved = val["acc"] > best["val_acc"]
        if improved:
            best = {
                "epoch": epoch,
                "val_acc": val["acc"],
                "val_loss": val["loss"],
                "state": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
            }
            bad_epochs = 0
        else:
            bad_epochs += 1
        log(
            f"epoch {epoch}/{hyper.max_epochs} loss {row['train_loss']:.4f} "
            f"train_acc {row['train_acc']:.4f} val_loss {val['loss']:.4f} "
            f"val_acc {val['acc']:.4f} {row['tokens_per_s']:,.0f} tokens/s {seconds:.1f}s"
            + (" *best" if improved else "")
        )
        save_torch(
            resume_path,
            {
                "fingerprint": fingerprint,
                "epoch": epoch,
                "model_state": model.state_dict(),
                "optim_states": optimiser.state_dict(),
                "torch_rng": torch.get_rng_state(),
                "history": history,
                "best": best,
                "bad_epochs": bad_epochs,
                "train_seconds": train_seconds,
                "train_tokens": train_tokens,
            },
        )
        if stop_after_epoch is not None and epoch >= stop_after_epoch:
            raise Interrupted(f"stopped after epoch {epoch} (test hook)")

    if best["state"] is None:
        raise RnnlabError("training ran no epoch; set sentiment.max_epochs >= 1.")
    model.load_state_dict(best["state"])
    test = evaluate(model, splits["test"], hyper.eval_batch_size, device)
    best_row = history[best["epoch"] - 1]
    save_torch(
        out_dir / "best.pt",
        {
            "model_config": model.config,
            "model_state": {k: v.cpu() for k, v in model.state_dict().items()},
            "model": cell,
            "length": length,
            "seed": seed,
            "epoch": best["epoch"],
            "val_acc": best["val_acc"],
            "hyper": asdict(hyper),
            "truncation": data.get("truncation", "head"),
            "fingerprint": fingerprint,
        },
    )
    with open(out_dir / "curve.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CURVE_COLUMNS)
        writer.writeheader()
        for row in history:
            writer.writerow(
                {k: (round(v, 6) if isinstance(v, float) else v) for k, v in row.items()}
            )
    # Accuracy on the reviews the length cut short vs those read whole: where the lost
    # text costs accuracy.
    cut = torch.as_tensor(data["test"]["lengths"]) > length
    metrics = {
        "model": cell,
        "length": length,
        "seed": seed,
        "test_acc": test["acc"],
        "test_loss": test["loss"],
        "val_acc": best["val_acc"],
        "val_loss": best["val_loss"],
        "train_acc": best_row["train_acc"],
        "best_epoch": best["epoch"],
        "epochs_run": len(history),
        "stopped_early": stopped_early,
        "train_seconds": train_seconds,
        "tokens_per_s": train_tokens / max(train_seconds, 1e-9),
        "parameters": count_parameters(model),
        "n_train": len(train),
        "n_val": len(splits["val"]),
        "n_test": len(splits["test"]),
        "truncated_share": float(cut.float().mean()),
        "test_acc_cut": float(test["correct"][cut].float().mean()) if cut.any() else None,
        "test_acc_whole": float(test["correct"][~cut].float().mean()) if (~cut).any() else None,
        "truncation": data.get("truncation", "head"),
        "device": device.type,
        "threads": torch.get_num_threads(),
        "hyper": asdict(hyper),
    }
    write_json(out_dir / "metrics.json", metrics)
    log(
        f"best epoch {best['epoch']}: val_acc {best['val_acc']:.4f}; test_acc {test['acc']:.4f} "
        f"test_loss {test['loss']:.4f}; {train_seconds:.0f}s training"
    )
    # last.pt stays: if the outputs are removed (a second Snakemake invocation, `--forcerun`)
    # the same run is rebuilt from it in the time of one test pass, with identical
    # numbers, and a larger max_epochs continues from it instead of starting over.
    return metrics


# ---------------------------------------------------------------- command line


def _log_to_stdout(message: str) -> None:
    print(message, flush=True)


def cmd_fit(args: argparse.Namespace) -> None:
    set_threads(args.threads)
    try:
        hyper = Hyper.from_dict(json.loads(args.hyper))
    except json.JSONDecodeError as err:
        raise RnnlabError(f"--hyper is not valid JSON ({err}).") from err
    except TypeError as err:
        raise RnnlabError(f"--hyper has a value of the wrong type ({err}).") from err
    try:
        train_run(
            args.data,
            args.model,
            args.length,
            args.seed,
            hyper,
            args.out_dir,
            device=resolve_device(args.device),
            stop_after_epoch=args.stop_after_epoch,
            log=_log_to_stdout,
        )
    except Interrupted as stop:
        raise RnnlabError(f"{stop}; rerun the same command to resume.") from stop


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
    fit.add_argument("--stop-after-epoch", type=int, default=None, help=argparse.SUPPRESS)
    fit.set_defaults(func=cmd_fit)
    args = parser.parse_args(argv)
    args.func(args)
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
