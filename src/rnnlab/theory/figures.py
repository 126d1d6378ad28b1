"""Figures of the theory stage: Q2-h (accuracy vs bits, vs training pairs), Q2-i (timings).

python -m rnnlab.theory.figures addition --results addition.json --font fonts.json --out a.svg
python -m rnnlab.theory.figures parallelism --results parallelism.json --font ... --out b.svg
"""

from __future__ import annotations

import argparse
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.runtime import cli, read_json

# Colours for the non-recurrent contenders (Okabe-Ito, not used for them elsewhere);
# the RNN keeps the report-wide colour of rnnlab.style.plots.
OTHER_STYLE = {
    "mlp": {"color": "#E69F00", "marker": "s", "label": "MLP"},
    "conv": {"color": "#0072B2", "marker": "s", "label": "کانولوشن یک‌بعدی"},
    "matmul": {"color": "#009E73", "marker": "^", "label": "یک ضرب ماتریسی بزرگ"},
}


def _plain_log2_axis(ax: Any, ticks: list[int]) -> None:
    """A base-2 log x axis labelled with the plain numbers (8, 16, ...), not 2^k."""
    from matplotlib.ticker import FixedLocator, NullLocator, StrMethodFormatter

    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(StrMethodFormatter("{x:.0f}"))


def addition_figure(results: dict[str, Any], font: str, out: str) -> None:
    """Left: exact-sum accuracy vs number of bits. Right: held-out accuracy vs training pairs."""
    import matplotlib.pyplot as plt

    from rnnlab.style import plots

    plots.setup_style(font)
    rnn_style = {**plots.model_style("rnn"), "label": plots.rtl("RNN")}
    fig, (by_bits, by_pairs) = plt.subplots(1, 2, figsize=(6.4, 2.9))

    entries = results["by_length"]
    bits = [e["bits"] for e in entries]
    by_bits.plot(bits, [e["rnn"]["exact"] for e in entries], **rnn_style)
    mlp_points = [(e["bits"], e["mlp"]["exact"]) for e in entries if e["mlp"] is not None]
    if mlp_points:
        by_bits.plot(*zip(*mlp_points, strict=True), linestyle="none", **OTHER_STYLE["mlp"])
    _plain_log2_axis(by_bits, bits)
    by_bits.set_ylim(-0.03, 1.03)
    by_bits.set_xlabel("تعداد بیت هر عدد")
    by_bits.set_ylabel("دقت کامل (همهٔ بیت‌ها)")
    by_bits.set_title(
        "آموزش با " + plots.plot_number(results["config"]["train_bits"]) + " بیت", fontsize=10
    )
    plots.persian_ticks(by_bits)

    sweep = results["sweep"]
    pairs = [s["train_pairs"] for s in sweep]
    by_pairs.plot(pairs, [s["rnn"]["exact"] for s in sweep], **rnn_style)
    by_pairs.plot(pairs, [s["mlp"]["exact"] for s in sweep], **OTHER_STYLE["mlp"])
    _plain_log2_axis(by_pairs, pairs)
    by_pairs.set_ylim(-0.03, 1.03)
    by_pairs.set_xlabel("تعداد جفت آموزشی")
    by_pairs.set_title("دقت روی جفت‌های دیده‌نشده", fontsize=10)
    by_pairs.legend(loc="lower right")
    plots.persian_ticks(by_pairs)
    plots.save_figure(fig, out)


def parallelism_figure(results: dict[str, Any], font: str, out: str) -> None:
    """Best time per forward pass vs sequence length, one panel per device measured."""
    import matplotlib.pyplot as plt

    from rnnlab.style import plots

    plots.setup_style(font)
    devices = results["devices"]
    fig, axes = plt.subplots(1, len(devices), figsize=(6.4 if len(devices) > 1 else 5.0, 3.0))
    axes = list(axes) if len(devices) > 1 else [axes]
    for ax, device in zip(axes, devices, strict=True):
        rows = results["by_device"][device]["rows"]
        for op in ("rnn", "conv", "matmul"):
            own = sorted((r for r in rows if r["op"] == op), key=lambda r: r["length"])
            style = (
                {**plots.model_style("rnn"), "label": plots.rtl("RNN")}
                if op == "rnn"
                else OTHER_STYLE[op]
            )
            ax.plot([r["length"] for r in own], [r["best_ms"] for r in own], **style)
        _plain_log2_axis(ax, sorted(results["config"]["lengths"]))
        ax.set_yscale("log")
        ax.set_xlabel("طول دنباله T")
        ax.set_ylabel("زمان یک گذر رو به جلو (میلی‌ثانیه)")
        hardware = results["by_device"][device]["hardware"]
        # Hardware names are English: an all-Latin title avoids mixed-direction layout.
        threads = hardware["torch_threads"]
        title = hardware.get("gpu_name") or (
            f"{hardware['cpu_model']}, {threads} thread{'s' if threads > 1 else ''}"
        )
        ax.set_title(title, fontsize=9)
        plots.persian_ticks(ax)
    axes[0].legend(loc="upper left")
    plots.save_figure(fig, out)


FIGURES = {"addition": addition_figure, "parallelism": parallelism_figure}


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(description="figures of the theory stage")
    parser.add_argument("figure", choices=sorted(FIGURES))
    parser.add_argument("--results", required=True)
    parser.add_argument("--font", required=True, help="the font manifest (FONT_MANIFEST)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        results = read_json(args.results)
    except FileNotFoundError as err:
        raise RnnlabError(f"{args.results} is missing; run its theory rule first.") from err
    FIGURES[args.figure](results, args.font, args.out)
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
