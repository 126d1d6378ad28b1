"""LaTeX -> SVG with ziamath, embedded as <img> (inline <svg> with <use> renders blank).

`math(latex)` gives an inline image sitting on the text baseline;
`displaymath(latex)` a centred left-to-right block. Each SVG is cached on disk
under its content hash (LaTeX + size + ziamath version + numeral font), so a
rerender only typesets new formulas; the HTML embeds it as a data URI so the HTML
is self-contained and the cache is never a hidden input of the PDF rule.

Numerals: given the report's text font, formulas use Persian digits and the
Arabic decimal and thousands separators, like the prose and the tables around
them. The math font (STIX Two Math) has no Persian digits, so their glyphs come
from the text font, cut down to those twelve characters and rescaled to the math
font's units (`numeral_font`).
"""

from __future__ import annotations

import base64
import copy
import hashlib
import re
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from markupsafe import Markup, escape

from rnnlab.errors import RnnlabError
from rnnlab.runtime import atomic_write, sha256_file, write_text
from rnnlab.style.persian import (
    DECIMAL_SEPARATOR,
    PERSIAN_DIGITS,
    THOUSANDS_SEPARATOR,
    to_persian_digits,
)

# ziamath sizes are CSS px; 11pt body text = 14.67 px.
INLINE_SIZE = 14.7
DISPLAY_SIZE = 16.0
_VIEWBOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')
# A minus with nothing to subtract from (formula or cell start, after an opening
# bracket, a relation, a comma or an operator) is a sign. ziamath spaces every
# "-" as a binary operator («( − 0.2)»); braced, `{-}`, it is an ordinary symbol.
_UNARY_MINUS = re.compile(
    r"(^|[(\[{=,&<>+*/^_]|\\\\|\\begin\{\w+\*?\}"
    r"|\\(?:times|cdot|approx|leq?|geq?|neq?|quad|qquad|to|left[(\[.|]|[;,:!]|pm|mp))"
    r"(\s*)[-\u2212](?!\})"
)


def unary_minus(latex: str) -> str:
    """Brace every sign minus so it is typeset without binary spacing: (-0.2) -> ({-}0.2)."""
    # A template's `caller()` hands over Markup, and re.sub on Markup escapes the groups
    # it puts back: the "&" of a matrix cell would become "&amp;" in the formula.
    latex = str(latex)
    previous = None
    while previous != latex:  # "(--1)" and back-to-back signs need a second pass
        previous = latex
        latex = _UNARY_MINUS.sub(r"\1\2{-}", latex)
    return latex


# Drawn from the text font: the ten Persian digits and the two separators.
PERSIAN_NUMERALS = PERSIAN_DIGITS + DECIMAL_SEPARATOR + THOUSANDS_SEPARATOR
# The math font's units per em (STIX Two Math); the numeral font is rescaled to it
# because ziamath adds up advances in the units of the formula's own font.
_MATH_UNITS_PER_EM = 1000
# Glyph ids past any in the math font: ziamath looks a sub/superscript glyph up by
# id in the math font's substitution table, which must not catch a foreign glyph.
_FOREIGN_GLYPH_ID = 65000
# Part of the numeral font's file name (and so of every formula's cache key):
# raise it when `numeral_font` cuts the font differently.
_NUMERAL_FONT_VERSION = 1


# A digit set in bold or blackboard type names a symbol (the one-hot vector 1_w), not
# a quantity: it keeps its Latin shape, which the Persian one (a bare stroke) lacks.
_SYMBOL_DIGITS = re.compile(r"(\\math(?:bf|bb)\{[^{}]*\})")


def persian_numerals(latex: str) -> str:
    """Digits of a formula in Persian: `3{,}072.5` -> `۳٬۰۷۲٫۵`; a plain comma stays,
    and so does a digit in `\\mathbf{}` or `\\mathbb{}` (a symbol such as the one-hot 1)."""
    parts = _SYMBOL_DIGITS.split(str(latex))
    for i in range(0, len(parts), 2):  # the even parts lie outside \mathbf{} and \mathbb{}
        part = re.sub(r"(?<=\d)\{,\}(?=\d)", THOUSANDS_SEPARATOR, parts[i])
        part = re.sub(r"(?<=\d)\.(?=\d)", DECIMAL_SEPARATOR, part)
        parts[i] = to_persian_digits(part)
    return "".join(parts)


