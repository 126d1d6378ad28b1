"""results.json + templates/ -> one self-contained HTML file (WeasyPrint makes the PDF).

Layout: base.html.j2 puts the title page and the table of contents before the
body; the body is the section templates in SECTION_ORDER. The body is rendered
first so its headings can be listed in the TOC (numbers and page numbers come
from CSS counters in the PDF). After rendering, every in-document link is
checked: a `ref` or `cite` to an id that does not exist is an error here, not
a silent "??" in the PDF.

    python -m rnnlab.report.render --results report/results.json --templates templates \
        --fonts resources/fonts/fonts.json --figures '{"id": "path"}' --params '<json>' \
        --out report/build/report.html
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import sys
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    pass_context,
    select_autoescape,
)
from jinja2.runtime import Macro
from markupsafe import Markup

from rnnlab import claims as claims_layer
from rnnlab.errors import RnnlabError
from rnnlab.report.mathsvg import MathRenderer
from rnnlab.runtime import cli, read_json, write_text
from rnnlab.style import persian, textlint
from rnnlab.style.fonts import FontSet, font_face_css, load_manifest

# (template name under sections/, question number for heading numbers or None)
# There is no Q5 in the assignment: Q6 keeps its own number.
SECTION_ORDER: tuple[tuple[str, int | None], ...] = (
    ("q1", 1),
    ("q2", 2),
    ("q3", 3),
    ("q4", 4),
    ("q6", 6),
    ("q7", 7),
    ("references", None),
    ("appendix", None),
)
# A part opening (body.html.j2) or an h1/h2 heading, in document order.
_HEADING = re.compile(
    r'<div class="part (?P<part>numbered|unnumbered)"'
    r"|<h(?P<level>[12])(?P<attrs>\s[^>]*)?>(?P<inner>.*?)</h(?P=level)>",
    re.S,
)
_ISOLATE = re.compile(f"{persian.LRI}([^{persian.PDI}<>]*){persian.PDI}")
_LATIN_THEN_NUMBER = re.compile(f"({persian.LATIN_BEFORE_DIGIT})(?=[{persian.PERSIAN_DIGITS}])")
_VOID = {"br", "img", "meta", "link", "hr", "input", "col", "wbr", "source"}
# Text the RLM pass leaves alone: left-to-right elements (as the text lint reads them)
# and what is not text at all.
_LTR_TAGS = textlint.LTR_TAGS | {"style", "script"}
_ID = re.compile(r'\sid="([^"]+)"')
_TAG = re.compile(r"<[^>]+>")


class Claims:
    """``claim(id)`` and ``has_claim(id)`` as the templates see them.

    Claims live in ``results["claims"][part][id]``; templates look them up by id
    alone. An unknown id is an error that names the id (the renderer adds the
    template line); ``has_claim`` guards a sentence whose part may be absent
    (a partial run), like ``r.q7 is defined`` does for numbers.
    """

    def __init__(self, results: dict[str, Any]) -> None:
        self.by_id: dict[str, dict[str, Any]] = {}
        for part in results.get("claims", {}).values():
            self.by_id.update(part)
        self.used: list[str] = []

    def claim(self, claim_id: str) -> dict[str, Any]:
        if claim_id not in self.by_id:
            near = sorted(k for k in self.by_id if k.split(".")[0] == claim_id.split(".")[0])
            raise RnnlabError(
                f"unknown claim {claim_id!r}; claims of that part in results.json: {near}. "
                "Compute it in the part's summary (rnnlab.claims) or fix the id."
            )
        self.used.append(claim_id)
        return self.by_id[claim_id]

    def has_claim(self, claim_id: str) -> bool:
        return claim_id in self.by_id


def _context_claims(context: Any, fixed: Claims | None) -> Claims:
    """The claims of the results being rendered (``r``), unless the caller fixed them."""
    if fixed is not None:
        return fixed
    results = context.get("r")
    return Claims(results if isinstance(results, dict) else {})


def _claim_from_context(fixed: Claims | None) -> Any:
    @pass_context
    def claim(context: Any, claim_id: str) -> dict[str, Any]:
        return _context_claims(context, fixed).claim(claim_id)

    return claim


def _has_claim_from_context(fixed: Claims | None) -> Any:
    @pass_context
    def has_claim(context: Any, claim_id: str) -> bool:
        return _context_claims(context, fixed).has_claim(claim_id)

    return has_claim


def check_results_claims(results: dict[str, Any]) -> None:
    """Refuse a results.json whose claims disagree with their own numbers or sources."""
    problems = claims_layer.check_claims(results)
    if problems:
        raise RnnlabError(
            f"{len(problems)} claim(s) in results.json disagree with their numbers; the report "
            "would state something its tables contradict. Recompute the summaries "
            "(rerun their stages and report_collect):\n  " + "\n  ".join(problems)
        )


def percentage_points(fraction: Any, digits: int = 1, sign: bool = False) -> str:
    """A difference of two fractions in percentage points: 0.0897 -> ۸٫۹ (no ٪ sign)."""
    value = None if fraction is None else float(fraction) * 100
    return persian.num(value, digits, sign=sign)


class Figures:
    """REPORT_FIGURES as the templates see it: id -> src relative to the HTML file."""

    def __init__(self, figures: dict[str, str], html_dir: Path) -> None:
        self.paths = figures
        self.html_dir = html_dir
        self.used: list[str] = []

    def src(self, figure_id: str) -> str:
        if figure_id not in self.paths:
            raise RnnlabError(
                f"figure {figure_id!r} is not registered; known ids: {sorted(self.paths)}. "
                'Register it in its stage: REPORT_FIGURES["<id>"] = "<path>".'
            )
        self.used.append(figure_id)
        target = Path(self.paths[figure_id]).resolve()
        return Path(os.path.relpath(target, self.html_dir.resolve())).as_posix()

    def is_figure(self, figure_id: str) -> bool:
        return figure_id in self.paths


def make_environment(
    templates: Path,
    figures: Figures,
    math: MathRenderer | None = None,
    claims: Claims | None = None,
) -> Environment:
    """The Jinja environment every template renders in: filters, globals and macros."""
    env = Environment(
        loader=FileSystemLoader(str(templates)),
        autoescape=select_autoescape(enabled_extensions=("html", "j2"), default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    persian.register(env)
    env.filters["pretty_json"] = lambda value: json.dumps(
        value, indent=2, ensure_ascii=False, sort_keys=True
    )
    env.filters["points"] = percentage_points
    env.globals.update(claim=_claim_from_context(claims), has_claim=_has_claim_from_context(claims))
    math = math or MathRenderer()
    env.globals.update(
        figure_src=figures.src,
        is_figure=figures.is_figure,
        math=math.inline,
        displaymath=math.display,
    )
    # The macros as globals: a section may call figure(...) without importing.
    macros = env.get_template("macros.html.j2").module
    for name, value in vars(macros).items():
        if isinstance(value, Macro):
            env.globals[name] = value
    return env


def _plain(fragment: str) -> str:
    return html.unescape(_TAG.sub("", fragment)).strip()


def add_heading_ids(body: str) -> tuple[str, list[dict[str, Any]]]:
    """Give every h1/h2 an id (keeping authors' own) and list them for the TOC.

    Each entry records whether its part is numbered (questions) or not
    (references, appendix), so the TOC shows heading numbers only where the
    headings have them.
    """
    entries: list[dict[str, Any]] = []
    counter = 0
    numbered = False

    def visit(match: re.Match[str]) -> str:
        nonlocal counter, numbered
        if match.group("part"):
            numbered = match.group("part") == "numbered"
            return match.group(0)
        level, attrs, inner = match.group("level"), match.group("attrs") or "", match.group("inner")
        found = _ID.search(attrs)
        if found:
            heading_id = found.group(1)
        else:
            counter += 1
            heading_id = f"sec-{counter}"
            attrs = f' id="{heading_id}"{attrs}'
        if "no-toc" not in attrs:
            entries.append(
                {"id": heading_id, "level": int(level), "text": _plain(inner), "numbered": numbered}
            )
        return f"<h{level}{attrs}>{inner}</h{level}>"

    return _HEADING.sub(visit, body), entries


def isolates_to_spans(document: str) -> str:
    """LRI ... PDI (from the `num`/`pct` filters) -> <span dir="ltr"> in text, dropped in tags.

    Both keep a signed number intact in RTL text, but the isolate characters
    are not in the Persian font, so Pango would embed a fallback font just for
    them; in attribute values (alt text) markup is not allowed, so they go.
    """
    parts = re.split(r"(<[^>]*>)", document)
    for index, part in enumerate(parts):
        if part.startswith("<"):
            parts[index] = part.replace(persian.LRI, "").replace(persian.PDI, "")
        else:
            parts[index] = _ISOLATE.sub(r'<span class="num" dir="ltr">\1</span>', part)
    return "".join(parts)


def mark_rtl_numbers(document: str) -> str:
    """An RLM before a Persian number that follows a Latin word, in right-to-left text
    (`persian.LATIN_BEFORE_DIGIT` says why).

    Text inside a left-to-right element (`dir="ltr"`, code) is left alone: there the
    number belongs to the Latin run. Returns the document unchanged elsewhere.
    """
    parts = re.split(r"(<[^>]*>)", document)
    stack: list[tuple[str, bool]] = []  # open elements: (tag, left-to-right)
    for index, part in enumerate(parts):
        if part.startswith("<"):
            tag = re.match(r"</?\s*([A-Za-z][\w-]*)", part)
            if tag is None or part.startswith(("<!", "<?")):
                continue
            name = tag.group(1).lower()
            if part.startswith("</"):
                while stack and stack.pop()[0] != name:
                    pass
            elif name not in _VOID and not part.endswith("/>"):
                ltr = bool(stack and stack[-1][1]) or name in _LTR_TAGS or 'dir="ltr"' in part
                stack.append((name, ltr))
        elif not (stack and stack[-1][1]):
            parts[index] = _LATIN_THEN_NUMBER.sub(rf"\1{persian.RLM}", part)
    return "".join(parts)


def check_links(document: str) -> None:
    """Every `href="#x"` must name an existing id, and no id may repeat."""
    ids = Counter(re.findall(r'\sid="([^"]+)"', document))
    repeated = sorted(i for i, n in ids.items() if n > 1)
    if repeated:
        raise RnnlabError(f"ids used more than once in the report: {repeated}; make them unique")
    dangling = sorted(set(re.findall(r'href="#([^"]+)"', document)) - set(ids))
    if dangling:
        raise RnnlabError(
            f"references to missing ids: {dangling}; a ref()/cite() names a figure, table or "
            "reference that does not exist (check the id, or add the entry to references.html.j2)"
        )


def _template_location(err: BaseException, templates: Path) -> str:
    """'sections/q6.html.j2:42: ' for the innermost template frame of an error, else ''."""
    frames = [
        frame
        for frame in traceback.extract_tb(err.__traceback__)
        if frame.filename.endswith((".j2", ".html"))
    ]
    if not frames:
        return ""
    frame = frames[-1]
    try:
        name = Path(frame.filename).resolve().relative_to(templates.resolve())
    except ValueError:
        name = Path(frame.filename)
    return f"{name}:{frame.lineno}: "


def present_sections(templates: Path, require_all: bool) -> list[dict[str, Any]]:
    sections = []
    missing = []
    for name, number in SECTION_ORDER:
        if (templates / "sections" / f"{name}.html.j2").exists():
            sections.append({"name": name, "number": number})
        else:
            missing.append(name)
    if missing and require_all:
        raise RnnlabError(
            f"section templates missing: {missing} (templates/sections/<name>.html.j2); "
            "write them or set report.require_all_sections: false"
        )
    if missing:
        print(f"warning: sections left out (no template): {missing}", file=sys.stderr)
    return sections


def render_document(
    results: dict[str, Any],
    templates: Path,
    figures: dict[str, str],
    fontset: FontSet,
    out_html: Path,
    params: dict[str, Any],
    math_cache: Path | None = None,
) -> str:
    """The HTML text of the report."""
    check_results_claims(results)
    figure_map = Figures(figures, out_html.parent)
    math = MathRenderer(math_cache, text_font=fontset.regular)
    env = make_environment(templates, figure_map, math, Claims(results))
    sections = present_sections(templates, bool(params.get("require_all_sections", False)))
    params = {**params, "font_family": fontset.family}
    # A question part resets the h1 counter to one below its number (no arithmetic
    # in templates).
    sections = [{**s, "counter_start": s["number"] - 1 if s["number"] else None} for s in sections]
    context = {"r": results, "report": params, "sections": sections}
    try:
        body = env.get_template("body.html.j2").render(context)
        body, toc = add_heading_ids(body)
        css = (templates / "style.css").read_text(encoding="utf-8")
        document = env.get_template("base.html.j2").render(
            context,
            body=Markup(body),
            toc=toc,
            css=Markup(font_face_css(fontset) + css),
            figure_ids=sorted(figures),
        )
    except UndefinedError as err:
        raise RnnlabError(
            f"{_template_location(err, templates)}a template reads a value that does not exist: "
            f"{err.message}; check the key against report/results.json (or the stage that "
            "should write it)"
        ) from err
    except RnnlabError as err:
        # A filter or global refused a value: say in which template line.
        raise RnnlabError(f"{_template_location(err, templates)}{err}") from err
    except TemplateSyntaxError as err:
        raise RnnlabError(
            f"template syntax error in {err.filename or err.name}:{err.lineno}: {err.message}"
        ) from err
    except TemplateNotFound as err:
        # An {% include %} of a missing part is an error, never a silent omission.
        raise RnnlabError(
            f"{_template_location(err, templates)}template {err.name} not found under "
            f"{templates}; restore it (e.g. `git checkout -- templates/`) or remove its include"
        ) from err
    document = mark_rtl_numbers(isolates_to_spans(document))
    check_links(document)
    unused = sorted(set(figures) - set(figure_map.used))
    if unused and params.get("require_all_sections", False):
        raise RnnlabError(
            f"registered figures not shown in the report: {unused}; add a figure(...) for each "
            "to its section, or set report.require_all_sections: false"
        )
    if unused:
        print(f"warning: registered figures not shown in the report: {unused}", file=sys.stderr)
    return document


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.report.render", description=__doc__)
    parser.add_argument("--results", required=True, type=Path)
    parser.add_argument("--templates", required=True, type=Path)
    parser.add_argument("--fonts", required=True, type=Path, help="font manifest")
    parser.add_argument("--figures", default="{}", help="REPORT_FIGURES as JSON")
    parser.add_argument("--params", default="{}", help="config report section as JSON")
    parser.add_argument("--math-cache", type=Path, default=None)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)
    fonts = load_manifest(args.fonts)
    document = render_document(
        read_json(args.results),
        args.templates,
        json.loads(args.figures),
        fonts,
        args.out,
        json.loads(args.params),
        args.math_cache,
    )
    write_text(args.out, document)
    print(f"html: {args.out} ({len(document)} characters)")
    return 0


main = cli(_main)


if __name__ == "__main__":
    main()
