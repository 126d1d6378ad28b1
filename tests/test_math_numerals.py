"""Formulas with Persian numerals: the digit glyphs come from the report's text font."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

from rnnlab.errors import RnnlabError
from rnnlab.report import mathsvg
from rnnlab.report.mathsvg import MathRenderer, numeral_font, persian_numerals

# A text font with Persian digits that every test machine has (matplotlib ships it).
TEXT_FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        ("3{,}072 + 0.5", "۳٬۰۷۲ + ۰٫۵"),
        # a comma that separates items stays a comma; only `{,}` groups thousands
        (r"\{0,1\}^{2}", r"\{۰,۱\}^{۲}"),
        (r"(B,\, 50,\, 32)", r"(B,\, ۵۰,\, ۳۲)"),
        ("h_{t-1} = W x + 2H", "h_{t-۱} = W x + ۲H"),
        ("a.b", "a.b"),
        # a digit that names a symbol keeps its Latin shape
        (r"\mathbf{1}_w, \mathbb{1}[x > 0] + 2", r"\mathbf{1}_w, \mathbb{1}[x > ۰] + ۲"),
    ],
)
def test_formula_digits_become_persian(latex, expected):
    assert persian_numerals(latex) == expected


def test_the_numeral_font_is_cut_from_the_text_font_once(tmp_path):
    from fontTools.ttLib import TTFont

    path = numeral_font(TEXT_FONT, tmp_path)
    font = TTFont(str(path))
    assert font["head"].unitsPerEm == 1000  # the math font's units
    assert set(mathsvg.PERSIAN_NUMERALS) <= {chr(c) for c in font.getBestCmap()}
    made = path.stat().st_mtime_ns
    assert numeral_font(TEXT_FONT, tmp_path) == path
    assert path.stat().st_mtime_ns == made


def test_a_text_font_without_persian_digits_is_refused(tmp_path):
    import ziamath.zmath

    math_font = Path(ziamath.zmath.loadedfonts["default"].fname)  # STIX Two Math: Latin only
    with pytest.raises(RnnlabError, match="no glyph for .*report.font"):
        numeral_font(math_font, tmp_path)


def _glyphs(node):
    """Every glyph drawable under a ziamath node."""
    if hasattr(node, "glyph") and hasattr(node, "char"):
        yield node
    for child in getattr(node, "nodes", []):
        yield from _glyphs(child)


def test_digits_are_drawn_from_the_numeral_font_also_in_scripts(tmp_path):
    import ziamath

    renderer = MathRenderer(tmp_path, text_font=TEXT_FONT)
    key = mathsvg._math_font_with_numerals(renderer.numerals)
    formula = ziamath.Math.fromlatex(persian_numerals("x_{2}^{3} = 10.5"), font=key)
    drawn = {g.char: g.glyph for g in _glyphs(formula.node) if g.char in mathsvg.PERSIAN_NUMERALS}
    assert set(drawn) == set("۲۳۱۰۵٫")
    # the script digits were not swapped for a math-font glyph by its script-size table
    assert all(Path(g.font.fname) == renderer.numerals for g in drawn.values())


def test_persian_and_latin_formulas_are_cached_apart(tmp_path):
    persian = MathRenderer(tmp_path, text_font=TEXT_FONT)._svg("x = 12", 14.7)
    latin = MathRenderer(tmp_path)._svg("x = 12", 14.7)
    assert persian != latin
    assert len(list(tmp_path.glob("*.svg"))) == 2
