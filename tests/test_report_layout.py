"""Page layout on WeasyPrint's laid-out boxes: captions, lone rows, headings, spill pages.

The unit tests lay out small synthetic documents on A6 pages, once with the
rules of templates/style.css (no problem may remain) and once without them (the
checks must see each problem). The last test lays out the whole report from
the smoke run's results.json (placeholder figures of the stages' sizes, the
smoke run's fonts), so it belongs to the pipeline group.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rnnlab.report.layout import check_layout

REPO = Path(__file__).resolve().parents[1]
PAGE = (
    "@page { size: A6; margin: 1cm; } body { font-size: 10pt; line-height: 1.5; } p { margin: 0; }"
)


def project_rules() -> str:
    """The table, caption, figure and heading rules of the report's style sheet."""
    css = (REPO / "templates" / "style.css").read_text(encoding="utf-8")
    keep = re.compile(r"^(thead|tr|caption|tbody|figure|figcaption|h1, h2, h3|table\.compact)\b")
    rules = [rule.strip() + "}" for rule in css.split("}") if keep.match(rule.strip())]
    return "\n".join(rules)


def lay_out(body: str, css: str = ""):
    import weasyprint

    html = f"<html><head><style>{PAGE}{css}</style></head><body>{body}</body></html>"
    return weasyprint.HTML(string=html).render()


def filler(lines: int) -> str:
    return "<p>a line of filler text</p>" * lines


def table(rows: int, head: bool = True) -> str:
    header = "<thead><tr><th>a</th><th>b</th></tr></thead>" if head else ""
    body = "".join(f"<tr><td>{i}</td><td>x</td></tr>" for i in range(rows))
    return f"<table><caption>the caption</caption>{header}<tbody>{body}</tbody></table>"


def kinds(document) -> set[str]:
    return {problem.kind for problem in check_layout(document, min_lines=4)}


@pytest.mark.parametrize("before", range(12, 22))
def test_project_rules_keep_captions_and_rows_together(before):
    """Wherever a short table falls, its caption and rows stay together."""
    document = lay_out(filler(before) + table(5), project_rules())
    assert not kinds(document) & {"caption", "lone-row", "header"}


def test_check_sees_a_caption_apart_from_its_table():
    found = [kinds(lay_out(filler(n) + table(5))) for n in range(12, 22)]
    assert any("caption" in k for k in found)


def test_check_sees_a_lone_row():
    found = [kinds(lay_out(filler(n) + table(5))) for n in range(12, 22)]
    assert any("lone-row" in k for k in found)


def test_check_sees_a_table_continuing_without_its_header():
    # A header row that is a plain row (not a repeated table-header-group) stays behind.
    rows = "".join(f"<tr><td>{i}</td></tr>" for i in range(40))
    head = "<caption>c</caption><thead><tr><th>h</th></tr></thead>"
    html = f"<table>{head}<tbody>{rows}</tbody></table>"
    document = lay_out(html, "thead { display: table-row-group; }")
    assert "header" in kinds(document)
    assert "header" not in kinds(lay_out(html, project_rules()))


def test_check_sees_a_heading_last_on_a_page():
    html = "<h2>a heading</h2>" + filler(10)
    loose = "h2 { margin: 0; break-after: auto; }"
    found = [kinds(lay_out(filler(n) + html, loose)) for n in range(18, 26)]
    assert any("heading" in k for k in found)
    kept = [kinds(lay_out(filler(n) + html, project_rules())) for n in range(18, 26)]
    assert not any("heading" in k for k in kept)


def test_check_sees_a_spill_page_before_a_forced_break():
    body = (
        "<div>" + filler(3) + "</div>"
        "<div>" + filler(23) + "</div>"
        "<div style='break-before: page'>" + filler(5) + "</div>"
    )
    problems = check_layout(lay_out(body), min_lines=4)
    assert [p.kind for p in problems] == ["spill"]
    assert problems[0].page == 2
    # A full page before the break is no spill.
    assert not check_layout(lay_out(filler(18) + "<div style='break-before: page'>x</div>"), 4)


def test_figure_caption_stays_with_its_image():
    figure = (
        "<figure class='numbered'><img style='width: 5cm; height: 4cm; display: block'"
        " src='data:image/svg+xml,"
        "%3Csvg xmlns=%22http://www.w3.org/2000/svg%22 width=%2210%22 height=%228%22/%3E'>"
        "<figcaption>figure caption</figcaption></figure>"
    )
    for before in range(10, 24, 2):
        assert "caption" not in kinds(lay_out(filler(before) + figure, project_rules()))


# Aspect ratios of the stages' figures (inches), for placeholders of the right size.
FIGURE_SIZES = {
    "q2c_graph": (6.4, 2.9),
    "q2h_addition": (6.4, 2.9),
    "q2i_timing": (5.0, 3.0),
    "q6a_accuracy": (6.0, 3.6),
    "q6b_gradients": (6.0, 3.6),
    "q6c_hidden": (6.4, 3.2),
    "q6c_cell": (6.4, 3.2),
    "q6c_means": (6.0, 3.0),
    "q7_curves": (6.4, 3.2),
    "q7_forecast": (6.4, 3.6),
    "q7_gates_calm": (6.4, 4.0),
    "q7_gates_peak": (6.4, 4.0),
    "q7_gates_typical": (6.4, 4.0),
    "q7_lengths": (6.0, 3.6),
    "q7_ablation": (6.0, 3.6),
}


def render_report(tmp_path: Path, smoke: Path) -> Path:
    """The whole report's HTML from the smoke run's results.json, with placeholder figures.

    `smoke` is the smoke run's working directory: its results.json has every key
    the current templates read (the committed reference can lag them until it is
    regenerated), and its fonts were fetched and verified there, so the test needs
    no manifest in the checkout. Figures are placeholders of the stages' sizes.
    """
    from rnnlab.report.render import render_document
    from rnnlab.style.fonts import load_manifest

    manifest = smoke / "resources" / "fonts" / "fonts.json"
    results = json.loads((smoke / "report" / "results.json").read_text(encoding="utf-8"))
    figures = {}
    for name, (width, height) in FIGURE_SIZES.items():
        path = tmp_path / f"{name}.svg"
        path.write_text(
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}in" height="{height}in">'
            '<rect width="100%" height="100%" fill="#eee"/></svg>'
        )
        figures[name] = str(path)
    params = {k: v for k, v in results["meta"]["config"]["report"].items() if k != "font"}
    out = tmp_path / "report.html"
    document = render_document(
        results, REPO / "templates", figures, load_manifest(manifest), out, params
    )
    out.write_text(document, encoding="utf-8")
    return out


def test_the_whole_report_has_no_layout_problem(tmp_path, smoke_run):
    from rnnlab.report.pdf import SPILL_LINES, layout

    document, _ = layout(render_report(tmp_path, smoke_run))
    problems = check_layout(document, SPILL_LINES)
    assert not problems, "\n".join(str(p) for p in problems)
