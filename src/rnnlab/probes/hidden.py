"""Q6-C: how the size of the hidden state evolves along a review.

Ten test reviews (`per_class` positive and `per_class` negative, each with at
least `min_tokens` real tokens, chosen by the seeded, length-matched rule of
`rnnlab.probes.selection.select_matched`: each positive is paired with the
negative nearest in length, so a class difference is not a length difference)
are read one at a time at their natural length: no
padding, no truncation to the training length. The only cap is the stored
encoding itself, which holds at most `imdb.max_length` tokens per review; a
longer review is read up to that cap and marked `capped` in the summary.

At each step t the trained length-L RNN and LSTM (the same checkpoints as Q6-B)
give h_t, and the LSTM also c_t; we record ||h_t||_2, ||c_t||_2 and the share of
hidden units with |h_t,i| > `saturation_level` (tanh near its bound, where its
derivative nearly vanishes). Both |h_t,i| <= 1 hold for the RNN (tanh) and the
LSTM (o * tanh(c)), so ||h_t|| <= sqrt(hidden_size) is the common bound the
summary measures saturation against. c_t has no such bound.

The norm alone cannot say whether the state moves: a saturated RNN can turn
without changing its norm. So each step also records ||h_t - h_{t-1}|| and the
cosine between successive states, and the claims (``q6c.*``) about movement,
settling and the class gap are computed from those, over the chosen reviews.

Commands (one Snakemake rule each):
  measure  checkpoints + encoded data -> norms.csv, reviews.csv, summary.json
  plot     norms.csv + summary.json -> three figures
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

from rnnlab import claims
from rnnlab.errors import RnnlabError
from rnnlab.probes.selection import CLASS_NAMES, load_split, select_matched
from rnnlab.probes.unroll import as_float64, replay
from rnnlab.runtime import cli, named_paths, set_threads, write_csv, write_json
from rnnlab.sentiment.models import SentimentRNN, load_checkpoint


def trajectories(
    model: SentimentRNN, ids: torch.Tensor, saturation_level: float
) -> tuple[pd.DataFrame, float]:
    """Per-step norms of one review `ids` [T] read at full length, and P(positive).

    `model` should be the float64 copy from `as_float64` (made once per model).
    """
    row = ids.long().unsqueeze(0)
    with torch.no_grad():
        trace = replay(model, row, torch.tensor([row.shape[1]]))
    hidden = torch.stack(trace.hidden, dim=1)[0]  # [T, H]
    # How far the state moves per word, apart from its norm: a saturated RNN can turn
    # (change direction) while its norm stays put. Undefined at the first step.
    previous = torch.cat([torch.full_like(hidden[:1], float("nan")), hidden[:-1]])
    frame = pd.DataFrame(
        {
            "step": np.arange(1, hidden.shape[0] + 1),
            "h_norm": hidden.norm(dim=-1).numpy(),
            "h_step": (hidden - previous).norm(dim=-1).numpy(),
            "h_cos": torch.nn.functional.cosine_similarity(hidden, previous, dim=-1).numpy(),
            "saturated_share": (hidden.abs() > saturation_level).double().mean(dim=-1).numpy(),
        }
    )
    frame["c_norm"] = (
        torch.stack(trace.cell, dim=1)[0].norm(dim=-1).numpy() if trace.cell else np.nan
    )
    return frame, float(torch.sigmoid(trace.logits)[0])


def choose_reviews(
    part: dict[str, Any], *, min_tokens: int, per_class: int, seed: int, split: str
) -> pd.DataFrame:
    """The selected reviews: key, label, true and used token counts, stored row index."""
    width = int(part["ids"].shape[1])
    rows = select_matched(
        part["lengths"],
        part["labels"],
        min_tokens=min_tokens,
        per_class=per_class,
        seed=seed,
        cap=width,
        split=split,
    )
    if min_tokens > width:
        raise RnnlabError(
            f"probes.hidden.min_tokens ({min_tokens}) exceeds the stored encoding width "
            f"({width}); raise imdb.max_length or lower min_tokens."
        )
    n_tokens = part["lengths"][rows].long()
    return pd.DataFrame(
        {
            "row": rows.numpy(),
            "key": [part["keys"][int(i)] for i in rows],
            "label": part["labels"][rows].long().numpy(),
            "n_tokens": n_tokens.numpy(),
            "used_tokens": n_tokens.clamp(max=width).numpy(),
        }
    )


def _class_stats(frame: pd.DataFrame, column: str, step: int) -> dict[str, float]:
    at = frame[frame["step"] == step]
    stats = {"all": float(at[column].mean())}
    for label, name in CLASS_NAMES.items():
        stats[name] = float(at.loc[at["label"] == label, column].mean())
    return stats


def summarise_model(
    frame: pd.DataFrame, hidden_size: int, report_steps: list[int], common_steps: int
) -> dict[str, Any]:
    """Summary numbers of one model's trajectories (all rows of `frame` are that model's)."""
    bound = math.sqrt(hidden_size)
    common = frame[frame["step"] <= common_steps]
    late = frame[frame["step"] >= min(report_steps[1:] or report_steps)]
    out: dict[str, Any] = {
        "hidden_size": hidden_size,
        "bound": bound,
        "h": {
            "at": {str(s): _class_stats(frame, "h_norm", s) for s in report_steps},
            "max": float(frame["h_norm"].max()),
            "max_over_bound": float(frame["h_norm"].max() / bound),
            # After the first report step's transient: how close to the tanh bound it sits.
            "late_mean_over_bound": float(late["h_norm"].mean() / bound),
            "saturated_share": float(frame["saturated_share"].mean()),
            "late_saturated_share": float(late["saturated_share"].mean()),
            # Typical step-to-step movement, relative to the norm: a settled state moves little.
            "late_relative_change": _relative_change(late, "h_norm"),
            "class_gap_mean": _class_gap(common, "h_norm"),
            "class_gap_relative": _class_gap_relative(common, "h_norm"),
            "movement": movement(frame, report_steps, common_steps),
        },
    }
    if frame["c_norm"].notna().all():
        first = report_steps[0]
        at = {str(s): _class_stats(frame, "c_norm", s) for s in report_steps}
        curve = common.groupby("step")["c_norm"].mean()
        slope = float(np.polyfit(curve.index.to_numpy(), curve.to_numpy(), 1)[0])
        out["c"] = {
            "at": at,
            "max": float(frame["c_norm"].max()),
            "growth": at[str(report_steps[-1])]["all"] / at[str(first)]["all"],
            "slope_per_step": slope,
            "max_over_bound": float(frame["c_norm"].max() / bound),
            "late_relative_change": _relative_change(late, "c_norm"),
            "class_gap_mean": _class_gap(common, "c_norm"),
            "class_gap_relative": _class_gap_relative(common, "c_norm"),
        }
    return out


def movement(frame: pd.DataFrame, report_steps: list[int], common_steps: int) -> dict[str, Any]:
    """Per-review step size ||h_t - h_{t-1}|| and cosine of successive states, early vs late.

    Early = steps 2 .. report_steps[1]; late = report_steps[1] .. `common_steps` (the
    steps every chosen review reaches). Per-review means, so each review counts once.
    """
    split = report_steps[1] if len(report_steps) > 1 else max(2, common_steps // 2)
    out: dict[str, Any] = {"early_steps": [2, split], "late_steps": [split, common_steps]}
    for name, lo, hi in (("early", 2, split), ("late", split, common_steps)):
        part = frame[(frame["step"] >= lo) & (frame["step"] <= hi)]
        per_review = part.groupby("key").agg(
            step=("h_step", "mean"), cos=("h_cos", "mean"), norm=("h_norm", "mean")
        )
        out[name] = {
            "step": [float(v) for v in per_review["step"]],
            "cos": [float(v) for v in per_review["cos"]],
            "relative_step": [float(v) for v in per_review["step"] / per_review["norm"]],
            "step_mean": float(per_review["step"].mean()),
            "cos_mean": float(per_review["cos"].mean()),
        }
    return out


def _relative_change(frame: pd.DataFrame, column: str) -> float:
    """Mean |x_t - x_{t-1}| / x_t over every review's consecutive steps."""
    changes = []
    for _, group in frame.sort_values("step").groupby("key"):
        values = group[column].to_numpy()
        if len(values) > 1:
            changes.append(np.abs(np.diff(values)) / np.maximum(values[1:], 1e-12))
    return float(np.concatenate(changes).mean()) if changes else float("nan")


