"""The one training engine of Q6-A (`rnnlab.sentiment.train`) and Q7 (`rnnlab.forecast.train`).

A part supplies a `Task`: the model, its optimiser, an iterator factory that yields
one epoch's batches from a generator seeded by (seed, epoch), the loss of a batch,
the gradient clip and a validation function. The engine owns everything else:

* the epoch loop with a per-batch learning rate (`Schedule`), progress lines, and a
  stop with a one-line error naming the config key when the loss is not finite
  (before the bad step reaches the weights);
* early stopping on a validation metric (`patience`, `min_delta`, `max_epochs`) and
  the best-epoch weights;
* a resume state written atomically after every epoch: weights, optimiser, the
  torch (CPU and CUDA)/numpy/python RNG streams, epoch, history, best epoch and weights, bad-epoch
  count, schedule state and the time spent. A killed job rerun continues after the
  last finished epoch and ends with the very numbers of an uninterrupted run.

Which resume state belongs to a run is decided by ONE fingerprint (`fingerprint`):
the job's resolved settings (all of them, stopping and schedule included), the
source of every `rnnlab` module in the import closure of the entry module, and the
sha256 of the input data. A state with another fingerprint is discarded with one
log line and training starts from scratch. The one setting compared apart is the
epoch cap: a state saved under another cap is continued when the schedule does not
depend on the cap and the state is not past the new cap, so a full run after a quick
draft (config/quick.yaml, a lower cap) goes on from the draft's last epoch and ends
with the numbers of an uninterrupted full run. The code part is computed with `ast`
from the entry module (`code_closure`), not from `sys.modules`: what a process
happens to have imported depends on how it was started (a test session imports
far more than a job), so only a static closure gives the same fingerprint in every
process; it is also the list the workflow uses as the rule's code inputs.

Policy for the resume file (both parts): `<run dir>/last.pt`, kept after the run
finishes. With the full fingerprint it cannot go stale, and it lets a job whose
outputs were deleted (`--forcerun`, a touched input) rebuild them in the time of one
test pass. No inter-process lock: Snakemake's own lock refuses a second run in the
same working directory.
"""

from __future__ import annotations

import ast
import json
import math
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rnnlab.errors import RnnlabError
from rnnlab.runtime import _atomic_write, save_torch, sha256_file

PACKAGE_ROOT = Path(__file__).resolve().parent  # src/rnnlab
RESUME_NAME = "last.pt"
SCHEDULE_KINDS = ("constant", "exponential", "cosine", "plateau")
# Batch-order seed: one formula for every part. The multiplier is a prime larger
# than any epoch count, so distinct (seed, epoch) pairs never share a stream.
SEED_STRIDE = 1_000_003


def flush_subnormals() -> None:
    """Make this training process flush float32 subnormal numbers to zero.

    Back-propagating through hundreds of steps drives many gradient entries below
    float32's normal range (~1e-38), where x86 arithmetic on subnormals is 10-100x
    slower: an epoch of the Q6 Simple RNN at L=200 took 104 CPU-s, 31 flushed, with
    first-epoch accuracies equal to four decimals; a Q7 BiLSTM epoch 65 -> 59.
    Values that small cannot move a weight, so what is measured is unchanged
    (docs/benchmarks.md, "Where the time goes"). Only the training commands call
    this: the float64 probes of Q6-B/C run in processes of their own.
    """
    torch.set_flush_denormal(True)


def subnormals_flushed() -> bool:
    """Whether this process flushes float32 subnormals to zero (for run metrics)."""
    return bool(torch.tensor([1e-40], dtype=torch.float32).item() == 0.0)


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """The RNG that orders epoch `epoch`: a pure function of (seed, epoch), so resumable."""
    return torch.Generator().manual_seed(int(seed) * SEED_STRIDE + int(epoch))


# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class Schedule:
    """Learning-rate schedule, the same setting (`lr_schedule`) in both parts.

    The rate of a batch is `lr x warm-up x decay`. Warm-up rises linearly, batch by
    batch, over the first `warmup_epochs` epochs. Decay by `kind`:
    `constant` none; `exponential` `decay ** (epoch - 1)`; `cosine` half a cosine
    from 1 to `min_lr_fraction` between the end of the warm-up and `max_epochs`;
    `plateau` multiplies by `decay` after every `plateau_patience` epochs in a row
    without a validation improvement (the early-stopping criterion).
    """

    kind: str = "constant"
    warmup_epochs: int = 0
    decay: float = 0.5
    plateau_patience: int = 1
    min_lr_fraction: float = 0.0

    def factor(self, epoch: int, progress: float, max_epochs: int, plateau_scale: float) -> float:
        """Multiplier of the base rate for a batch; `progress` in (0, 1] within the epoch."""
        t = epoch - 1 + progress  # epochs done at the end of this batch
        warm = min(1.0, t / self.warmup_epochs) if self.warmup_epochs > 0 else 1.0
        if self.kind == "exponential":
            return warm * self.decay ** (epoch - 1)
        if self.kind == "cosine":
            span = max(1e-9, max_epochs - self.warmup_epochs)
            done = min(1.0, max(0.0, (epoch - 1 - self.warmup_epochs) / span))
            cosine = 0.5 * (1.0 + math.cos(math.pi * done))
            return warm * (self.min_lr_fraction + (1.0 - self.min_lr_fraction) * cosine)
        if self.kind == "plateau":
            return warm * plateau_scale
        return warm


@dataclass(frozen=True)
class Settings:
    """What the engine reads from a part's config section (`prefix` names it in errors)."""

    lr: float
    max_epochs: int
    patience: int
    min_delta: float = 0.0
    schedule: Schedule = field(default_factory=Schedule)
    prefix: str = "training"

    @classmethod
    def from_config(cls, raw: Mapping[str, Any], prefix: str) -> Settings:
        schedule_raw = dict(raw.get("lr_schedule") or {})
        known = {f for f in Schedule.__dataclass_fields__}
        unknown = sorted(set(schedule_raw) - known)
        if unknown:
            raise RnnlabError(
                f"unknown `{prefix}.lr_schedule` key(s) {unknown}; known: {sorted(known)}."
            )
        schedule = Schedule(**schedule_raw)
        settings = cls(
            lr=float(raw["lr"]),
            max_epochs=int(raw["max_epochs"]),
            patience=int(raw["patience"]),
            min_delta=float(raw.get("min_delta", 0.0)),
            schedule=schedule,
            prefix=prefix,
        )
        settings.check()
        return settings

    def check(self) -> None:
        s = self.schedule
        checks = {
            "lr": math.isfinite(self.lr) and self.lr > 0,
            "max_epochs": self.max_epochs >= 1,
            "patience": self.patience >= 1,
            "min_delta": math.isfinite(self.min_delta) and self.min_delta >= 0,
            "lr_schedule.kind": s.kind in SCHEDULE_KINDS,
            "lr_schedule.warmup_epochs": 0 <= s.warmup_epochs < self.max_epochs,
            "lr_schedule.decay": 0 < s.decay <= 1,
            "lr_schedule.plateau_patience": s.plateau_patience >= 1,
            "lr_schedule.min_lr_fraction": 0 <= s.min_lr_fraction <= 1,
        }
        bad = [f"{self.prefix}.{name}" for name, ok in checks.items() if not ok]
        if bad:
            raise RnnlabError(
                f"training setting(s) out of range: {', '.join(bad)} (lr_schedule.kind is one of "
                f"{', '.join(SCHEDULE_KINDS)}; warmup_epochs < max_epochs); fix them in the config."
            )


# ---------------------------------------------------------------- fingerprint


