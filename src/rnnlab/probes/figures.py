"""The Q6-B and Q6-C figures, drawn from the probes' CSV tables and summaries only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnlab.errors import RnnlabError
from rnnlab.style import plots

PANEL_ORDER = ("rnn", "lstm")
CLASS_KEYS = {1: "pos", 0: "neg"}
# One line style per batch statistic of the hidden-state gradient norm (colour = model).
STAT_STYLES = {
    "arithmetic": {"column": "mean", "linestyle": "-", "label": "میانگین حسابی روی دسته"},
    "geometric": {"column": "geomean", "linestyle": "--", "label": "میانگین هندسی روی دسته"},
    "median": {"column": "median", "linestyle": ":", "label": "میانه روی دسته"},
}
INITIAL_COLOR = "#8C8C8C"


def _panels(models: list[str]) -> list[str]:
    ordered = [m for m in PANEL_ORDER if m in models] + [m for m in models if m not in PANEL_ORDER]
    if not ordered:
        raise RnnlabError("the probe table holds no model rows; rerun the measure rule.")
    return ordered


def plot_gradients(
    steps: pd.DataFrame, summary: dict[str, Any], font: str | Path, path: str | Path
) -> None:
    """Hidden-state gradient norm per step relative to its last step, log y.

    One panel per trained model, each with its own y-range (the RNN loses tens of
    decades, the LSTM a few: one shared axis would flatten the LSTM), three batch
    statistics as line styles and one line per training seed; a last panel apart
    holds the untrained reference of both models.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    plots.setup_style(font)
    if "seed" not in steps:
        steps = steps.assign(seed=0)
    h = steps[steps["quantity"] == "h"]
    models = _panels(list(dict.fromkeys(h["model"])))
    has_initial = bool((h["weights"] == "initial").any())
    n_panels = len(models) + int(has_initial)
    fig, axes = plt.subplots(1, n_panels, figsize=(2.6 * n_panels + 0.6, 3.6), squeeze=False)
    for ax, model in zip(axes[0], models, strict=False):
        color = plots.MODEL_COLORS.get(model, "#333333")
        rows = h[(h["model"] == model) & (h["weights"] == "trained")]
        for _seed, curve in rows.groupby("seed", sort=True):
            curve = curve.sort_values("step")
            for style in STAT_STYLES.values():
                values = curve[style["column"]].to_numpy()
                ax.plot(curve["step"], values / values[-1], color=color,
                        linestyle=style["linestyle"], linewidth=1.2, alpha=0.8)  # fmt: skip
        _gradient_axis(ax, summary, plots.MODEL_LABELS.get(model, model))
    if has_initial:
        ax = axes[0][-1]
        for model in models:
            curve = h[(h["model"] == model) & (h["weights"] == "initial")].sort_values("step")
            if curve.empty:
                continue
            values = curve["geomean"].to_numpy()
            ax.plot(
                curve["step"], values / values[-1], color=plots.MODEL_COLORS.get(model),
                linestyle="-.", linewidth=1.2, label=plots.MODEL_LABELS.get(model, model),
            )  # fmt: skip
        _gradient_axis(ax, summary, "وزن‌های اولیه (پیش از آموزش)")
        ax.legend(fontsize=7)
    axes[0][0].set_ylabel("نرم گرادیان حالت پنهان نسبت به گام آخر")
    handles = [
        Line2D([], [], color="#333333", linestyle=style["linestyle"], linewidth=1.2)
        for style in STAT_STYLES.values()
    ]
    labels = [style["label"] for style in STAT_STYLES.values()]
    if has_initial:
        handles.append(Line2D([], [], color="#333333", linestyle="-.", linewidth=1.2))
        labels.append("میانگین هندسی، وزن‌های اولیه")
    fig.legend(handles, labels, loc="outside lower center", ncol=2, fontsize=8)
    plots.save_figure(fig, path)


def _gradient_axis(ax: Any, summary: dict[str, Any], title: str) -> None:
    ax.set_yscale("log")
    ax.set_xlim(1, int(summary["length"]))
    ax.set_title(title)
    _step_axis(ax)


