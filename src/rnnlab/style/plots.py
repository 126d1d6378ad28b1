"""The look of every figure: Persian font, one colour and name per model, Persian ticks, SVG.

Usage in a figure module:

    from rnnlab.style import plots
    plots.setup_style(args.font)               # the FONT_MANIFEST the rule takes as input
    fig, ax = plt.subplots()
    ax.plot(x, y, **plots.model_style("lstm"))  # colour, Persian label, marker
    ax.set_yscale("log")                        # set scales BEFORE persian_ticks:
    plots.persian_ticks(ax)                     # set_yscale replaces the formatters
    ax.set_xlabel("طول دنباله")                 # plain Persian: matplotlib shapes it
    ax.set_title(plots.rtl("LSTM در برابر RNN"))  # starts with Latin: force RTL order
    plots.save_figure(fig, out_path)            # deterministic SVG, text as paths

Do not pass labels through arabic-reshaper/python-bidi: matplotlib 3.11 shapes
Persian itself (libraqm), and reshaping twice reverses the text. Do not put
`rnnlab.style.persian.num` output into a label either: its bidi isolates (U+2066)
are not in the font; use `plot_number` below.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

# Headless: figure jobs run without a display.
matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import Formatter  # noqa: E402

from rnnlab.errors import RnnlabError  # noqa: E402

# runtime's temp-file-and-rename writer (every job already depends on runtime.py).
from rnnlab.runtime import atomic_write  # noqa: E402
from rnnlab.style.persian import DECIMAL_SEPARATOR, to_persian_digits  # noqa: E402

# Okabe-Ito colours: distinguishable with colour-blindness and in greyscale print.
MODEL_COLORS: dict[str, str] = {
    "rnn": "#D55E00",  # vermillion
    "lstm": "#0072B2",  # blue
    "gru": "#009E73",  # bluish green
    "bilstm": "#CC79A7",  # reddish purple
    "persistence": "#7F7F7F",  # grey: a baseline, not a model
    "tfidf": "#4D4D4D",  # dark grey: the Q6-A bag-of-words baseline
    "lstm_forget_only": "#E69F00",  # orange
    "lstm_input_only": "#56B4E9",  # sky blue
    "lstm_full": "#0072B2",  # the full LSTM is the LSTM: same colour
    "pos": "#1A9850",  # green: positive reviews
    "neg": "#C51B7D",  # magenta: negative reviews (not red/green only)
}

# RIGHT-TO-LEFT MARK: a label starting with a Latin word ("RNN ساده") would
# otherwise be laid out left-to-right and read in the wrong order.
RLM = "\u200f"


def rtl(text: str) -> str:
    """A figure label read right to left even when it starts with a Latin word."""
    return text if text.startswith(RLM) else RLM + text


MODEL_LABELS: dict[str, str] = {
    "rnn": rtl("RNN ساده"),
    "lstm": "LSTM",
    "gru": "GRU",
    "bilstm": "BiLSTM",
    "persistence": "مبنا: تکرار مقدار قبلی",
    "tfidf": rtl("TF-IDF و رگرسیون لجستیک (مبنا)"),
    "lstm_forget_only": rtl("LSTM فقط با دروازهٔ فراموشی"),
    "lstm_input_only": rtl("LSTM فقط با دروازهٔ ورودی"),
    "lstm_full": rtl("LSTM کامل"),
    "pos": "نقد مثبت",
    "neg": "نقد منفی",
}

# Markers tell lines apart where colour fails (greyscale print).
MODEL_MARKERS: dict[str, str] = {
    "rnn": "o",
    "lstm": "s",
    "gru": "^",
    "bilstm": "D",
    "persistence": "x",
    "tfidf": "x",
    "lstm_forget_only": "v",
    "lstm_input_only": "P",
    "lstm_full": "s",
    "pos": "o",
    "neg": "s",
}

# A fixed salt makes matplotlib's generated SVG ids (clip paths, glyphs) repeatable.
SVG_HASHSALT = "rnnlab"
PNG_DPI = 200


def setup_style(font_manifest: str | Path) -> str:
    """Register the Persian font from the manifest and set the shared rcParams.

    Returns the font family name. Call once per process before creating figures.
    """
    # Imported here: rnnlab.report imports plots' siblings, not the other way round.
    from rnnlab.style.fonts import load_manifest

    fontset = load_manifest(font_manifest)
    for path in {fontset.regular, fontset.bold}:
        font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(fontset.regular)).get_name()
    matplotlib.rcParams.update(
        {
            "font.family": [family, "DejaVu Sans"],
            # Persian shaping and bidi by libraqm; "fa" picks Persian glyph forms.
            "text.language": "fa",
            # Text as outlines: SVG <text> would be drawn unjoined and reversed.
            "svg.fonttype": "path",
            "svg.hashsalt": SVG_HASHSALT,
            "font.size": 10,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "grid.linewidth": 0.6,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "lines.linewidth": 1.6,
            "lines.markersize": 5,
            "figure.figsize": (6.0, 3.6),
            "figure.dpi": 100,
            "figure.constrained_layout.use": True,
            "savefig.dpi": PNG_DPI,
            # mathtext (log-axis tick labels) draws digits from the Persian font.
            "mathtext.fontset": "custom",
            "mathtext.rm": family,
            "mathtext.it": family,
            "mathtext.bf": f"{family}:bold",
            "mathtext.sf": family,
            "mathtext.cal": family,
        }
    )
    return family


def model_style(key: str) -> dict[str, Any]:
    """`ax.plot(..., **model_style("gru"))`: the model's colour, Persian label and marker."""
    if key not in MODEL_COLORS:
        raise RnnlabError(
            f"unknown model key {key!r} for a figure; use one of {sorted(MODEL_COLORS)} "
            "or add it to MODEL_COLORS/MODEL_LABELS in rnnlab/style/plots.py."
        )
    return {"color": MODEL_COLORS[key], "label": MODEL_LABELS[key], "marker": MODEL_MARKERS[key]}