def _module_file(name: str) -> Path | None:
    """The source file of module `rnnlab.x.y`, or None when it is not one."""
    parts = name.split(".")
    if parts[0] != "rnnlab":
        return None
    base = PACKAGE_ROOT.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imported_modules(path: Path) -> set[str]:
    """Every `rnnlab` module a file imports, anywhere in it (function bodies included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {n for n in names if n.split(".")[0] == "rnnlab"}


def code_closure(entry: str) -> tuple[Path, ...]:
    """Source files of `entry` and of every rnnlab module it imports, transitively.

    Importing `a.b.c` runs the `__init__.py` of `a` and `a.b` too, so those count.
    """
    todo, seen = [entry], set()
    while todo:
        name = todo.pop()
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            module = ".".join(parts[:depth])
            path = _module_file(module)
            if path is not None and path not in seen:
                seen.add(path)
                todo.extend(_imported_modules(path))
    return tuple(sorted(seen))


def fingerprint(
    settings: Mapping[str, Any],
    entry: str,
    data_sha256: str,
    cap: tuple[str, ...] = ("max_epochs",),
) -> dict[str, Any]:
    """What decides a run's result: settings, code (import closure of `entry`), data.

    The epoch cap, at key path `cap` inside `settings`, is kept apart (`"cap"`): up to
    the cap, a run's epochs do not depend on it unless the schedule does (cosine), so
    a state saved under one cap can go on under another (`fit`). A quick draft run
    (a low cap) is then the first epochs of the full run that follows it.
    """
    plain = json.loads(json.dumps(settings, sort_keys=True))
    node = plain
    for key in cap[:-1]:
        node = node.get(key, {})
    cap_value = node.pop(cap[-1], None)  # None: these settings have no cap
    code = {str(p.relative_to(PACKAGE_ROOT.parent)): sha256_file(p) for p in code_closure(entry)}
    return {"settings": plain, "cap": cap_value, "code": code, "data": data_sha256}


def fingerprint_difference(saved: Any, wanted: dict[str, Any]) -> str:
    """'' when equal apart from the cap, else a short account of what differs (log line)."""
    if not isinstance(saved, dict) or set(saved) != set(wanted):
        return "a state of another format"
    diffs = []
    old, new = saved["settings"], wanted["settings"]
    if old != new:
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        diffs.append("settings " + ", ".join(keys))
    if saved["code"] != wanted["code"]:
        files = set(saved["code"]) | set(wanted["code"])
        changed = sorted(f for f in files if saved["code"].get(f) != wanted["code"].get(f))
        diffs.append("code " + ", ".join(changed))
    if saved["data"] != wanted["data"]:
        diffs.append("data")
    return "; ".join(diffs)


# ---------------------------------------------------------------- the task and the loop


@dataclass
class Task:
    """What a part supplies.

    `batches(generator)` yields one epoch's batches in an order drawn from the
    generator; `loss(batch)` returns the mean loss of the batch and sums to add up
    over the epoch (`n`, the items in the batch, is required); `epoch_fields(sums,
    seconds)` turns the epoch's sums into curve fields (besides the mean loss);
    `validate()` returns the validation metrics, among them `metric`, which early
    stopping maximises (`mode="max"`) or minimises (`mode="min"`).
    """

    name: str
    model: torch.nn.Module
    optimiser: Any
    batches: Callable[[torch.Generator], Iterable[Any]]
    n_batches: int
    loss: Callable[[Any], tuple[torch.Tensor, dict[str, float]]]
    clip: Callable[[], Any]
    validate: Callable[[], dict[str, float]]
    metric: str
    mode: str
    loss_key: str = "train_loss"
    epoch_fields: Callable[[dict[str, float], float], dict[str, float]] | None = None


@dataclass
class State:
    """Everything that evolves over training (and is saved after every epoch)."""

    epoch: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    best_epoch: int = 0
    best_value: float = math.nan
    best_weights: dict[str, torch.Tensor] | None = None
    bad_epochs: int = 0
    plateau_scale: float = 1.0
    train_seconds: float = 0.0
    cpu_seconds: float = 0.0


@dataclass
class Outcome:
    """The finished training: the model holds the best epoch's weights."""

    history: list[dict[str, Any]]
    best_epoch: int
    best_value: float
    epochs_run: int
    max_epochs: int
    stopped_early: bool
    train_seconds: float
    cpu_seconds: float

    # `stopped_early`: the criterion fired (`patience` epochs in a row without a
    # better validation metric), also when that happened in the last allowed epoch.

    @property
    def cap_bound(self) -> bool:
        """Training ended at `max_epochs` without the early-stopping criterion firing."""
        return not self.stopped_early and self.epochs_run >= self.max_epochs

    def summary(self) -> dict[str, Any]:
        return {
            "best_epoch": self.best_epoch,
            "epochs_run": self.epochs_run,
            "max_epochs": self.max_epochs,
            "stopped_early": self.stopped_early,
            "cap_bound": self.cap_bound,
            "train_seconds": self.train_seconds,
            "cpu_seconds": self.cpu_seconds,
        }


def set_lr(optimiser: Any, lr: float) -> None:
    if hasattr(optimiser, "set_lr"):
        optimiser.set_lr(lr)
        return
    for group in optimiser.param_groups:
        group["lr"] = lr


def _rng_state() -> dict[str, Any]:
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    return {"torch": torch.get_rng_state(), "cuda": cuda, "numpy": np.random.get_state(),
            "python": random.getstate()}  # fmt: skip


def _set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])  # dropout on a GPU draws from these
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def _improved(value: float, best: float, mode: str, min_delta: float) -> bool:
    if math.isnan(best):
        return not math.isnan(value)
    return value > best + min_delta if mode == "max" else value < best - min_delta


