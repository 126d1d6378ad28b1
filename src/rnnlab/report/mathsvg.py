"""LaTeX -> SVG with ziamath, embedded as <img> (inline <svg> with <use> renders blank).

`math(latex)` gives an inline image sitting on the text baseline;
`displaymath(latex)` a centred left-to-right block. Each SVG is cached on disk
under its content hash (LaTeX + size + ziamath version), so a rerender only
typesets new formulas; the HTML embeds it as a data URI so the HTML is
self-contained and the cache is never a hidden input of the PDF rule.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from markupsafe import Markup, escape

from rnnlab.errors import RnnlabError
from rnnlab.runtime import write_text

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


class MathRenderer:
    """Typesets formulas, caching SVGs in `cache_dir` (None: no disk cache)."""

    def __init__(self, cache_dir: str | Path | None = None) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.count = 0

    def _svg(self, latex: str, size: float) -> str:
        import ziamath

        # Plain paths instead of <symbol>/<use>: a third of the SVG nodes, and
        # WeasyPrint draws SVG node by node (it was most of the PDF time).
        ziamath.config.svg2 = False
        latex = unary_minus(latex)
        key = f"{ziamath.__version__}|svg1|{size}|{latex}"
        key = hashlib.sha256(key.encode()).hexdigest()[:20]
        cached = self.cache_dir / f"{key}.svg" if self.cache_dir else None
        if cached is not None and cached.exists():
            return cached.read_text(encoding="utf-8")
        try:
            svg = ziamath.Math.fromlatex(latex, size=size).svg()
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
