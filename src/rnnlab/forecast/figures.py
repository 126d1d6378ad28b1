"""Q7 figures, from summary.json, gates.npz and the runs' test predictions.

One command writes them all (they share the style set-up and are cheap):
  curves     validation MSE per epoch, every seed of the 4 architectures, with the
             persistence and ridge validation MSE as lines (a)
  forecast   one test week: measured power, the 4 models (seed 0) and ridge (a)
  lengths    test MSE (mean ± sd over seeds) against window length, 4 lines, with
             the persistence and ridge baselines of each length (c)
  ablation   test MSE (mean ± sd) of the full and the two ablated LSTMs + baselines (e)
  gates_<w>  for each chosen window w: the input series with the moments of remembering
             marked, over heatmaps of the LSTM input/forget/output and GRU update/reset
             gates of layer 1, each on its own colour scale (its range printed), since a
             0–1 scale hides variation that lies inside 0.4–0.6 (b)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from rnnlab.forecast.models import ARCHITECTURES
from rnnlab.runtime import cli, named_paths, read_json
from rnnlab.style import plots

WINDOW_LABELS = {"calm": "پنجرهٔ آرام", "peak": "پنجره با جهش تند", "typical": "پنجرهٔ معمولی"}
GATE_LABELS = {
    "lstm_input": plots.rtl("LSTM: دروازهٔ ورودی"),
    "lstm_forget": plots.rtl("LSTM: دروازهٔ فراموشی"),
    "lstm_output": plots.rtl("LSTM: دروازهٔ خروجی"),
    "gru_update": plots.rtl("GRU: دروازهٔ به‌روزرسانی"),
    "gru_reset": plots.rtl("GRU: دروازهٔ بازنشانی"),
}
FORECAST_STEPS = 168  # the last week of the test split at hourly resolution
# Baselines other than persistence: styled here (a baseline is a line, not a model).
BASELINE_STYLES = {
    "persistence": {
        "color": plots.MODEL_COLORS["persistence"],
        "linestyle": "--",
        "label": plots.MODEL_LABELS["persistence"],
    },
    "ridge": {"color": "#000000", "linestyle": ":", "label": plots.rtl("مبنا: رگرسیون ستیغی")},
}


def curves(summary: dict, out: Path) -> None:
    rows = summary["a"]["rows"]
    fig, ax = plt.subplots()
    for model in ARCHITECTURES:
        style = plots.model_style(model)
        for seed, curve in enumerate(rows[model]["val_curves"]):
            ax.plot(
                range(1, len(curve) + 1),
                curve,
                color=style["color"],
                marker=style["marker"],
                markersize=3,
                linewidth=1.0,
                alpha=0.8,
                label=style["label"] if seed == 0 else None,
            )
    for name, style in BASELINE_STYLES.items():
        ax.axhline(summary["a"]["baselines"][name]["val_mse"], **style)
    ax.set_xlabel("دور آموزش (یک گذر کامل)")
    ax.set_ylabel("میانگین مربعات خطای اعتبارسنجی (استانداردشده)")
    ax.legend(fontsize=8)
    plots.persian_ticks(ax)
    plots.save_figure(fig, out)


def lengths(summary: dict, out: Path) -> None:
    part = summary["c"]
    xs = part["lengths"]
    fig, ax = plt.subplots()
    for model in ARCHITECTURES:
        cells = [part["table"][model][str(n)]["mse"] for n in xs]
        ax.errorbar(
            xs,
            [c["mean"] for c in cells],
            yerr=[c["sd"] or 0.0 for c in cells],
            capsize=3,
            **plots.model_style(model),
        )
    for name, style in BASELINE_STYLES.items():
        ax.plot(xs, [part["baselines"][str(n)][name]["mse"] for n in xs], **style)
    ax.set_xticks(xs)
    ax.set_xlabel(
        "طول پنجره (گام ساعتی)"
        if summary["data"]["resolution_minutes"] == 60
        else "طول پنجره (گام)"
    )
    ax.set_ylabel("میانگین مربعات خطای آزمون (استانداردشده)")
    ax.legend(fontsize=8)
    plots.persian_ticks(ax)
    plots.save_figure(fig, out)


def ablation(summary: dict, out: Path) -> None:
    part = summary["e"]
    names = part["order"]
    keys = ["lstm_full" if n == "lstm" else n for n in names]
    cells = [part["rows"][n]["mse"] for n in names]
    values = [c["mean"] for c in cells]
    fig, ax = plt.subplots(figsize=(6.0, 3.2))
    ax.barh(
        range(len(names)),
        values,
        xerr=[c["sd"] or 0.0 for c in cells],
        capsize=3,
        color=[plots.MODEL_COLORS[k] for k in keys],
    )
    ax.set_yticks(range(len(names)), [plots.MODEL_LABELS[k] for k in keys])
    for name, style in BASELINE_STYLES.items():
        ax.axvline(part["baselines"][name]["mse"], **style)
    limit = max([*values, *(part["baselines"][n]["mse"] for n in BASELINE_STYLES)])
    # Each value inside its bar, near the axis: the bar's end carries the error bar and
    # the baselines' lines, which a label there would cover.
    for y, v in enumerate(values):
        ax.text(0.02 * limit, y, plots.plot_number(v, 3), va="center", ha="left", color="white")
    ax.set_xlim(0, limit * 1.25)
    ax.set_xlabel("میانگین مربعات خطای آزمون (استانداردشده)")
    ax.legend(loc="lower right", fontsize=8)
    plots.persian_ticks(ax)
    plots.save_figure(fig, out)


def forecast(
    summary: dict, predictions: dict[str, Path], out: Path, ridge_errors: np.ndarray | None = None
) -> None:
    std, mean = summary["data"]["target_std"], summary["data"]["target_mean"]
    loaded = {m: np.load(p) for m, p in predictions.items()}
    first = loaded[ARCHITECTURES[0]]
    # The last FORECAST_STEPS test targets: recent, and the same targets for every model.
    sel = slice(max(0, len(first["y"]) - FORECAST_STEPS), len(first["y"]))
    hours = np.arange(sel.stop - sel.start)
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.plot(hours, first["y"][sel] * std + mean, color="black", linewidth=1.2, label="مقدار واقعی")
    for model in ARCHITECTURES:
        style = plots.model_style(model) | {"marker": None, "linewidth": 1.0}
        ax.plot(hours, loaded[model]["pred"][sel] * std + mean, **style)
    if ridge_errors is not None:
        ridge = (ridge_errors[sel] + first["y"][sel]) * std + mean
        ax.plot(hours, ridge, **BASELINE_STYLES["ridge"] | {"linewidth": 1.0})
    ax.set_xlabel(
        "ساعت از آغاز بازهٔ نمایش‌داده‌شده"
        if summary["data"]["resolution_minutes"] == 60
        else "گام از آغاز بازهٔ نمایش‌داده‌شده"
    )
    ax.set_ylabel("توان فعال کل (کیلووات)")
    ax.legend(ncol=3, fontsize=8)
    plots.persian_ticks(ax)
    plots.save_figure(fig, out)


def gates(arrays: np.lib.npyio.NpzFile, window: str, out: Path) -> None:
    keys = list(GATE_LABELS)
    fig, axes = plt.subplots(
        len(keys) + 1,
        1,
        figsize=(6.2, 8.6),
        sharex=True,
        gridspec_kw={"height_ratios": [1.3] + [1] * len(keys)},
    )
    series = arrays[f"{window}_input_kw"]
    steps = np.arange(1, len(series) + 1)
    axes[0].plot(steps, series, color="black", linewidth=1.2)
    remember = arrays[f"{window}_l1_remember"].astype(bool)
    if remember.any():
        axes[0].plot(
            steps[remember],
            series[remember],
            linestyle="none",
            marker="o",
            markersize=4,
            color=plots.MODEL_COLORS["lstm"],
            label="لحظهٔ یادآوری",
        )
        axes[0].legend(fontsize=7, loc="upper left")
    axes[0].set_ylabel("کیلووات")
    axes[0].set_title(WINDOW_LABELS[window])
    for ax, key in zip(axes[1:], keys, strict=True):
        values = arrays[f"{window}_l1_{key}"]  # [T, H]
        # Units sorted by their mean activation: bands of similar units, easier to read.
        order = np.argsort(values.mean(axis=0))
        low, high = float(values.min()), float(values.max())
        # Each gate on its own scale: the variation that is there, with the range printed.
        image = ax.imshow(
            values[:, order].T,
            aspect="auto",
            cmap="viridis",
            vmin=low,
            vmax=max(high, low + 1e-6),
            interpolation="nearest",
            origin="lower",
            extent=(0.5, len(series) + 0.5, 0, values.shape[1]),
        )
        ax.set_ylabel("واحد", fontsize=8)
        ax.set_title(
            f"{GATE_LABELS[key]} ({plots.plot_number(low, 2)}–{plots.plot_number(high, 2)})",
            fontsize=9,
        )
        ax.grid(False)
        bar = fig.colorbar(image, ax=ax, pad=0.01, fraction=0.04)
        bar.ax.tick_params(labelsize=6)
        plots.persian_ticks(bar.ax)
    axes[-1].set_xlabel("گام زمانی در پنجره")
    for ax in axes:
        plots.persian_ticks(ax)
    plots.save_figure(fig, out)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.forecast.figures")
    parser.add_argument("--summary", required=True)
    parser.add_argument("--gates", required=True, help="gates.npz")
    parser.add_argument("--font", required=True, help="font manifest")
    parser.add_argument(
        "--prediction",
        action="append",
        required=True,
        help="model=predictions.npz of the main window length",
    )
    parser.add_argument("--baseline-errors", default=None, help="errors.npz of the baselines")
    parser.add_argument("--out-dir", required=True)
    args = parser.parse_args(argv)
    plots.setup_style(args.font)
    summary = read_json(args.summary)
    out = Path(args.out_dir)
    predictions = {k: Path(v) for k, v in named_paths(args.prediction, "--prediction").items()}
    curves(summary, out / "curves.svg")
    ridge = None
    if args.baseline_errors:
        with np.load(args.baseline_errors) as data:
            ridge = data[f"ridge_L{summary['a']['length']}"]
    forecast(summary, predictions, out / "forecast.svg", ridge)
    lengths(summary, out / "lengths.svg")
    ablation(summary, out / "ablation.svg")
    arrays = np.load(args.gates)
    for window in WINDOW_LABELS:
        gates(arrays, window, out / f"gates_{window}.svg")
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
