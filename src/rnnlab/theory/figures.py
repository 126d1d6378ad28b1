"""Figures of the theory stage: Q2-h (accuracy vs bits, vs training pairs), Q2-i (timings).

python -m rnnlab.theory.figures addition --results addition.json --font fonts.json --out a.svg
python -m rnnlab.theory.figures parallelism --results parallelism.json --font ... --out b.svg
python -m rnnlab.theory.figures graph --font fonts.json --out c.svg    (Q2-c, needs no results)
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
        # The hardware's name is in the table caption and the text; the title says
        # in Persian which device and how many threads.
        threads = hardware["torch_threads"]
        title = (
            "پردازندهٔ گرافیکی"
            if hardware.get("gpu_name")
            else "پردازندهٔ مرکزی، " + plots.plot_number(threads) + " رشته"
        )
        ax.set_title(title, fontsize=9)
        plots.persian_ticks(ax)
    axes[0].legend(loc="upper left")
    plots.save_figure(fig, out)


def _node(ax: Any, x: float, y: float, text: str, kind: str) -> None:
    """A node of the unrolled graph: a circle for data, a rounded box for the state."""
    from matplotlib.patches import Circle, FancyBboxPatch

    if kind == "state":
        ax.add_patch(
            FancyBboxPatch((x - 0.55, y - 0.32), 1.1, 0.64, boxstyle="round,pad=0.04",
                           facecolor="#dbe7f3", edgecolor="#0b4f8a", linewidth=1.2)
        )  # fmt: skip
    else:
        face = "#fdf0d5" if kind == "input" else "#e3f1e3"
        ax.add_patch(Circle((x, y), 0.34, facecolor=face, edgecolor="#555", linewidth=1.0))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def _arrow(ax: Any, start: tuple[float, float], end: tuple[float, float], label: str,
           offset: tuple[float, float]) -> None:  # fmt: skip
    from matplotlib.patches import FancyArrowPatch

    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=11, linewidth=1.1,
                        color="#333", shrinkA=0, shrinkB=0)
    )  # fmt: skip
    middle = ((start[0] + end[0]) / 2 + offset[0], (start[1] + end[1]) / 2 + offset[1])
    ax.text(*middle, label, ha="center", va="center", fontsize=9, color="#8a1c0b")


def graph_figure(results: dict[str, Any] | None, font: str, out: str) -> None:
    """Q2-c: the Elman RNN unrolled in time, with h_0, the shared weights and the biases."""
    import matplotlib.pyplot as plt

    from rnnlab.style import plots

    plots.setup_style(font)
    fig, ax = plt.subplots(figsize=(6.4, 2.9))
    ax.set_axis_off()
    ax.set_xlim(-1.2, 10.9)
    ax.set_ylim(-0.75, 3.75)
    ax.set_aspect("equal")
    y_in, y_h, y_out = 0.0, 1.5, 3.0
    _node(ax, 0.0, y_h, "$h_0$", "state")
    ax.text(0.0, y_h - 0.62, "$h_0 = 0$", ha="center", va="center", fontsize=8.5)
    steps = [(2.4, "1"), (6.0, "t-1"), (8.9, "t")]
    previous = 0.0
    for x, t in steps:
        if x == 6.0:  # the steps 2 ... t-2 between the first and the question's step
            ax.text(4.2, y_h, "$\\cdots$", ha="center", va="center", fontsize=14)
            _arrow(ax, (previous + 0.6, y_h), (3.75, y_h), "$W_{hh}$", (0, 0.22))
            _arrow(ax, (4.65, y_h), (x - 0.6, y_h), "$W_{hh}$", (0, 0.22))
        else:
            _arrow(ax, (previous + 0.6, y_h), (x - 0.6, y_h), "$W_{hh}$", (0, 0.22))
        _node(ax, x, y_in, f"$x_{{{t}}}$", "input")
        _node(ax, x, y_h, f"$h_{{{t}}}$", "state")
        _node(ax, x, y_out, f"$\\hat{{y}}_{{{t}}}$", "output")
        _arrow(ax, (x, y_in + 0.34), (x, y_h - 0.33), "$W_{xh}$", (0.42, 0))
        _arrow(ax, (x, y_h + 0.33), (x, y_out - 0.34), "$W_{hy}$", (0.42, 0))
        ax.text(x - 0.78, y_h - 0.45, "$+b_h$", ha="center", fontsize=8, color="#0b4f8a")
        ax.text(x - 0.72, y_out + 0.08, "$+b_y$", ha="center", fontsize=8, color="#2d6a2d")
        # "گام" and the step as two texts: one mixed-direction string would be reordered.
        ax.text(x + 0.05, y_in - 0.62, "گام", ha="left", fontsize=8.5, color="#444")
        ax.text(x - 0.05, y_in - 0.62, f"${t}$", ha="right", fontsize=8.5, color="#444")
        previous = x
    ax.text(10.85, y_out, "خروجی", ha="right", va="center", fontsize=9)
    ax.text(10.85, y_h, "حالت پنهان", ha="right", va="center", fontsize=9)
    ax.text(10.85, y_in, "ورودی", ha="right", va="center", fontsize=9)
    plots.save_figure(fig, out)


FIGURES = {"addition": addition_figure, "parallelism": parallelism_figure, "graph": graph_figure}


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(description="figures of the theory stage")
    parser.add_argument("figure", choices=sorted(FIGURES))
    parser.add_argument("--results", help="the stage's JSON (not needed for graph)")
    parser.add_argument("--font", required=True, help="the font manifest (FONT_MANIFEST)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    if args.results is None and args.figure != "graph":
        raise RnnlabError(f"the {args.figure} figure needs --results <its JSON>.")
    try:
        results = read_json(args.results) if args.results else None
    except FileNotFoundError as err:
        raise RnnlabError(f"{args.results} is missing; run its theory rule first.") from err
    FIGURES[args.figure](results, args.font, args.out)
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