def plot_number(text: str | float | int, digits: int | None = None) -> str:
    """A number or string for a figure label, in Persian digits (no bidi isolates)."""
    if isinstance(text, float) or (digits is not None and not isinstance(text, str)):
        text = f"{text:.{2 if digits is None else digits}f}"
    return to_persian_digits(str(text)).replace(".", DECIMAL_SEPARATOR)


class PersianFormatter(Formatter):
    """Wraps an axis' own formatter and rewrites its labels in Persian digits.

    Wrapping (instead of replacing) keeps what the original formatter knows:
    log-axis decades, offsets, scientific notation.
    """

    def __init__(self, inner: Formatter) -> None:
        self.inner = inner

    def set_axis(self, axis: Any) -> None:
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def set_locs(self, locs: Any) -> None:
        super().set_locs(locs)
        self.inner.set_locs(locs)

    @staticmethod
    def _convert(label: str) -> str:
        if label.startswith("$"):
            # mathtext (log decades "$\mathdefault{10^{-3}}$"): only digits change.
            return to_persian_digits(label)
        return to_persian_digits(label).replace(".", DECIMAL_SEPARATOR)

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self._convert(self.inner(x, pos))

    def format_ticks(self, values: Any) -> list[str]:
        return [self._convert(label) for label in self.inner.format_ticks(values)]

    def get_offset(self) -> str:
        return self._convert(self.inner.get_offset())


def persian_ticks(ax: Axes) -> None:
    """Persian digits on both axes' tick labels, log axes included.

    Call after `set_xscale`/`set_yscale` (they install new formatters).
    Idempotent: a second call does not wrap twice.
    """
    for axis in (ax.xaxis, ax.yaxis):
        for getter, setter in (
            (axis.get_major_formatter, axis.set_major_formatter),
            (axis.get_minor_formatter, axis.set_minor_formatter),
        ):
            current = getter()
            if not isinstance(current, PersianFormatter):
                setter(PersianFormatter(current))


def save_figure(fig: Figure, path: str | Path) -> None:
    """Write `fig` as SVG (text as paths) or PNG, deterministically, atomically; closes it.

    Same data gives byte-identical files: a fixed SVG hash salt, no date or
    software metadata.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".svg", ".png"}:
        raise RnnlabError(f"figure {path} must end in .svg or .png (the report embeds those).")

    def write(tmp: Path) -> None:
        with matplotlib.rc_context({"svg.hashsalt": SVG_HASHSALT, "svg.fonttype": "path"}):
            if suffix == ".svg":
                fig.savefig(tmp, format="svg", metadata={"Date": None, "Creator": None})
            else:
                fig.savefig(tmp, format="png", dpi=PNG_DPI, metadata={"Software": None})

    try:
        # The same temp-and-rename writer as every other output (normal file mode too).
        atomic_write(path, write)
    finally:
        plt.close(fig)