def _diverged(task: Task, settings: Settings, loss: torch.Tensor, epoch: int, step: int,
              lr: float) -> RnnlabError:  # fmt: skip
    return RnnlabError(
        f"the training loss became {float(loss.detach())} in epoch {epoch}, batch {step} "
        f"(lr {lr:g}): training diverged. Lower `{settings.prefix}.lr` (or "
        f"`{settings.prefix}.grad_clip`) in the config and rerun; finished runs and this "
        f"run's saved epochs are kept."
    )


def train_epoch(task: Task, settings: Settings, seed: int, state: State,
                log: Callable[[str], None]) -> tuple[dict[str, float], float]:  # fmt: skip
    """One pass over the training batches; returns the summed batch stats and the last lr."""
    epoch = state.epoch + 1
    task.model.train()
    sums: dict[str, float] = {"loss": 0.0, "n": 0.0}
    report_every = max(1, task.n_batches // 4)
    lr = settings.lr
    started = time.perf_counter()
    for step, batch in enumerate(task.batches(epoch_generator(seed, epoch)), 1):
        factor = settings.schedule.factor(
            epoch, step / max(1, task.n_batches), settings.max_epochs, state.plateau_scale
        )
        lr = settings.lr * factor
        set_lr(task.optimiser, lr)
        task.optimiser.zero_grad()
        loss, stats = task.loss(batch)
        if not torch.isfinite(loss):
            # Stop before the bad step reaches the weights; earlier epochs stay saved.
            raise _diverged(task, settings, loss, epoch, step, lr)
        loss.backward()
        task.clip()
        task.optimiser.step()
        sums["loss"] += float(loss.detach()) * stats["n"]
        for key, value in stats.items():
            sums[key] = sums.get(key, 0.0) + value
        if step % report_every == 0 and step < task.n_batches:
            log(
                f"  epoch {epoch} {step}/{task.n_batches} batches, loss "
                f"{sums['loss'] / max(1.0, sums['n']):.4f}, {time.perf_counter() - started:.1f}s"
            )
    return sums, lr


# Row fields the progress line shows apart (or not at all).
QUIET = {"epoch", "seconds", "cpu_seconds", "eval_cpu_seconds", "lr", "tokens"}


def run_epoch(task: Task, settings: Settings, seed: int, state: State,
              log: Callable[[str], None]) -> dict[str, Any]:  # fmt: skip
    """Train one epoch and validate; the epoch's row of the history (times included).

    `seconds` and `cpu_seconds` time the training pass alone (wall and process CPU),
    `eval_cpu_seconds` the validation; the run's `cpu_seconds` counts both.
    """
    tick, cpu_tick = time.perf_counter(), time.process_time()
    sums, lr = train_epoch(task, settings, seed, state, log)
    seconds, cpu = time.perf_counter() - tick, time.process_time() - cpu_tick
    val = task.validate()  # the part evaluates under no_grad
    eval_cpu = time.process_time() - cpu_tick - cpu
    state.train_seconds += time.perf_counter() - tick
    state.cpu_seconds += cpu + eval_cpu
    row: dict[str, Any] = {"epoch": state.epoch + 1,
                           task.loss_key: sums["loss"] / max(1.0, sums["n"])}  # fmt: skip
    if task.epoch_fields is not None:
        row.update(task.epoch_fields(sums, seconds))
    row.update(val)
    row.update({"seconds": seconds, "cpu_seconds": cpu, "eval_cpu_seconds": eval_cpu, "lr": lr})
    return row


def _end_epoch(task: Task, settings: Settings, state: State, row: dict[str, Any]) -> bool:
    """Record an epoch's row; update best, bad epochs and plateau scale. True if improved."""
    state.epoch = row["epoch"]
    state.history.append(row)
    value = float(row[task.metric])
    improved = _improved(value, state.best_value, task.mode, settings.min_delta)
    if improved:
        state.best_epoch, state.best_value = state.epoch, value
        state.best_weights = {k: v.detach().cpu().clone()
                              for k, v in task.model.state_dict().items()}  # fmt: skip
        state.bad_epochs = 0
    else:
        state.bad_epochs += 1
        schedule = settings.schedule
        if schedule.kind == "plateau" and state.bad_epochs % schedule.plateau_patience == 0:
            state.plateau_scale *= schedule.decay
    return improved


def _save(path: Path, task: Task, state: State, fp: dict[str, Any]) -> None:
    save_torch(path, {
        "fingerprint": fp,
        "model": task.model.state_dict(),
        "optimiser": task.optimiser.state_dict(),
        "rng": _rng_state(),
        "state": asdict(state),
    })  # fmt: skip


def _cap_difference(saved: dict[str, Any], fp: dict[str, Any], settings: Settings) -> str:
    """'' when a state saved under another epoch cap is this run's first epochs."""
    if saved["fingerprint"]["cap"] == fp["cap"]:
        return ""
    if settings.schedule.kind == "cosine":
        return "settings max_epochs, which the cosine schedule depends on"
    if int(saved["state"]["epoch"]) > settings.max_epochs:
        return f"settings max_epochs: it trained past this run's cap of {settings.max_epochs}"
    return ""


def _resume(path: Path, task: Task, fp: dict[str, Any], settings: Settings,
            log: Callable[[str], None]) -> State:  # fmt: skip
    """The saved state when it belongs to this run (weights and RNGs restored), else fresh.

    A state saved under another epoch cap belongs to it when the schedule does not
    depend on the cap and the state has not gone past this run's cap: its epochs are
    this run's first ones, and the run goes on from there.
    """
    if not path.exists():
        return State()
    try:
        saved = torch.load(path, map_location="cpu", weights_only=False)
        difference = fingerprint_difference(saved.get("fingerprint"), fp)
        difference = difference or _cap_difference(saved, fp, settings)
    except Exception as err:  # a truncated or foreign file: start over, say why
        difference = f"unreadable ({type(err).__name__})"
    if difference:
        log(f"discarding {path}: it was written for another run ({difference}); "
            "training from scratch")  # fmt: skip
        return State()
    task.model.load_state_dict(saved["model"])
    task.optimiser.load_state_dict(saved["optimiser"])
    _set_rng_state(saved["rng"])
    state = State(**saved["state"])
    saved_cap = saved["fingerprint"]["cap"]
    under = f" (saved under max_epochs {saved_cap})" if saved_cap != fp["cap"] else ""
    log(f"resuming from {path} after epoch {state.epoch}{under}")
    return state


def _finished(state: State, settings: Settings) -> bool:
    return state.bad_epochs >= settings.patience or state.epoch >= settings.max_epochs


def fit(task: Task, settings: Settings, seed: int, resume_path: str | Path,
        fp: dict[str, Any], log: Callable[[str], None] = print) -> Outcome:  # fmt: skip
    """Train `task` to its early stop or `max_epochs`, resuming from `resume_path`."""
    resume_path = Path(resume_path)
    state = _resume(resume_path, task, fp, settings, log)
    while not _finished(state, settings):
        row = run_epoch(task, settings, seed, state, log)
        improved = _end_epoch(task, settings, state, row)
        _save(resume_path, task, state, fp)  # saved before the line: a kill after it resumes
        shown = " ".join(f"{k} {v:.4f}" for k, v in row.items() if k not in QUIET)
        log(
            f"{task.name} epoch {state.epoch}/{settings.max_epochs} {shown} lr {row['lr']:.3g} "
            f"{row['seconds']:.1f}s ({row['cpu_seconds']:.1f}s cpu, "
            f"{row['eval_cpu_seconds']:.1f}s cpu validating)" + (" *best" if improved else "")
        )
    if state.best_weights is None:
        raise RnnlabError(f"training ran no epoch; set {settings.prefix}.max_epochs >= 1.")
    task.model.load_state_dict(state.best_weights)
    stopped = state.bad_epochs >= settings.patience
    log(
        f"{task.name}: best epoch {state.best_epoch} ({task.metric} {state.best_value:.4f}) "
        f"of {state.epoch}; " + ("stopped early" if stopped else "reached max_epochs")
    )
    return Outcome(
        history=state.history, best_epoch=state.best_epoch, best_value=state.best_value,
        epochs_run=state.epoch, max_epochs=settings.max_epochs, stopped_early=stopped,
        train_seconds=state.train_seconds, cpu_seconds=state.cpu_seconds,
    )  # fmt: skip


# ---------------------------------------------------------------- outputs


def save_arrays(path: str | Path, **arrays: np.ndarray) -> None:
    """np.savez, atomically (a killed job leaves no half file)."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)

    _atomic_write(Path(path), write)


def write_text(path: str | Path, text: str) -> None:
    """A text file (e.g. a CSV), atomically."""
    _atomic_write(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))
