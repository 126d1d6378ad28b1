"""Q7 figures, from summary.json, gates.npz and the runs' test predictions.

One command writes them all (they share the style set-up and are cheap):
  curves     validation MSE per epoch, 4 architectures, persistence as a line (a)
  forecast   one test week: measured power, the 4 models and persistence (a)
  lengths    test MSE against window length, 4 lines + persistence (c)
  ablation   test MSE of the full and the two ablated LSTMs + persistence (e)
  gates_<w>  for each chosen window w: the input series over heatmaps of the LSTM
             input/forget/output and GRU update/reset gates of layer 1 (b)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from rnnlab.forecast.models import ARCHITECTURES
from rnnlab.runtime import cli, read_json
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


def curves(summary: dict, out: Path) -> None:
    rows = summary["a"]["rows"]
    fig, ax = plt.subplots()
    for model in ARCHITECTURES:
        curve = rows[model]["val_curve"]
        ax.plot(range(1, len(curve) + 1), curve, **plots.model_style(model))
    persistence = summary["a"]["persistence"]["val_mse"]
    ax.axhline(persistence, linestyle="--", color=plots.MODEL_COLORS["persistence"],
               label=plots.MODEL_LABELS["persistence"])
    ax.set_xlabel("دور آموزش")
    ax.set_ylabel("میانگین مربعات خطای اعتبارسنجی (استانداردشده)")
    ax.legend()
    plots.persian_ticks(ax)
    plots.save_figure(fig, out)


def lengths(summary: dict, out: Path) -> None:
    part = summary["c"]
    xs = part["lengths"]
    fig, ax = plt.subplots()
    for model in ARCHITECTURES:
        ax.plot(xs, [part["table"][model][str(n)]["mse"] for n in xs], **plots.model_style(model))
    ax.plot(xs, [part["persistence"][str(n)]["mse"] for n in xs], linestyle="--",
            **plots.model_style("persistence"))
    ax.set_xticks(xs)
    ax.set_xlabel("طول پنجره (گام ساعتی)" if summary["data"]["resolution_minutes"] == 60
                  else "طول پنجره (گام)")
    ax.set_ylabel("میانگین مربعات خطای آزمون (استانداردشده)")
    ax.legend()
    plots.persian_ticks(ax)
    plots.save_figure(fig, out)


def ablation(summary: dict, out: Path) -> None:
    part = summary["e"]
    names = part["order"]
    keys = ["lstm_full" if n == "lstm" else n for n in names]
    values = [part["rows"][n]["mse"] for n in names]
    fig, ax = plt.subplots(figsize=(6.0, 3.2))
    ax.barh(range(len(names)), values, color=[plots.MODEL_COLORS[k] for k in keys])
    ax.set_yticks(range(len(names)), [plots.MODEL_LABELS[k] for k in keys])
    ax.axvline(part["persistence"]["mse"], linestyle="--", color=plots.MODEL_COLORS["persistence"],
               label=plots.MODEL_LABELS["persistence"])
    for y, v in enumerate(values):
        ax.text(v, y, " " + plots.plot_number(v, 3), va="center", ha="left")
    ax.set_xlim(0, max([*values, part["persistence"]["mse"]]) * 1.25)
    ax.set_xlabel("میانگین مربعات خطای آزمون (استانداردشده)")
    ax.legend(loc="lower right")
    plots.persian_ticks(ax)
    plots.save_figure(fig, out)


def forecast(summary: dict, predictions: dict[str, Path], out: Path) -> None:
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
    ax.set_xlabel("ساعت از آغاز بازهٔ نمایش‌داده‌شده" if summary["data"]["resolution_minutes"] == 60
                  else "گام از آغاز بازهٔ نمایش‌داده‌شده")
    ax.set_ylabel("توان فعال کل (کیلووات)")
    ax.legend(ncol=3, fontsize=8)
    plots.persian_ticks(ax)
    plots.save_figure(fig, out)


def gates(arrays: np.lib.npyio.NpzFile, window: str, out: Path) -> None:
    keys = list(GATE_LABELS)
    fig, axes = plt.subplots(len(keys) + 1, 1, figsize=(6.2, 8.0), sharex=True,
                             gridspec_kw={"height_ratios": [1.3] + [1] * len(keys)})
    series = arrays[f"{window}_input_kw"]
    steps = np.arange(1, len(series) + 1)
    axes[0].plot(steps, series, color="black", linewidth=1.2)
    axes[0].set_ylabel("کیلووات")
    axes[0].set_title(WINDOW_LABELS[window])
    image = None
    for ax, key in zip(axes[1:], keys, strict=True):
        values = arrays[f"{window}_l1_{key}"]  # [T, H]
        # Units sorted by their mean activation: bands of similar units, easier to read.
        order = np.argsort(values.mean(axis=0))
        image = ax.imshow(values[:, order].T, aspect="auto", cmap="viridis", vmin=0, vmax=1,
                          interpolation="nearest", origin="lower",
                          extent=(0.5, len(series) + 0.5, 0, values.shape[1]))
        ax.set_ylabel("واحد", fontsize=8)
        ax.set_title(GATE_LABELS[key], fontsize=9)
        ax.grid(False)
    axes[-1].set_xlabel("گام زمانی در پنجره")
    for ax in axes:
        plots.persian_ticks(ax)
    if image is not None:
        bar = fig.colorbar(image, ax=axes[1:], shrink=0.6, label="مقدار فعال‌سازی")
        plots.persian_ticks(bar.ax)
    plots.save_figure(fig, out)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.forecast.figures")
    parser.add_argument("--summary", required=True)
    parser.add_argument("--gates", required=True, help="gates.npz")
    parser.add_argument("--font", required=True, help="font manifest")
    parser.add_argument("--prediction", action="append", required=True,
                        help="model=predictions.npz of the main window length")
    parser.add_argument("--out-dir", required=True)
    args = parser.parse_args(argv)
    plots.setup_style(args.font)
    summary = read_json(args.summary)
    out = Path(args.out_dir)
    predictions = {k: Path(v) for k, v in (item.split("=", 1) for item in args.prediction)}
    curves(summary, out / "curves.svg")
    forecast(summary, predictions, out / "forecast.svg")
    lengths(summary, out / "lengths.svg")
    ablation(summary, out / "ablation.svg")
    arrays = np.load(args.gates)
    for window in WINDOW_LABELS:
        gates(arrays, window, out / f"gates_{window}.svg")
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
