"""Page-layout checks on a laid-out WeasyPrint document (its boxes, not the PDF text).

`check_layout(document)` walks every page box and reports what a careful
typesetter would not let through:

- ``caption``: a table caption on a page that holds none of that table's body
  rows, or a figure caption on a page without the figure's image;
- ``lone-row``: a table split over pages with a single body row on one side;
- ``header``: a table that opens with a header row (a <thead>, or a row of <th>)
  continuing on a page that does not open with it;
- ``heading``: a heading (h1-h4) whose lines are the last content of a page;
- ``spill``: a page whose content fills fewer than `min_lines` body lines
  before a forced page break (the end of a part, the title page, the contents).

    document = weasyprint.HTML(filename="report.html").render()
    for problem in check_layout(document): print(problem)
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

HEADINGS = ("h1", "h2", "h3", "h4")
FORCED = ("page", "left", "right", "recto", "verso")


@dataclass(frozen=True)
class Problem:
    page: int  # 1-based
    kind: str
    detail: str
    lines: float = 0.0  # for a spill: the lines on the page

    def __str__(self) -> str:
        return f"p. {self.page}: {self.kind}: {self.detail}"


@dataclass
class PageScan:
    """What one page holds, gathered in one walk of its boxes."""

    number: int
    content_top: float
    content_height: float
    line_height: float
    bottom: float = 0.0  # lowest content edge on the page
    elements: list[Any] = field(default_factory=list)  # element of each box, in order
    captions: dict[int, str] = field(default_factory=dict)  # table/figure -> caption text
    body_rows: dict[int, int] = field(default_factory=dict)  # table -> body rows here
    header_rows: dict[int, int] = field(default_factory=dict)  # table -> header rows here
    opens_with_header: dict[int, bool] = field(default_factory=dict)  # table -> first row is <th>
    images: set[int] = field(default_factory=set)  # figures whose image is here
    last_leaf_heading: str | None = None  # heading text if the last content is a heading
    first_chain: list[Any] = field(default_factory=list)  # boxes opening the page
    last_chain: list[Any] = field(default_factory=list)  # boxes closing the page


def _label(element: Any) -> str:
    text = " ".join("".join(element.itertext()).split())
    return text[:60]


def _walk(box: Any, ancestors: list[Any], scan: PageScan) -> None:
    from weasyprint.formatting_structure import boxes

    element = getattr(box, "element", None)
    tag = getattr(box, "element_tag", None)
    scan.elements.append(element)
    if isinstance(box, boxes.TableCaptionBox) or (tag == "figcaption" and box.is_in_normal_flow()):
        owner = next((a for a in reversed(ancestors) if a.element_tag in ("table", "figure")), None)
        if owner is not None and owner.element is not None:
            scan.captions.setdefault(id(owner.element), _label(box.element))
    if isinstance(box, boxes.TableRowBox):
        group = ancestors[-1] if ancestors else None
        table = next((a for a in reversed(ancestors) if isinstance(a, boxes.TableBox)), None)
        if table is not None:
            key = id(table.element)
            in_thead = group is not None and group.is_header
            all_th = bool(box.children) and all(c.element_tag == "th" for c in box.children)
            target = scan.header_rows if in_thead or all_th else scan.body_rows
            target[key] = target.get(key, 0) + 1
            scan.opens_with_header.setdefault(key, in_thead or all_th)
    if isinstance(box, boxes.ReplacedBox):
        figure = next((a for a in reversed(ancestors) if a.element_tag == "figure"), None)
        if figure is not None:
            scan.images.add(id(figure.element))
    # A line (or an image on its own line) is one unit of content on the page.
    in_line = any(isinstance(a, boxes.LineBox) for a in ancestors)
    if isinstance(box, (boxes.LineBox, boxes.BlockReplacedBox)) and not in_line:
        scan.bottom = max(scan.bottom, box.position_y + box.margin_height())
        heading = next((a for a in reversed(ancestors) if a.element_tag in HEADINGS), None)
        scan.last_leaf_heading = _label(heading.element) if heading is not None else None
    for child in getattr(box, "children", ()):
        _walk(child, [*ancestors, box], scan)


def _chain(box: Any, first: bool) -> list[Any]:
    chain = []
    while box is not None:
        chain.append(box)
        children = [c for c in getattr(box, "children", ()) if c.is_in_normal_flow()]
        box = (children[0] if first else children[-1]) if children else None
    return chain


def scan_page(page: Any, number: int) -> PageScan:
    """Walk one page's boxes (the page's own flow, not its margin boxes)."""
    from weasyprint.formatting_structure import boxes

    page_box = page._page_box
    root = next(c for c in page_box.children if not isinstance(c, boxes.MarginBox))
    style = root.style
    font_size = style["font_size"]
    line_height = style["line_height"]
    if getattr(line_height, "unit", None) is None and isinstance(line_height, (int, float)):
        line = float(line_height) * font_size
    elif hasattr(line_height, "value") and line_height.unit is None:
        line = line_height.value * font_size
    else:
        line = 1.75 * font_size
    scan = PageScan(
        number=number,
        content_top=page_box.content_box_y(),
        content_height=page_box.height,
        line_height=line,
    )
    scan.bottom = scan.content_top
    _walk(root, [], scan)
    scan.first_chain = _chain(root, first=True)
    scan.last_chain = _chain(root, first=False)
    return scan


def _forced_between(before: PageScan, after: PageScan, seen: set[int]) -> bool:
    """Whether `after` starts because of a forced break (not because `before` was full)."""
    for box in after.first_chain:
        element = getattr(box, "element", None)
        if element is not None and id(element) not in seen and box.style["break_before"] in FORCED:
            return True
    return any(box.style["break_after"] in FORCED for box in before.last_chain)


def check_layout(document: Any, min_lines: int = 8) -> list[Problem]:
    """Every layout problem of a rendered document (see the module docstring)."""
    scans = [scan_page(page, i + 1) for i, page in enumerate(document.pages)]
    problems: list[Problem] = []
    problems += _caption_problems(scans)
    problems += _row_problems(scans)
    seen: set[int] = set()
    for index, scan in enumerate(scans):
        seen.update(id(e) for e in scan.elements if e is not None)
        if index + 1 == len(scans):
            break
        following = scans[index + 1]
        if scan.last_leaf_heading is not None:
            detail = f"«{scan.last_leaf_heading}» ends the page"
            problems.append(Problem(scan.number, "heading", detail))
        used = (scan.bottom - scan.content_top) / scan.line_height
        if used < min_lines and index > 0 and _forced_between(scan, following, seen):
            problems.append(
                Problem(scan.number, "spill", f"{used:.1f} lines before a forced page break", used)
            )
    return problems


def _caption_problems(scans: list[PageScan]) -> Iterator[Problem]:
    for scan in scans:
        for owner, text in scan.captions.items():
            if owner not in scan.body_rows and owner not in scan.images:
                yield Problem(scan.number, "caption", f"«{text}» is apart from its table/figure")


def _row_problems(scans: list[PageScan]) -> Iterator[Problem]:
    pages_of: dict[int, list[PageScan]] = {}
    for scan in scans:
        for table in scan.body_rows:
            pages_of.setdefault(table, []).append(scan)
    for table, pages in pages_of.items():
        if len(pages) < 2:
            continue
        name = next((p.captions[table] for p in pages if table in p.captions), "a table")
        for scan in pages:
            if scan.body_rows[table] == 1:
                yield Problem(scan.number, "lone-row", f"one row of «{name}» alone on the page")
        has_header = pages[0].opens_with_header.get(table, False)
        for scan in pages[1:]:
            if has_header and not scan.opens_with_header.get(table, False):
                yield Problem(scan.number, "header", f"«{name}» continues without its header")