def plot_hidden(
    norms: pd.DataFrame,
    summary: dict[str, Any],
    font: str | Path,
    *,
    hidden_path: str | Path,
    cell_path: str | Path,
    means_path: str | Path,
) -> None:
    """Three figures: ||h_t|| per review (models side by side), ||c_t||, per-class means."""
    import matplotlib.pyplot as plt

    plots.setup_style(font)
    models = _panels(list(dict.fromkeys(norms["model"])))

    fig, axes = plt.subplots(1, len(models), figsize=(7.2, 3.4), sharey=True, squeeze=False)
    for ax, model in zip(axes[0], models, strict=True):
        _review_lines(ax, norms[norms["model"] == model], "h_norm")
        _train_length_marker(ax, summary, int(norms["step"].max()))
        bound = summary["models"][model]["bound"]
        ax.axhline(
            bound,
            color="#555555",
            linewidth=0.8,
            linestyle="--",
            label="کران بالا: جذر dₕ (همهٔ واحدها در مرز ۱)",
        )
        ax.set_title(plots.MODEL_LABELS.get(model, model))
        _step_axis(ax)
    axes[0][0].set_ylabel("نرم L2 حالت پنهان ‖hₜ‖")
    _shared_legend(fig, axes[0])
    plots.save_figure(fig, hidden_path)

    cell_models = [m for m in models if norms.loc[norms["model"] == m, "c_norm"].notna().all()]
    if not cell_models:
        raise RnnlabError("no LSTM rows with cell-state norms in the table; include the LSTM.")
    fig, axes = plt.subplots(1, len(cell_models), figsize=(6.0, 3.4), squeeze=False)
    for ax, model in zip(axes[0], cell_models, strict=True):
        _review_lines(ax, norms[norms["model"] == model], "c_norm")
        _train_length_marker(ax, summary, int(norms["step"].max()))
        ax.set_title(f"حالت سلول {plots.MODEL_LABELS.get(model, model)}")
        ax.set_ylabel("نرم L2 حالت سلول ‖cₜ‖")
        _step_axis(ax)
    _shared_legend(fig, axes[0])
    plots.save_figure(fig, cell_path)

    # Per-class means over the steps every chosen review reaches, so no curve
    # changes its membership along the x axis.
    common = norms[norms["step"] <= int(summary["min_tokens"])]
    panels = [(m, "h_norm") for m in models] + [(m, "c_norm") for m in cell_models]
    fig, axes = plt.subplots(1, len(panels), figsize=(7.6, 3.2), squeeze=False)
    for ax, (model, column) in zip(axes[0], panels, strict=True):
        rows = common[common["model"] == model]
        for label, key in CLASS_KEYS.items():
            per_step = rows[rows["label"] == label].groupby("step")[column]
            mean, low, high = per_step.mean(), per_step.min(), per_step.max()
            color = plots.MODEL_COLORS[key]
            ax.plot(
                mean.index, mean.to_numpy(), color=color, label=f"میانگین {plots.MODEL_LABELS[key]}"
            )
            ax.fill_between(
                mean.index, low.to_numpy(), high.to_numpy(), color=color, alpha=0.12, linewidth=0
            )
        name = plots.MODEL_LABELS.get(model, model)
        ax.set_title(f"‖hₜ‖ {name}" if column == "h_norm" else f"‖cₜ‖ {name}")
        _step_axis(ax)
    axes[0][0].set_ylabel("نرم L2")
    _shared_legend(fig, axes[0])
    plots.save_figure(fig, means_path)


def _train_length_marker(ax: Any, summary: dict[str, Any], last_step: int) -> None:
    """A dotted line where the reviews outgrow the length the models were trained at."""
    length = summary.get("train_length")
    if length and length < last_step:
        ax.axvline(length, color="#555555", linewidth=0.8, linestyle=":", label="طول آموزش مدل‌ها")


def _review_lines(ax: Any, rows: pd.DataFrame, column: str) -> None:
    """One thin line per review, coloured by its class."""
    for (label, _key), group in rows.groupby(["label", "key"], sort=True):
        key = CLASS_KEYS[int(label)]
        ax.plot(
            group["step"],
            group[column],
            color=plots.MODEL_COLORS[key],
            linewidth=0.9,
            alpha=0.75,
            label=plots.MODEL_LABELS[key],
        )
    steps = rows["step"].to_numpy()
    ax.set_xlim(1, int(np.max(steps)) if len(steps) else 1)


def _step_axis(ax: Any) -> None:
    """Time steps are whole numbers: integer ticks, Persian digits, one axis label."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("گام زمانی t")
    plots.persian_ticks(ax)


def _shared_legend(fig: Any, axes: Any) -> None:
    handles, labels = [], []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    fig.legend(handles, labels, loc="outside lower center", ncol=min(3, len(labels)), fontsize=8)