def numeral_font(text_font: Path, folder: Path) -> Path:
    """The Persian numerals of `text_font` as a small TrueType file in `folder` (made once)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont
    from fontTools.ttLib.scaleUpem import scale_upem

    if not text_font.exists():
        raise RnnlabError(
            f"text font {text_font} does not exist; formulas take their digits from it "
            "(rerun `snakemake resources/fonts/fonts.json`)"
        )
    out = folder / f"numerals-v{_NUMERAL_FONT_VERSION}-{sha256_file(text_font)[:16]}.ttf"
    if out.exists():
        return out
    font = TTFont(str(text_font), recalcTimestamp=False)
    if "fvar" in font:  # a variable font (Noto): its regular instance
        from fontTools.varLib.instancer import instantiateVariableFont

        axes = {axis.axisTag: axis.defaultValue for axis in font["fvar"].axes}
        font = instantiateVariableFont(font, axes)
    missing = [c for c in PERSIAN_NUMERALS if ord(c) not in font.getBestCmap()]
    if missing:
        raise RnnlabError(
            f"the text font {text_font} has no glyph for {''.join(missing)!r}; "
            "the report needs a Persian font (report.font in the config)"
        )
    options = subset.Options()
    options.layout_features = []
    options.hinting = False
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=PERSIAN_NUMERALS)
    subsetter.subset(font)
    scale_upem(font, _MATH_UNITS_PER_EM)
    atomic_write(out, lambda tmp: font.save(str(tmp)))
    return out


@cache
def _math_font_with_numerals(numerals: Path) -> str:
    """Registers with ziamath a math font whose numerals come from `numerals`; its key."""
    import ziafont
    from ziamath.mathfont import MathFont
    from ziamath.zmath import loadedfonts

    source = ziafont.Font(str(numerals))
    glyphs: dict[str, Any] = {}
    for i, char in enumerate(PERSIAN_NUMERALS):
        glyph = source.glyph(char)
        width = glyph.advance()  # no kerning: the numeral font keeps no pair tables
        foreign = copy.copy(glyph)
        foreign.index = _FOREIGN_GLYPH_ID + i
        foreign.advance = lambda nextchr=None, width=width: width
        glyphs[char] = foreign

    class _WithNumerals(MathFont):  # type: ignore[misc]
        def findglyph(self, char: str, variant: Any) -> Any:
            return glyphs.get(char) or super().findglyph(char, variant)

    key = f"rnnlab-numerals:{numerals}"
    loadedfonts[key] = _WithNumerals(loadedfonts["default"].fname)
    return key


class MathRenderer:
    """Typesets formulas, caching SVGs in `cache_dir` (None: no disk cache).

    With `text_font` (the report's Persian font) the formulas' numerals are Persian.
    """

    def __init__(self, cache_dir: str | Path | None = None, text_font: Path | None = None) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.count = 0
        self.text_font = Path(text_font) if text_font is not None else None
        self._numerals: Path | None = None

    @property
    def numerals(self) -> Path | None:
        """The numeral font cut from the text font, made at the first formula."""
        if self.text_font is not None and self._numerals is None:
            folder = self.cache_dir or Path(tempfile.mkdtemp(prefix="rnnlab-math-"))
            self._numerals = numeral_font(self.text_font, folder)
        return self._numerals

    def _svg(self, latex: str, size: float) -> str:
        import ziamath

        # Plain paths instead of <symbol>/<use>: a third of the SVG nodes, and
        # WeasyPrint draws SVG node by node (it was most of the PDF time).
        ziamath.config.svg2 = False
        latex = unary_minus(latex)
        font = None
        numerals = self.numerals
        if numerals is not None:
            latex = persian_numerals(latex)
            font = _math_font_with_numerals(numerals)
        key = f"{ziamath.__version__}|svg1|{size}|{numerals and numerals.name}|{latex}"
        key = hashlib.sha256(key.encode()).hexdigest()[:20]
        cached = self.cache_dir / f"{key}.svg" if self.cache_dir else None
        if cached is not None and cached.exists():
            return cached.read_text(encoding="utf-8")
        try:
            svg = ziamath.Math.fromlatex(latex, size=size, font=font).svg()
        except Exception as err:  # ziamath raises assorted types on bad LaTeX
            raise RnnlabError(
                f"cannot typeset the formula {latex!r} ({type(err).__name__}: {err}); "
                "fix the LaTeX in the template."
            ) from err
        if cached is not None:
            write_text(cached, svg)
        return svg

    def image(self, latex: str, display: bool = False) -> Markup:
        """An <img> of the formula, sized in px and aligned on the text baseline."""
        latex = str(latex)  # Markup from a template's caller() would skip the alt's escaping
        self.count += 1
        svg = self._svg(latex, DISPLAY_SIZE if display else INLINE_SIZE)
        box = _VIEWBOX.search(svg)
        if box is None:
            raise RnnlabError(f"ziamath gave an SVG without viewBox for {latex!r}")
        _, y0, width, height = (float(v) for v in box.groups())
        # The baseline is y=0 in ziamath's coordinates: what lies below it is the descent.
        descent = max(0.0, height + y0)
        data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
        css_class = "displaymath-img" if display else "math"
        style = f"width:{width:.2f}px;height:{height:.2f}px;vertical-align:-{descent:.2f}px"
        img = (
            f'<img class="{css_class}" alt="{escape(latex)}" style="{style}" '
            f'src="data:image/svg+xml;base64,{data}">'
        )
        if display:
            return Markup(f'<div class="displaymath" dir="ltr">{img}</div>')
        return Markup(img)

    def inline(self, latex: str) -> Markup:
        return self.image(latex, display=False)

    def display(self, latex: str) -> Markup:
        return self.image(latex, display=True)
