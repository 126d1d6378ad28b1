"""Q6-B: how the gradient of the loss reaches back through 200 time steps.

For one fixed validation batch of reviews with at least L real tokens (so no
padding sits inside the window), the trained length-L RNN and LSTM are replayed
step by step in float64 (`rnnlab.probes.unroll`), the batch's mean binary
cross-entropy is back-propagated, and tensor hooks record at every step t = 1..L

* dL/dh_t: the total gradient with respect to the hidden state, the quantity
  that vanishes as it is multiplied by one Jacobian dh_{t+1}/dh_t per step back;
* dL/dc_t: the same for the LSTM cell state (its additive path);
* dL/dx_t: the gradient at the embedding output of step t, i.e. how much the
  word read at step t can still change the loss (a second, clearly separate curve).

Each curve is the L2 norm per review; the step table holds the arithmetic and
geometric mean over the batch and its spread (10th-90th percentile, min, max).
The summary and the figure use the geometric mean: the per-review norms span
many orders of magnitude and the arithmetic mean follows the one slowest review.
The summary gives |g_1|/|g_L| and an effective memory horizon (see
`memory_horizon`). The same is measured for the untrained initial
weights of each run, to show what training changes.

Commands (one Snakemake rule each):
  measure  checkpoints + encoded data -> steps.csv, batch.csv, summary.json
  plot     steps.csv + summary.json -> the figure
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F

from rnnlab.errors import RnnlabError
from rnnlab.probes.selection import load_split, model_paths, select_balanced
from rnnlab.probes.unroll import as_float64, fused_stepwise, replay
from rnnlab.runtime import cli, seed_everything, set_threads, write_csv, write_json
from rnnlab.sentiment.models import SentimentRNN, load_checkpoint

QUANTITIES = ("h", "c", "x")
HORIZON_DEFINITION = (
    "H = the number of steps back from t = L over which the batch's geometric-mean "
    "norm of dL/dh_t stays at or above threshold x its value at t = L; the earliest "
    "step still within the threshold is L - H. Censored when the whole window stays "
    "within it."
)


def step_norms(
    model: SentimentRNN, ids: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor
) -> tuple[dict[str, np.ndarray], float]:
    """Per-review L2 norms [B, T] of dL/dh_t, dL/dx_t (and dL/dc_t), and the loss.

    Runs in the model's own dtype: callers pass `as_float64(model)` for the real
    measurement (float32 is only used to show where it underflows).
    """
    steps = ids.shape[1]
    grads: dict[str, list[torch.Tensor | None]] = {q: [None] * steps for q in ("h", "c")}
    embedded_grad: list[torch.Tensor] = []

    def keep(name: str) -> Any:
        def hook(step: int, grad: torch.Tensor) -> None:
            grads[name][step - 1] = grad.detach().norm(dim=-1)

        return hook

    model.zero_grad(set_to_none=True)
    trace = replay(
        model,
        ids,
        lengths,
        on_hidden=keep("h"),
        on_cell=keep("c"),
        on_embedded=lambda g: embedded_grad.append(g.detach().norm(dim=-1)),
    )
    target = labels.to(trace.logits.dtype)
    # The loss training minimises: the mean over the batch (so each review's share is 1/B).
    loss = F.binary_cross_entropy_with_logits(trace.logits, target)
    loss.backward()
    norms = {"x": embedded_grad[0].cpu().numpy()}
    for name in ("h", "c"):
        if all(g is not None for g in grads[name]):
            norms[name] = torch.stack(grads[name], dim=1).cpu().numpy()  # type: ignore[arg-type]
    if "h" not in norms:
        raise RnnlabError("no gradient reached the hidden states; is the model frozen?")
    return norms, float(loss.detach())


def fused_agreement(
    model: SentimentRNN, ids: torch.Tensor, lengths: torch.Tensor, labels: torch.Tensor
) -> float:
    """Largest relative difference of dL/dh_t between the replay and the stepped fused module.

    Both are exact methods through different kernels; on real weights they must
    agree to rounding, which the summary records as evidence.
    """
    replayed, _ = step_norms(model, ids, lengths, labels)
    fused: list[torch.Tensor] = [torch.empty(0)] * ids.shape[1]

    def keep(step: int, grad: torch.Tensor) -> None:
        fused[step - 1] = grad.detach().norm(dim=-1)

    model.zero_grad(set_to_none=True)
    logits = fused_stepwise(model, ids, lengths, on_hidden=keep)
    F.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype)).backward()
    stepped = torch.stack(fused, dim=1).cpu().numpy()
    return float(np.max(np.abs(stepped - replayed["h"]) / np.maximum(replayed["h"], 1e-300)))


def memory_horizon(curve: np.ndarray, threshold: float) -> tuple[int, bool]:
    """(H, censored) for a mean-norm curve over steps 1..L (see `HORIZON_DEFINITION`)."""
    ratio = curve / curve[-1]
    below = np.nonzero(ratio < threshold)[0]
    if len(below) == 0:
        return len(curve) - 1, True
    # Index i is step i + 1; the step after the latest one below the threshold is the
    # earliest still within it, and H counts the steps from there to L.
    earliest_within = int(below[-1]) + 2
    return len(curve) - earliest_within, False


def geometric_mean(norms: np.ndarray) -> np.ndarray:
    """exp(mean(log norm)) over the batch axis: the typical review on a log scale.

    Per-review norms at one step spread over tens of orders of magnitude, so the
    arithmetic mean is set by the single slowest-vanishing review and can lie
    above the 90th percentile; the geometric mean stays inside the spread.
    """
    with np.errstate(divide="ignore"):
        return np.exp(np.log(norms).mean(axis=0))


def describe_curve(norms: np.ndarray, threshold: float) -> dict[str, Any]:
    """Summary numbers of one [B, T] norm matrix, on the batch's geometric-mean curve.

    The same ratio and horizon on the arithmetic-mean curve are kept under `mean`.
    """
    curve = geometric_mean(norms)
    steps = len(curve)
    out = {
        **_curve_numbers(curve, threshold),
        "min": float(curve.min()),
        "argmin_step": int(curve.argmin()) + 1,
        "max": float(curve.max()),
        "argmax_step": int(curve.argmax()) + 1,
        "zero_entries": int((norms == 0).sum()),
        "finite": bool(np.isfinite(norms).all()),
        "steps": steps,
    }
    out["mean"] = _curve_numbers(norms.mean(axis=0), threshold)
    return out


def _curve_numbers(curve: np.ndarray, threshold: float) -> dict[str, Any]:
    steps = len(curve)
    horizon, censored = memory_horizon(curve, threshold)
    ratio = float(curve[0] / curve[-1]) if curve[-1] > 0 else float("nan")
    positive = ratio > 0 and math.isfinite(ratio)
    return {
        "first": float(curve[0]),
        "last": float(curve[-1]),
        "ratio_first_last": ratio,
        "log10_ratio": math.log10(ratio) if positive else None,
        # Geometric mean of the factor applied per step back: ratio^(1/(T-1)).
        "factor_per_step": ratio ** (1.0 / (steps - 1)) if positive and steps > 1 else None,
        "horizon_steps": horizon,
        "horizon_censored": censored,
        "horizon_start_step": steps - horizon,
    }


def step_table(norms: dict[str, np.ndarray], model: str, weights: str) -> pd.DataFrame:
    """Long table: one row per (quantity, step) with the batch mean and spread."""
    frames = []
    for quantity in QUANTITIES:
        if quantity not in norms:
            continue
        values = norms[quantity]
        frames.append(
            pd.DataFrame(
                {
                    "model": model,
                    "weights": weights,
                    "quantity": quantity,
                    "step": np.arange(1, values.shape[1] + 1),
                    "mean": values.mean(axis=0),
                    "geomean": geometric_mean(values),
                    "median": np.median(values, axis=0),
                    "q10": np.quantile(values, 0.1, axis=0),
                    "q90": np.quantile(values, 0.9, axis=0),
                    "min": values.min(axis=0),
                    "max": values.max(axis=0),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def choose_batch(
    data: dict[str, Any],
    part: dict[str, Any],
    *,
    length: int,
    batch_size: int,
    seed: int,
    split: str,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[str]]:
    """The fixed batch: `batch_size` reviews (half per class) with >= `length` real tokens."""
    from rnnlab.data.imdb import clip_to_length

    if batch_size < 2 or batch_size % 2:
        raise RnnlabError(f"probes.gradients.batch_size must be even and >= 2, got {batch_size}.")
    if length > int(data["max_length"]):
        raise RnnlabError(
            f"probe length {length} exceeds the stored encoding width {data['max_length']}; "
            "raise imdb.max_length or probe a shorter length."
        )
    rows = select_balanced(
        part["lengths"],
        part["labels"],
        min_tokens=length,
        per_class=batch_size // 2,
        seed=seed,
        split=split,
    )
    ids, lengths = clip_to_length(
        part["ids"][rows], part["lengths"][rows], length, data["truncation"]
    )
    keys = [part["keys"][int(i)] for i in rows]
    return ids, lengths, part["labels"][rows].long(), keys


def initial_model(checkpoint_path: str | Path) -> SentimentRNN:
    """The run's weights before its first update, rebuilt from its checkpoint.

    `rnnlab.sentiment.train.train_run` calls `seed_everything(seed)` and then constructs
    `SentimentRNN(**config)` before drawing anything else, so the same two calls
    here give bit-identical initial weights (a test runs the trainer to check
    this contract). The checkpoint stores both the seed and the config.
    """
    path = Path(checkpoint_path)
    load_checkpoint(path)  # the same clear errors for a missing or foreign file
    state = torch.load(path, map_location="cpu", weights_only=False)
    if "seed" not in state:
        raise RnnlabError(
            f"{path} does not record its training seed, so its initial weights cannot be "
            "rebuilt; retrain it with the current `rnnlab.sentiment.train` or set "
            "probes.gradients.initial_weights: false."
        )
    seed_everything(int(state["seed"]))
    model = SentimentRNN(**state["model_config"])
    model.eval()
    return model


def measure_model(
    model: SentimentRNN,
    ids: torch.Tensor,
    lengths: torch.Tensor,
    labels: torch.Tensor,
    threshold: float,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """float64 norms of one model plus its summary (curves, loss, float32 underflow count)."""
    exact = as_float64(model)
    norms, loss = step_norms(exact, ids, lengths, labels)
    with torch.no_grad():
        probs = torch.sigmoid(exact(ids, lengths))
    summary: dict[str, Any] = {
        "loss": loss,
        "accuracy": float(((probs >= 0.5).long() == labels).double().mean()),
        "curves": {q: describe_curve(v, threshold) for q, v in norms.items()},
    }
    # The documented trap: the same computation in float32 rounds early gradients to 0.
    single, _ = step_norms(model.float(), ids, lengths, labels)
    # A zero for any review breaks its log-scale curve and the geometric mean.
    summary["float32_zero_steps"] = int((single["h"] == 0).any(axis=0).sum())
    summary["float32_zero_entries"] = int((single["h"] == 0).sum())
    return norms, summary


def cmd_measure(args: argparse.Namespace, params: dict[str, Any]) -> None:
    set_threads(args.threads)
    length = int(params["length"])
    threshold = float(params["horizon_threshold"])
    split = params.get("split", "val")
    data, part = load_split(args.encoded, split)
    ids, lengths, labels, keys = choose_batch(
        data,
        part,
        length=length,
        batch_size=int(params["batch_size"]),
        seed=int(params["seed"]),
        split=split,
    )
    print(f"batch: {len(keys)} {split} reviews, {int(labels.sum())} positive, window {length}")
    trained = model_paths(args.trained, "--trained")
    with_initial = bool(params.get("initial_weights", True))
    tables = []
    models: dict[str, Any] = {}
    for name, path in trained.items():
        model = load_checkpoint(path)
        entry: dict[str, Any] = {"cell": model.cell, "hidden_size": model.hidden_size}
        variants = {"trained": model}
        if with_initial:
            variants["initial"] = initial_model(path)
        for weights, net in variants.items():
            norms, entry[weights] = measure_model(net, ids, lengths, labels, threshold)
            tables.append(step_table(norms, name, weights))
            curve = entry[weights]["curves"]["h"]
            print(
                f"{name} {weights}: |g_1|/|g_{length}| = {curve['ratio_first_last']:.3e}, "
                f"horizon {curve['horizon_steps']} steps, loss {entry[weights]['loss']:.4f}"
            )
        entry["fused_max_rel_diff"] = fused_agreement(as_float64(model), ids, lengths, labels)
        models[name] = entry
    write_csv(
        args.steps_csv, pd.concat(tables, ignore_index=True), index=False, float_format="%.6e"
    )
    write_csv(
        args.batch_csv,
        pd.DataFrame({"key": keys, "label": labels.numpy(), "n_tokens": _true_lengths(part, keys)}),
        index=False,
    )
    write_json(
        args.summary,
        {
            "length": length,
            "split": split,
            "batch_size": len(keys),
            "positive": int(labels.sum()),
            "seed": int(params["seed"]),
            "dtype": "float64",
            "loss": "mean binary cross-entropy over the batch",
            "horizon_threshold": threshold,
            "horizon_definition": HORIZON_DEFINITION,
            "models": models,
            "ranking": _ranking(models),
        },
    )


def _ranking(models: dict[str, Any]) -> dict[str, Any]:
    """Which trained model keeps the gradient alive longer, for the report's prose."""
    if not {"rnn", "lstm"} <= set(models):
        return {}
    rnn = models["rnn"]["trained"]["curves"]["h"]
    lstm = models["lstm"]["trained"]["curves"]["h"]
    longer = (
        "lstm"
        if (lstm["horizon_steps"], lstm["ratio_first_last"])
        >= (rnn["horizon_steps"], rnn["ratio_first_last"])
        else "rnn"
    )
    return {
        "longer_memory": longer,
        # How many orders of magnitude more of the final gradient survives at step 1.
        "lstm_over_rnn_log10_at_step1": (lstm["log10_ratio"] or 0.0) - (rnn["log10_ratio"] or 0.0),
    }


