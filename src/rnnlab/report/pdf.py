"""HTML -> PDF with WeasyPrint.

    python -m rnnlab.report.pdf --html report/build/report.html --out report/rnnlab-report.pdf

The HTML (render.py) is self-contained except for the figures and fonts, which
it names by paths relative to itself or by file URIs; the HTML's own location
is the base URL.

Spill pages: a part (a question, the references, the appendix) whose last page
would hold only a few lines before the next part's forced page break is set a
little tighter (line height, paragraph and figure spacing; `TIGHTEN`, two steps
at most) and the document is laid out again. The remaining layout problems
(rnnlab.report.layout) are printed; the tests make them fail.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.runtime import atomic_write, cli


class _Problems(logging.Handler):
    """Collects WeasyPrint's warnings: a missing image or font is an error for us."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


# WeasyPrint warnings that mean the PDF is incomplete, not merely imperfect.
FATAL_MARKERS = ("Failed to load image", "Failed to load font", "Failed to load stylesheet")


# Each step sets a spilled part a little tighter: (line height, paragraph gap in em).
TIGHTEN = ((1.68, 0.45), (1.62, 0.35))
SPILL_LINES = 8


def _part_of_page(page: Any) -> str | None:
    """The id of the last report part (div.part) that has content on `page`."""
    found = None
    for box in page._page_box.descendants():
        element = getattr(box, "element", None)
        if element is not None and "part" in (element.get("class") or "").split():
            found = element.get("id")
    return found


def _tighten_css(parts: dict[str, int]) -> str:
    rules = []
    for part, step in sorted(parts.items()):
        line_height, gap = TIGHTEN[step - 1]
        rules.append(
            f"#{part} {{ line-height: {line_height}; }}"
            f" #{part} p {{ margin-bottom: {gap}em; }}"
            f" #{part} figure.numbered, #{part} table {{ margin: 0.5em auto; }}"
        )
    return "\n".join(rules)


def layout(html: Path) -> tuple[Any, dict[str, int]]:
    """Lay out `html`, tightening parts that leave a spill page; (document, tightened parts)."""
    import weasyprint

    from rnnlab.report.layout import check_layout

    source = weasyprint.HTML(filename=str(html))
    tightened: dict[str, int] = {}
    document = source.render()
    for _ in TIGHTEN:
        problems = check_layout(document, SPILL_LINES)
        changed = False
        for problem in (p for p in problems if p.kind == "spill"):
            part = _part_of_page(document.pages[problem.page - 1])
            step = tightened.get(part, 0) if part is not None else len(TIGHTEN)
            if step < len(TIGHTEN):
                # A step saves about 1.5 lines a page: jump to the second step at
                # once when the part is too short to absorb the spill with the first.
                pages = sum(_part_of_page(page) == part for page in document.pages)
                need_more = problem.lines > 1.5 * max(pages - 1, 1)
                tightened[part] = min(step + (2 if need_more else 1), len(TIGHTEN))
                changed = True
        if not changed:
            break
        document = source.render(stylesheets=[weasyprint.CSS(string=_tighten_css(tightened))])
    return document, tightened


def write_pdf(html: Path, out: Path) -> tuple[int, float]:
    """Render `html` to `out`; returns (pages, seconds). Missing images fail the job."""
    from rnnlab.report.layout import check_layout

    if not html.exists():
        raise RnnlabError(f"HTML {html} does not exist; run the report_html rule first")
    problems = _Problems()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(problems)
    start = time.perf_counter()
    try:
        document, tightened = layout(html)
        fatal = [m for m in problems.messages if m.startswith(FATAL_MARKERS)]
        if fatal:
            raise RnnlabError(
                "the PDF would be incomplete: "
                + "; ".join(fatal[:5])
                + " (a figure or font path in the HTML does not exist; rerun its rule)"
            )
        atomic_write(out, lambda tmp: document.write_pdf(str(tmp)))
    finally:
        logger.removeHandler(problems)
    for message in problems.messages:
        print(f"weasyprint: {message}")
    for part, step in sorted(tightened.items()):
        print(f"layout: {part} set tighter (step {step}) to avoid a spill page")
    for problem in check_layout(document, SPILL_LINES):
        print(f"layout problem: {problem}")
    return len(document.pages), time.perf_counter() - start


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.report.pdf", description=__doc__)
    parser.add_argument("--html", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    pages, seconds = write_pdf(args.html, args.out)
    print(f"pdf: {args.out}: {pages} pages in {seconds:.1f} s")
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
