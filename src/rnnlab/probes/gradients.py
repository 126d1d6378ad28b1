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

Each curve is the L2 norm per review; the step table holds three statistics over
the batch (``arithmetic`` mean, ``geometric`` mean, ``median``) and the spread
(10th-90th percentile, min, max). They answer different questions: the gradient
of the batch loss is a sum over the reviews, so the arithmetic mean says how far
back the weight update reaches (and is set by the slowest-vanishing reviews);
the geometric mean and the median describe the typical review. The summary gives
|g_1|/|g_L| and a memory horizon (see `memory_horizon`) for each statistic, for
every training seed of each model, with the spread over seeds and the claims
(``q6b.*``) that compare the models. The untrained initial weights of each
model's first seed are measured too, to show what training changes.

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

from rnnlab import claims
from rnnlab.errors import RnnlabError
from rnnlab.probes.selection import load_split, select_balanced
from rnnlab.probes.unroll import as_float64, fused_stepwise, replay
from rnnlab.runtime import cli, named_paths, seed_everything, set_threads, write_csv, write_json
from rnnlab.sentiment.models import SentimentRNN, load_checkpoint

QUANTITIES = ("h", "c", "x")
HORIZON_DEFINITION = (
    "H = the number of steps back from t = L over which a batch statistic (arithmetic "
    "mean, geometric mean or median) of the norm of dL/dh_t stays at or above "
    "threshold x its value at t = L; the earliest "
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


#: The three batch statistics of a per-review norm matrix, by the name results.json uses.
STATISTICS = ("arithmetic", "geometric", "median")


def batch_curves(norms: np.ndarray) -> dict[str, np.ndarray]:
    """Arithmetic mean, geometric mean and median over the batch axis of a [B, T] matrix.

    The arithmetic mean is what the batch loss's gradient adds up (the loss is a mean
    over the batch, so the update sums the reviews' contributions): its horizon says
    how far back the update reaches. The geometric mean and the median describe the
    typical review; per-review norms span many orders of magnitude, so the three differ.
    """
    return {
        "arithmetic": norms.mean(axis=0),
        "geometric": geometric_mean(norms),
        "median": np.median(norms, axis=0),
    }


def describe_curve(norms: np.ndarray, threshold: float) -> dict[str, Any]:
    """Summary numbers of one [B, T] norm matrix: ratio and horizon per batch statistic.

    ``arithmetic``, ``geometric`` and ``median`` each hold first/last, their ratio
    and the memory horizon of that curve. The top-level ratio and horizon repeat the
    geometric ones (the figure's earlier headline), for readers of older results.
    """
    curves = batch_curves(norms)
    curve = curves["geometric"]
    out = {
        **_curve_numbers(curve, threshold),
        "min": float(curve.min()),
        "argmin_step": int(curve.argmin()) + 1,
        "max": float(curve.max()),
        "argmax_step": int(curve.argmax()) + 1,
        "zero_entries": int((norms == 0).sum()),
        "finite": bool(np.isfinite(norms).all()),
        "steps": len(curve),
    }
    for name in STATISTICS:
        out[name] = _curve_numbers(curves[name], threshold)
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


def step_table(
    norms: dict[str, np.ndarray], model: str, weights: str, seed: int = 0
) -> pd.DataFrame:
    """Long table: one row per (quantity, step) with the batch statistics and spread."""
    frames = []
    for quantity in QUANTITIES:
        if quantity not in norms:
            continue
        values = norms[quantity]
        frames.append(
            pd.DataFrame(
                {
                    "model": model,
                    "seed": seed,
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


def parse_trained(values: list[str]) -> dict[str, dict[int, str]]:
    """``--trained rnn:s0=path lstm:s0=path rnn:s1=...`` (``rnn=path`` means seed 0)."""
    out: dict[str, dict[int, str]] = {}
    for key, path in named_paths(values, "--trained").items():
        name, sep, seed = key.partition(":s")
        if sep and not seed.isdigit():
            raise RnnlabError(f"--trained expects model:s<seed>=path, got {key!r}.")
        out.setdefault(name, {})[int(seed) if sep else 0] = path
    return out


def measure_all(
    trained: dict[str, dict[int, str]],
    batch: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    threshold: float,
    with_initial: bool,
) -> tuple[list[pd.DataFrame], dict[str, Any]]:
    """Every model and seed; the untrained reference for each model's first seed only."""
    ids, lengths, labels = batch
    tables, models = [], {}
    for name, by_seed in trained.items():
        entry: dict[str, Any] = {"seeds": {}}
        for index, (seed, path) in enumerate(sorted(by_seed.items())):
            model = load_checkpoint(path)
            entry.update(cell=model.cell, hidden_size=model.hidden_size)
            variants = {"trained": model}
            if with_initial and index == 0:
                variants["initial"] = initial_model(path)
            per_seed: dict[str, Any] = {}
            for weights, net in variants.items():
                norms, per_seed[weights] = measure_model(net, ids, lengths, labels, threshold)
                tables.append(step_table(norms, name, weights, seed))
                curve = per_seed[weights]["curves"]["h"]
                print(
                    f"{name} s{seed} {weights}: "
                    + ", ".join(
                        f"{k} ratio {curve[k]['ratio_first_last']:.3e} "
                        f"horizon {curve[k]['horizon_steps']}"
                        for k in STATISTICS
                    )
                )
            per_seed["fused_max_rel_diff"] = fused_agreement(
                as_float64(model), ids, lengths, labels
            )
            entry["seeds"][str(seed)] = per_seed
            if index == 0:  # the first seed also at the old place (trained / initial)
                entry.update({k: v for k, v in per_seed.items()})
        entry["spread"] = seed_spread(entry["seeds"])
        models[name] = entry
    return tables, models


def seed_spread(seeds: dict[str, Any]) -> dict[str, Any]:
    """Per batch statistic of dL/dh_t: mean, sd and interval over seeds of log10 ratio and H."""
    out: dict[str, Any] = {}
    for stat in STATISTICS:
        curves = [s["trained"]["curves"]["h"][stat] for s in seeds.values()]
        ratios = [c["log10_ratio"] for c in curves if c["log10_ratio"] is not None]
        out[stat] = {
            "log10_ratio": claims.mean_sd_ci(ratios) if ratios else None,
            "log10_ratio_seeds": ratios,
            "horizon_steps": claims.mean_sd_ci([c["horizon_steps"] for c in curves]),
            "horizon_seeds": [c["horizon_steps"] for c in curves],
            "censored": sum(bool(c["horizon_censored"]) for c in curves),
        }
    return out


#: A curve "vanishes" when its first-step value is below this power of ten of its last.
VANISHING_LOG10 = -1.0


def gradient_claims(models: dict[str, Any]) -> list[dict[str, Any]]:
    """LSTM vs RNN over seeds per statistic, and whether each model's curve vanishes."""
    out = []
    for name, entry in models.items():
        for stat in STATISTICS:
            spread = entry["spread"][stat]["log10_ratio"]
            if spread is None:
                continue
            out.append(
                claims.versus_threshold(
                    f"q6b.vanishes.{name}.{stat}",
                    spread["mean"],
                    VANISHING_LOG10,
                    "VANISHING_LOG10 (log10 of g_1/g_L; below: more than one decade lost)",
                    model=name,
                    statistic_name=stat,
                )
            )
    if not {"rnn", "lstm"} <= set(models):
        return out
    for stat in STATISTICS:
        lstm, rnn = models["lstm"]["spread"][stat], models["rnn"]["spread"][stat]
        if lstm["log10_ratio_seeds"] and rnn["log10_ratio_seeds"]:
            out.append(
                claims.compare_seeds(
                    f"q6b.decay.lstm_vs_rnn.{stat}",
                    lstm["log10_ratio_seeds"],
                    rnn["log10_ratio_seeds"],
                    higher_is_better=True,
                    names=("lstm", "rnn"),
                    value="log10(g_1/g_L): higher keeps more of the gradient",
                    statistic_name=stat,
                )
            )
        out.append(
            claims.compare_seeds(
                f"q6b.horizon.lstm_vs_rnn.{stat}",
                lstm["horizon_seeds"],
                rnn["horizon_seeds"],
                higher_is_better=True,
                names=("lstm", "rnn"),
                value="memory horizon in steps",
                statistic_name=stat,
            )
        )
    return out


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
    trained = parse_trained(args.trained)
    tables, models = measure_all(
        trained, (ids, lengths, labels), threshold, bool(params.get("initial_weights", True))
    )
    write_csv(
        args.steps_csv, pd.concat(tables, ignore_index=True), index=False, float_format="%.6e"
    )
    write_csv(
        args.batch_csv,
        pd.DataFrame({"key": keys, "label": labels.numpy(), "n_tokens": _true_lengths(part, keys)}),
        index=False,
    )
    found = gradient_claims(models)
    write_json(
        args.summary,
        {
            "length": length,
            "split": split,
            "batch_size": len(keys),
            "positive": int(labels.sum()),
            "seed": int(params["seed"]),
            "run_seeds": sorted({s for by_seed in trained.values() for s in by_seed}),
            "n_seeds": min(len(by_seed) for by_seed in trained.values()),
            "single_seed": min(len(by_seed) for by_seed in trained.values()) < 2,
            "dtype": "float64",
            "loss": "mean binary cross-entropy over the batch",
            "statistics": list(STATISTICS),
            "horizon_threshold": threshold,
            "horizon_definition": HORIZON_DEFINITION,
            "models": models,
            "ranking": _ranking(models),
            "claim_ids": [c["id"] for c in found],
            "claims": claims.collect(*found),
        },
    )


def _ranking(models: dict[str, Any]) -> dict[str, Any]:
    """The first seed's geometric-mean numbers (kept for older prose; verdicts are claims)."""
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
    measure.add_argument(
        "--trained", nargs="+", required=True, metavar="MODEL:sSEED=CHECKPOINT",
        help="one per model and training seed, e.g. rnn:s0=runs/rnn_L200_s0/best.pt",
    )  # fmt: skip
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
