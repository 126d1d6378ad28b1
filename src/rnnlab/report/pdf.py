"""HTML -> PDF with WeasyPrint.

    python -m rnnlab.report.pdf --html report/build/report.html --out report/rnnlab-report.pdf

The HTML (render.py) is self-contained except for the figures and fonts, which
it names by paths relative to itself or by file URIs; the HTML's own location
is the base URL.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

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


def write_pdf(html: Path, out: Path) -> tuple[int, float]:
    """Render `html` to `out`; returns (pages, seconds). Missing images fail the job."""
    import weasyprint

    if not html.exists():
        raise RnnlabError(f"HTML {html} does not exist; run the report_html rule first")
    problems = _Problems()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(problems)
    start = time.perf_counter()
    try:
        document = weasyprint.HTML(filename=str(html)).render()
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