def _class_gap(frame: pd.DataFrame, column: str) -> float:
    """Mean over steps of (positive class mean - negative class mean)."""
    means = frame.groupby(["step", "label"])[column].mean().unstack("label")
    return float((means[1] - means[0]).mean())


def _class_gap_relative(frame: pd.DataFrame, column: str) -> float:
    """The class gap as a share of the mean norm over the same steps."""
    return _class_gap(frame, column) / float(frame[column].mean())


def measure(
    models: dict[str, SentimentRNN],
    part: dict[str, Any],
    reviews: pd.DataFrame,
    saturation_level: float,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """All trajectories (long table) and each model's accuracy on the chosen reviews."""
    frames = []
    accuracy: dict[str, float] = {}
    probs: dict[str, list[float]] = {}
    for name, model in models.items():
        exact = as_float64(model)
        correct = 0
        probs[name] = []
        for review in reviews.itertuples():
            ids = part["ids"][review.row, : review.used_tokens]
            frame, prob = trajectories(exact, ids, saturation_level)
            frame.insert(0, "model", name)
            frame.insert(1, "key", review.key)
            frame.insert(2, "label", review.label)
            frames.append(frame)
            probs[name].append(prob)
            correct += int((prob >= 0.5) == bool(review.label))
        accuracy[name] = correct / len(reviews)
    for name, values in probs.items():
        reviews[f"p_pos_{name}"] = values
    return pd.concat(frames, ignore_index=True), accuracy


SELECTION_RULE = (
    "per_class positives drawn at random (seeded) among the reviews with >= min_tokens "
    "tokens; each, shortest first, paired with the unused negative nearest in read length "
    "(rnnlab.probes.selection.select_matched)"
)
#: `q6c.turns.{model}` is `above` when successive states differ in direction by more
#: than this (1 - mean cosine over the late steps): the state still turns per word.
TURNING = 0.01
#: `q6c.saturated.{model}` is `above` when more than this share of the hidden units
#: sits beyond `saturation_level` after the first report step (most units saturated).
SATURATED_MAJORITY = 0.5
#: Steps sampled for the cell-norm trend (every this many steps after the first report step).
TREND_STRIDE = 10


def _length_gap(reviews: pd.DataFrame) -> dict[str, Any]:
    """The matched pairs' length differences (positive i vs negative i)."""
    pos = reviews[reviews["label"] == 1]["used_tokens"].to_numpy()
    neg = reviews[reviews["label"] == 0]["used_tokens"].to_numpy()
    gaps = np.abs(pos - neg)
    return {"max": int(gaps.max()), "mean": float(gaps.mean()), "pairs": [int(g) for g in gaps]}


def hidden_claims(models: dict[str, Any], reviews: pd.DataFrame) -> list[dict[str, Any]]:
    """Statements about movement (not the norm) and the class gap on matched lengths.

    Samples are the chosen reviews (each review's mean over the steps), compared with
    Welch's interval as the seed comparisons are.
    """
    out = []
    for name, entry in models.items():
        move = entry["h"]["movement"]
        out.append(
            claims.compare_seeds(
                f"q6c.settles.{name}", move["early"]["step"], move["late"]["step"],
                higher_is_better=True, names=("early", "late"), samples="reviews",
                value="mean ||h_t - h_(t-1)|| per review",
            )
        )  # fmt: skip
        out.append(
            claims.versus_threshold(
                f"q6c.turns.{name}", 1.0 - move["late"]["cos_mean"], TURNING,
                "TURNING (1 - mean cosine of successive states, late steps)",
            )
        )  # fmt: skip
        pos = [v for v, r in zip(entry["h"]["per_review_norm"], reviews["label"], strict=True)
               if r == 1]  # fmt: skip
        neg = [v for v, r in zip(entry["h"]["per_review_norm"], reviews["label"], strict=True)
               if r == 0]  # fmt: skip
        out.append(
            claims.compare_seeds(
                f"q6c.class_gap.{name}", pos, neg, higher_is_better=True,
                names=("pos", "neg"), samples="reviews", value="mean ||h_t|| per review",
            )
        )  # fmt: skip
        out.append(
            claims.versus_threshold(
                f"q6c.saturated.{name}", entry["h"]["late_saturated_share"], SATURATED_MAJORITY,
                "SATURATED_MAJORITY (share of units beyond the saturation level, late steps)",
            )
        )  # fmt: skip
        if "cell_trend" in entry.get("c", {}):
            xs, ys = entry["c"]["cell_trend"]["steps"], entry["c"]["cell_trend"]["norms"]
            out.append(claims.trend(f"q6c.cell_trend.{name}", xs, ys, axis="step"))
    if {"rnn", "lstm"} <= set(models):
        out.append(
            claims.compare_seeds(
                "q6c.moves_more.rnn_vs_lstm",
                models["rnn"]["h"]["movement"]["late"]["relative_step"],
                models["lstm"]["h"]["movement"]["late"]["relative_step"],
                higher_is_better=True, names=("rnn", "lstm"), samples="reviews",
                value="late ||h_t - h_(t-1)|| / ||h_t|| per review",
            )
        )  # fmt: skip
    return out


def cmd_measure(args: argparse.Namespace, params: dict[str, Any]) -> None:
    set_threads(args.threads)
    split = params.get("split", "test")
    min_tokens = int(params["min_tokens"])
    report_steps = sorted(int(s) for s in params["report_steps"])
    if not report_steps or report_steps[0] < 1 or report_steps[-1] > min_tokens:
        raise RnnlabError(
            f"probes.hidden.report_steps {report_steps} must lie in 1..min_tokens ({min_tokens}): "
            "every chosen review must reach them."
        )
    data, part = load_split(args.encoded, split)
    reviews = choose_reviews(
        part,
        min_tokens=min_tokens,
        per_class=int(params["per_class"]),
        seed=int(params["seed"]),
        split=split,
    )
    models = {
        name: load_checkpoint(path) for name, path in named_paths(args.trained, "--trained").items()
    }
    norms, accuracy = measure(models, part, reviews, float(params["saturation_level"]))
    write_csv(args.norms_csv, norms, index=False, float_format="%.6e")
    write_csv(args.reviews_csv, reviews.drop(columns="row"), index=False, float_format="%.6f")
    summary_models = {}
    for name, model in models.items():
        entry = summarise_model(
            norms[norms["model"] == name], model.hidden_size, report_steps, min_tokens
        )
        entry["accuracy"] = accuracy[name]
        entry["cell"] = model.cell
        common = norms[(norms["model"] == name) & (norms["step"] <= min_tokens)]
        per_review = common.groupby("key")["h_norm"].mean().reindex(reviews["key"])
        entry["h"]["per_review_norm"] = [float(v) for v in per_review]
        if "c" in entry:
            start = report_steps[1] if len(report_steps) > 1 else report_steps[0]
            steps = list(range(start, min_tokens + 1, TREND_STRIDE))
            entry["c"]["cell_trend"] = {
                "steps": steps,
                "norms": [
                    [float(v) for v in common.loc[common["step"] == t, "c_norm"]] for t in steps
                ],
            }
        summary_models[name] = entry
        print(f"{name}: {json.dumps(entry['h']['at'])}")
    found = hidden_claims(summary_models, reviews)
    write_json(
        args.summary,
        {
            "claim_ids": [c["id"] for c in found],
            "claims": claims.collect(*found),
            "selection": SELECTION_RULE,
            "length_gap": _length_gap(reviews),
            "split": split,
            "min_tokens": min_tokens,
            "per_class": int(params["per_class"]),
            "seed": int(params["seed"]),
            "report_steps": report_steps,
            "saturation_level": float(params["saturation_level"]),
            "train_length": params.get("train_length"),
            # Whether some review is read past the length the models were trained at.
            "extrapolates": bool(
                params.get("train_length")
                and int(params["train_length"]) < int(reviews["used_tokens"].max())
            ),
            "max_length": int(data["max_length"]),
            "truncation": data["truncation"],
            "capped": int((reviews["n_tokens"] > reviews["used_tokens"]).sum()),
            "tokens": {
                "min": int(reviews["used_tokens"].min()),
                "max": int(reviews["used_tokens"].max()),
                "mean": float(reviews["used_tokens"].mean()),
            },
            "reviews": reviews.drop(columns="row").to_dict(orient="records"),
            "models": summary_models,
        },
    )


def cmd_plot(args: argparse.Namespace, params: dict[str, Any]) -> None:
    from rnnlab.probes.figures import plot_hidden

    plot_hidden(
        pd.read_csv(args.norms_csv),
        json.loads(Path(args.summary).read_text()),
        args.font,
        hidden_path=args.hidden_figure,
        cell_path=args.cell_figure,
        means_path=args.means_figure,
    )


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.probes.hidden", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    measure_cmd = sub.add_parser("measure", help="hidden and cell norms along test reviews")
    measure_cmd.add_argument("--encoded", required=True)
    measure_cmd.add_argument("--trained", nargs="+", required=True, metavar="MODEL=CHECKPOINT")
    measure_cmd.add_argument("--norms-csv", required=True)
    measure_cmd.add_argument("--reviews-csv", required=True)
    measure_cmd.add_argument("--summary", required=True)
    measure_cmd.add_argument("--threads", type=int, default=1)
    plot = sub.add_parser("plot", help="the Q6-C figures")
    plot.add_argument("--norms-csv", required=True)
    plot.add_argument("--summary", required=True)
    plot.add_argument("--font", required=True)
    plot.add_argument("--hidden-figure", required=True)
    plot.add_argument("--cell-figure", required=True)
    plot.add_argument("--means-figure", required=True)
    for cmd in (measure_cmd, plot):
        cmd.add_argument("--params", default="{}", help="JSON of the rule's params")
    args = parser.parse_args(argv)
    params = json.loads(args.params)
    {"measure": cmd_measure, "plot": cmd_plot}[args.command](args, params)
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