def _true_lengths(part: dict[str, Any], keys: list[str]) -> list[int]:
    index = {key: i for i, key in enumerate(part["keys"])}
    return [int(part["lengths"][index[key]]) for key in keys]


def cmd_plot(args: argparse.Namespace, params: dict[str, Any]) -> None:
    from rnnlab.probes.figures import plot_gradients

    plot_gradients(
        pd.read_csv(args.steps_csv),
        json.loads(Path(args.summary).read_text()),
        args.font,
        args.figure,
    )


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.probes.gradients", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    measure = sub.add_parser("measure", help="hooked gradient norms per step")
    measure.add_argument("--encoded", required=True)
    measure.add_argument("--trained", nargs="+", required=True, metavar="MODEL=CHECKPOINT")
    measure.add_argument("--steps-csv", required=True)
    measure.add_argument("--batch-csv", required=True)
    measure.add_argument("--summary", required=True)
    measure.add_argument("--threads", type=int, default=1)
    plot = sub.add_parser("plot", help="the Q6-B figure")
    plot.add_argument("--steps-csv", required=True)
    plot.add_argument("--summary", required=True)
    plot.add_argument("--font", required=True)
    plot.add_argument("--figure", required=True)
    for cmd in (measure, plot):
        cmd.add_argument("--params", default="{}", help="JSON of the rule's params")
    args = parser.parse_args(argv)
    params = json.loads(args.params)
    {"measure": cmd_measure, "plot": cmd_plot}[args.command](args, params)
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
