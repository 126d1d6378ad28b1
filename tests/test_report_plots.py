"""rnnlab.style.plots: font registration, shared colours, Persian ticks, deterministic SVG."""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest

from rnnlab.errors import RnnlabError
from rnnlab.runtime import sha256_file
from rnnlab.style import plots


def dejavu_manifest(folder: Path) -> Path:
    """A font manifest over matplotlib's bundled DejaVu Sans (it has Arabic glyphs).

    Lets these tests run without the downloaded Vazirmatn.
    """
    data = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    regular, bold = data / "DejaVuSans.ttf", data / "DejaVuSans-Bold.ttf"
    manifest = {
        "family": "DejaVu Sans",
        "regular": str(regular),
        "bold": str(bold),
        "variable": False,
        "source": "matplotlib",
        "sha256": {"regular": sha256_file(regular), "bold": sha256_file(bold)},
    }
    path = folder / "fonts.json"
    path.write_text(json.dumps(manifest))
    return path


def draw(out: Path, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    fig, (left, right) = plt.subplots(1, 2)
    for key in ("rnn", "lstm"):
        left.plot([50, 100, 200, 400], rng.uniform(0.5, 0.9, 4), **plots.model_style(key))
    left.set_xlabel("طول دنباله")
    left.legend()
    right.plot(np.arange(1, 50), 10.0 ** -np.arange(1, 50) * 1e3)
    right.set_yscale("log")
    plots.persian_ticks(left)
    plots.persian_ticks(right)
    plots.save_figure(fig, out)


def test_setup_style_registers_the_manifest_font(tmp_path):
    family = plots.setup_style(dejavu_manifest(tmp_path))
    assert family == "DejaVu Sans"
    assert matplotlib.rcParams["font.family"][0] == "DejaVu Sans"
    assert matplotlib.rcParams["svg.fonttype"] == "path"
    assert matplotlib.rcParams["text.language"] == "fa"


def test_setup_style_needs_an_existing_manifest(tmp_path):
    with pytest.raises(RnnlabError, match="does not exist"):
        plots.setup_style(tmp_path / "missing.json")


def test_same_data_gives_byte_identical_svg(tmp_path):
    plots.setup_style(dejavu_manifest(tmp_path))
    draw(tmp_path / "a.svg")
    draw(tmp_path / "b.svg")
    a, b = (tmp_path / "a.svg").read_bytes(), (tmp_path / "b.svg").read_bytes()
    assert a == b
    # Written like every other output: readable by others, no temp file left behind.
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.svg").stat().st_mode & 0o777 == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert b"<dc:date>" not in a
    # Text as outlines: no <text> elements whose glyphs SVG viewers would draw unjoined.
    assert b"<text" not in a
    draw(tmp_path / "c.svg", seed=1)
    assert (tmp_path / "c.svg").read_bytes() != a


def test_png_and_bad_suffix(tmp_path):
    plots.setup_style(dejavu_manifest(tmp_path))
    draw(tmp_path / "fig.png")
    assert (tmp_path / "fig.png").read_bytes()[:4] == b"\x89PNG"
    fig, _ = plt.subplots()
    with pytest.raises(RnnlabError, match=r"\.svg or \.png"):
        plots.save_figure(fig, tmp_path / "fig.pdf")


def test_persian_ticks_linear_and_log(tmp_path):
    plots.setup_style(dejavu_manifest(tmp_path))
    fig, (lin, log) = plt.subplots(1, 2)
    lin.plot([0, 0.5, 1.0], [-1.5, 0, 1.5])
    log.plot([1, 2, 3], [1e-3, 1e-1, 1e1])
    log.set_yscale("log")
    plots.persian_ticks(lin)
    plots.persian_ticks(log)
    plots.persian_ticks(log)  # idempotent: no double wrapping
    fig.canvas.draw()
    x_labels = [t.get_text() for t in lin.get_xticklabels() if t.get_text()]
    y_labels = [t.get_text() for t in lin.get_yticklabels() if t.get_text()]
    log_labels = [t.get_text() for t in log.get_yticklabels() if t.get_text()]
    assert "۰٫۴" in x_labels
    assert any(label.startswith("−") and "۱" in label for label in y_labels)
    assert all(not any(c in label for c in "0123456789") for label in x_labels + y_labels)
    assert log_labels and all("۱۰" in label for label in log_labels)
    assert not isinstance(log.yaxis.get_major_formatter().inner, plots.PersianFormatter)
    plt.close(fig)


def test_model_style_is_shared_and_complete():
    keys = {"rnn", "lstm", "gru", "bilstm", "persistence", "lstm_forget_only"}
    keys |= {"lstm_input_only", "lstm_full", "pos", "neg"}
    assert keys <= set(plots.MODEL_COLORS) == set(plots.MODEL_LABELS) == set(plots.MODEL_MARKERS)
    models = ["rnn", "lstm", "gru", "bilstm", "persistence", "lstm_forget_only", "lstm_input_only"]
    assert len({plots.MODEL_COLORS[k] for k in models}) == len(models)
    assert plots.model_style("gru")["color"] == plots.MODEL_COLORS["gru"]
    # Labels starting with a Latin word carry a right-to-left mark.
    assert plots.MODEL_LABELS["rnn"].startswith(plots.RLM)
    with pytest.raises(RnnlabError, match="unknown model key"):
        plots.model_style("transformer")


def test_plot_number():
    assert plots.plot_number(200) == "۲۰۰"
    assert plots.plot_number(0.25) == "۰٫۲۵"
    assert plots.plot_number(3.14159, 3) == "۳٫۱۴۲"
