"""The report engine end to end on a tiny context: macros, numbering, links, HTML, PDF.

The base layout, macros, CSS, title, TOC and appendix are the real ones from
templates/; the question sections are tiny stand-ins written here, so these
tests do not depend on the other sections' progress.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import pytest

from rnnlab.errors import RnnlabError
from rnnlab.report import pdf, render
from rnnlab.report.collect import collect
from rnnlab.style import fonts, plots

REPO = Path(__file__).resolve().parents[1]
OWN_TEMPLATES = [
    "base.html.j2",
    "body.html.j2",
    "macros.html.j2",
    "style.css",
    "sections/title.html.j2",
    "sections/toc.html.j2",
    "sections/appendix.html.j2",
]
PARAMS = {
    "course": "یادگیری عمیق",
    "homework": "تمرین سری پنجم",
    "topic": "شبکه‌های عصبی بازگشتی",
    "date": None,
    "require_all_sections": False,
}

# Error checks never reach the PDF, but formulas take their Persian digits from the
# regular font: matplotlib's DejaVu Sans has them.
_DEJAVU = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FONTSET = fonts.FontSet(
    "Test Sans", _DEJAVU / "DejaVuSans.ttf", _DEJAVU / "DejaVuSans-Bold.ttf", False, "test"
)

Q1 = """<section><h1>پرسش یک: شمارش پارامترها</h1>
<p>شمار کل پارامترها {{ r.q1.total | num(0, thousands=True) }} است.</p></section>
"""
Q6 = """<section>
<h1>پرسش شش: تحلیل احساسات</h1>
{% call question("۶-الف") %}دو مدل را با طول‌های مختلف آموزش دهید.{% endcall %}
<h2>دقت بر حسب طول</h2>
<p>{{ ref("acc") }} و {{ ref("acc-table") }} نشان می‌دهند که دقت {{ en("LSTM") }}
{{ r.q6.lstm | pct(1) }} و اختلاف دو مدل {{ (r.q6.rnn - r.q6.lstm) | num(3) }} است
{{ cite("elman1990") }} و این جمله پانویس دارد{{ footnote("پانویس آزمایشی") }}.
معادلهٔ {{ math("h_t = \\\\tanh(W h_{t-1})") }} را ببینید.</p>
{{ displaymath("W = \\\\begin{bmatrix} 1 & 2 \\\\\\\\ 3 & 4 \\\\end{bmatrix}") }}
{{ figure("acc", "دقت آزمون بر حسب طول دنباله") }}
<table>{{ table_caption("acc-table", "دقت آزمون") }}
<tr><th>مدل</th><th>دقت</th></tr>
<tr><td>{{ en("RNN") }}</td><td>{{ r.q6.rnn | num(3) }}</td></tr></table>
<h2>گرادیان‌ها</h2><p>نرم گرادیان {{ r.q6.grad | sci(1) }} است.</p>
</section>
"""
REFERENCES = """<section><h2 id="references">مراجع</h2><ol class="references">
<li id="ref-elman1990"><span dir="ltr">J. L. Elman, Finding Structure in Time, 1990.</span></li>
</ol></section>
"""


def persian_manifest(tmp: Path) -> Path:
    """The real Persian font: the repo's manifest, or a fresh one (npm or the pip fallback)."""
    repo_manifest = REPO / "resources" / "fonts" / "fonts.json"
    try:
        fonts.load_manifest(repo_manifest)
        return repo_manifest
    except RnnlabError:
        pass
    config = {
        "prefer": "vazirmatn",
        "vazirmatn_version": "33.0.3",
        "vazirmatn_sha256": "9506e9e6a27e62b353c04a136c27de0cc3aa9e434658b45a6363f7c98c357090",
    }
    out = tmp / "fonts" / "fonts.json"
    try:
        fonts.build_manifest(out, config, reuse=(REPO / "resources" / "fonts",))
    except RnnlabError as err:
        pytest.skip(f"no Persian font on this machine: {err}")
    return out


def make_templates(folder: Path, sections: dict[str, str]) -> Path:
    for name in OWN_TEMPLATES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "templates" / name, folder / name)
    for name, text in sections.items():
        (folder / "sections" / f"{name}.html.j2").write_text(text, encoding="utf-8")
    return folder


def make_results(tmp: Path) -> dict:
    (tmp / "q1.json").write_text(json.dumps({"total": 1234567}))
    (tmp / "q6.json").write_text(json.dumps({"rnn": 0.7123, "lstm": 0.8731, "grad": 3.2e-12}))
    return collect(
        {"q1": str(tmp / "q1.json"), "q6": str(tmp / "q6.json")},
        {},
        {"seed": 0, "report": {"course": "x"}},
        tmp / "benchmarks",
        tmp,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One rendered report (HTML + PDF) shared by the checks below."""
    tmp = tmp_path_factory.mktemp("report")
    manifest = persian_manifest(tmp)
    plots.setup_style(manifest)
    fig, ax = plt.subplots(figsize=(4, 2.4))
    ax.plot([50, 100, 200, 400], [0.7, 0.75, 0.8, 0.78], **plots.model_style("rnn"))
    ax.set_xlabel("طول دنباله")
    plots.persian_ticks(ax)
    plots.save_figure(fig, tmp / "results" / "acc.svg")
    templates = make_templates(tmp / "templates", {"q1": Q1, "q6": Q6, "references": REFERENCES})
    (tmp / "report").mkdir()
    (tmp / "report" / "results.json").write_text(json.dumps(make_results(tmp)))
    html = tmp / "report" / "build" / "report.html"
    cmd = [sys.executable, "-m", "rnnlab.report.render", "--results", "report/results.json"]
    cmd += ["--templates", str(templates), "--fonts", str(manifest)]
    cmd += ["--figures", json.dumps({"acc": "results/acc.svg"}), "--params", json.dumps(PARAMS)]
    cmd += ["--math-cache", "cache/math", "--out", "report/build/report.html"]
    done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    out = tmp / "report" / "rnnlab-report.pdf"
    pages, seconds = pdf.write_pdf(html, out)
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    return {"tmp": tmp, "html": html.read_text(), "pdf": out, "pages": pages, "text": text}


def plain(text: str) -> str:
    """PDF or source text made comparable (trap 6).

    pdftotext drops ZWNJ, adds bidi embedding marks (and loses the space next to
    them) and moves the hamza of «هٔ» before its letter («صفحٔه»).
    """
    # Embedding marks stand where pdftotext lost a space between runs: keep a space.
    text = re.sub("[\u202a-\u202e]", " ", text)
    text = re.sub("[\u200c\u200e\u200f\u2066-\u2069\u0654]", "", text)
    return text.replace("\u06c0", "\u0647")


def flat(text: str) -> str:
    return " ".join(plain(text).split())


def words(text: str) -> set[str]:
    return set(re.findall(r"[^\s.:،؛()\[\]«»—]+", plain(text)))


def test_html_layout_and_numbering_hooks(built):
    html = built["html"]
    assert '<html dir="rtl" lang="fa">' in html
    assert '<div class="part numbered" id="part-q6" style="counter-reset: h1 5">' in html
    assert '<div class="part unnumbered" id="part-appendix">' in html
    order = [html.index(f'id="part-{name}"') for name in ("q1", "q6", "references", "appendix")]
    assert order == sorted(order) and html.index('class="toc"') < order[0]
    assert '<figure id="acc" class="numbered">' in html and 'src="../../results/acc.svg"' in html
    assert '<caption id="acc-table" class="numbered">' in html
    assert (
        'class="ref ref-fig" href="#acc"' in html
        and 'class="ref ref-tab" href="#acc-table"' in html
    )
    assert '<a href="#ref-elman1990"></a>' in html
    # Signed numbers became LTR spans; no isolate characters are left for the font to miss.
    assert '<span class="num" dir="ltr">−۰٫۱۶۱</span>' in html
    assert "\u2066" not in html and "\u2069" not in html
    assert "data:image/svg+xml;base64," in html  # math as <img>, not inline <svg>
    assert "Vazirmatn" in html or "Noto Sans Arabic" in html


def test_toc_lists_headings_with_numbering_flags(built):
    toc = re.search(r'<nav class="toc">(.*?)</nav>', built["html"], re.S).group(1)
    assert 'class="toc-level-1 numbered"><a href="#sec-1">پرسش یک: شمارش پارامترها' in toc
    assert 'class="toc-level-2 numbered"' in toc
    assert 'class="toc-level-2"><a href="#references">مراجع' in toc
    assert 'class="toc-level-1"><a href="#appendix-reproducibility">' in toc


def test_pdf_embeds_the_persian_font(built):
    listing = subprocess.run(["pdffonts", str(built["pdf"])], capture_output=True, text=True)
    rows = listing.stdout.splitlines()[2:]
    assert any("Vazirmatn" in row or "NotoSansArabic" in row for row in rows)
    # Every font embedded ("emb" column), and no serif fallback for Persian text.
    assert all(row.split()[-5] == "yes" for row in rows)
    assert not any("Serif" in row for row in rows)


def test_pdf_text_has_toc_headings_numbers_and_captions(built):
    found = words(built["text"])
    expected = words(
        "فهرست مطالب پرسش یک شمارش پارامترها دقت بر حسب طول گرادیان‌ها مراجع "
        "پیوست بازتولیدپذیری صفحهٔ"
    )
    assert expected <= found, expected - found
    # Numbers from results.json, in Persian digits (pct, num with thousands separator).
    assert {"۱٬۲۳۴٬۵۶۷", "۰٫۷۱۲"} <= found
    text = flat(built["text"])
    assert "۸۷٫۳" in text
    # Heading numbers from CSS counters: Q6 keeps its own number; sub-parts are ۶-۱, ۶-۲.
    assert "۶-۱" in text and "۶-۲" in text
    # Numbered captions ("شکل ۱ — ...", which pdftotext reorders to "شکل — ۱") and
    # the cross-references that point at them ("شکل ۱").
    assert len(re.findall("شکل (— )?۱", text)) == 2 and text.count("شکل ۱ ") == 1
    assert len(re.findall("جدول (— )?۱", text)) == 2
    # The citation "[۱]": pdftotext writes the brackets of the generated number apart.
    assert re.search(r"\[ ?\]? ?۱ ?\]? و این جمله", text)


def test_pdf_pages_and_page_numbers(built):
    assert built["pages"] >= 5  # title, toc, q1, q6, references, appendix
    assert f"از {render.persian.fa(built['pages'])}" in flat(built["text"])


def check_error(tmp: Path, section: str, match: str, figures: dict | None = None) -> None:
    templates = make_templates(tmp / "t", {"q6": section})
    results = make_results(tmp)
    with pytest.raises(RnnlabError, match=match):
        render.render_document(
            results, templates, figures or {}, FONTSET, tmp / "out" / "r.html", PARAMS
        )


def test_dangling_reference_is_an_error(tmp_path):
    check_error(tmp_path, "<h1>x</h1><p>{{ ref('nowhere') }}</p>", r"missing ids: \['nowhere'\]")


def test_missing_citation_is_an_error(tmp_path):
    check_error(tmp_path, "<h1>x</h1><p>{{ cite('nobody2020') }}</p>", "ref-nobody2020")


def test_unregistered_figure_is_an_error(tmp_path):
    check_error(tmp_path, "<h1>x</h1>{{ figure('nope', 'c') }}", "'nope' is not registered")


def test_missing_results_key_is_an_error(tmp_path):
    check_error(tmp_path, "<h1>x</h1>{{ r.q6.nothing | num(2) }}", "does not exist")


def test_duplicate_ids_are_an_error(tmp_path):
    check_error(tmp_path, '<h1 id="a">x</h1><h2 id="a">y</h2>', r"more than once.*: \['a'\]")


def test_required_sections(tmp_path):
    templates = make_templates(tmp_path / "t", {"q6": "<h1>x</h1>"})
    assert [s["name"] for s in render.present_sections(templates, False)] == ["q6", "appendix"]
    with pytest.raises(RnnlabError, match=r"missing: \['q1', 'q2'"):
        render.present_sections(templates, True)


def test_pdf_refuses_a_missing_figure(tmp_path):
    html = tmp_path / "r.html"
    html.write_text('<html><body><img src="missing.svg"></body></html>')
    with pytest.raises(RnnlabError, match="incomplete"):
        pdf.write_pdf(html, tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()


def test_macros_markup(tmp_path):
    templates = make_templates(tmp_path / "t", {})
    figures = render.Figures({"acc": str(tmp_path / "results" / "acc.svg")}, tmp_path / "out")
    env = render.make_environment(templates, figures)
    out = env.from_string(
        '{{ figure("acc", "دقت " ~ en("LSTM"), width="70%") }}|{{ ref("acc") }}|{{ ref("t1") }}|'
        '{{ cite("a", "b") }}|{{ footnote("پانویس") }}|'
        '{% call question("۶-الف") %}متن{% endcall %}|{{ table_caption("t1", "جدول") }}'
    ).render()
    parts = out.split("|")
    assert '<figure id="acc" class="numbered">' in parts[0]
    assert 'src="../results/acc.svg"' in parts[0] and "width: 70%" in parts[0]
    assert 'alt="دقت LSTM"' in parts[0]  # markup stripped from the attribute
    assert '<figcaption>دقت <span class="en" dir="ltr">LSTM</span></figcaption>' in parts[0]
    assert parts[1] == '<a class="ref ref-fig" href="#acc">شکل&nbsp;</a>'
    assert parts[2] == '<a class="ref ref-tab" href="#t1">جدول&nbsp;</a>'
    assert parts[3] == '<span class="cite">[<a href="#ref-a"></a>، <a href="#ref-b"></a>]</span>'
    assert parts[4] == '<span class="footnote">پانویس</span>'
    assert parts[5].startswith(
        '<blockquote class="question"><span class="question-label">پرسش ۶-الف:'
    )
    assert parts[6] == '<caption id="t1" class="numbered">جدول</caption>'
    assert figures.used == ["acc"]


def test_every_macro_is_a_global_of_the_sections(tmp_path):
    templates = make_templates(tmp_path / "t", {})
    env = render.make_environment(templates, render.Figures({}, tmp_path))
    source = (templates / "macros.html.j2").read_text(encoding="utf-8")
    defined = re.findall(r"\{%-?\s*macro\s+(\w+)\(", source)
    assert "mean_sd" in defined and "figure" in defined
    missing = [name for name in defined if name not in env.globals]
    assert not missing, f"macros a section cannot call without importing: {missing}"


def test_mean_and_sd_are_one_left_to_right_run(tmp_path):
    templates = make_templates(tmp_path / "t", {})
    env = render.make_environment(templates, render.Figures({}, tmp_path))
    html = env.from_string("{{ mean_sd({'mean': 0.274, 'sd': 0.005}) }}").render()
    assert html.startswith('<span class="mean-sd" dir="ltr">')
    assert re.search(r"۰٫۲۷۴</span> <span class=\"num\">±&nbsp;۰٫۰۰۵</span></span>$", html)
    alone = env.from_string("{{ mean_sd({'mean': 0.274, 'sd': none}) }}").render()
    assert "±" not in alone and "۰٫۲۷۴" in alone


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        # a number after a Latin word in right-to-left text gets an RLM before it
        ("<p>با tanh ۸۵٫۴٪ و ReLU ۶۴٫۱٪</p>", "<p>با tanh \u200f۸۵٫۴٪ و ReLU \u200f۶۴٫۱٪</p>"),
        ("<p>سه نسخه از LSTM: ۱. فقط</p>", "<p>سه نسخه از LSTM: \u200f۱. فقط</p>"),
        ("<p>با ReLU\n۶۴٫۱٪ است</p>", "<p>با ReLU\n\u200f۶۴٫۱٪ است</p>"),
        # neutrals between them do not stop the algorithm from reaching the Latin word
        ("<p>مدل GRU (۶۴ واحد)</p>", "<p>مدل GRU (\u200f۶۴ واحد)</p>"),
        # left-to-right islands, their children, code and attribute values stay as they are
        ('<p><span dir="ltr">LSTM ۶۰ <sub>t ۱</sub></span></p>', None),
        ('<p><code>x ۱</code> و <img alt="LSTM ۶۰"><br></p>', None),
        # after an island closes the text is right-to-left again
        (
            '<p><span dir="ltr">h</span> و GRU ۳۹</p>',
            '<p><span dir="ltr">h</span> و GRU \u200f۳۹</p>',
        ),
        # a Persian word before the number needs nothing
        ("<p>پنجرهٔ ۶۰ گام</p>", None),
    ],
)
def test_a_number_after_a_latin_word_stays_in_the_right_to_left_flow(html, expected):
    marked = render.mark_rtl_numbers(html)
    assert marked == (expected or html)
    assert render.mark_rtl_numbers(marked) == marked  # once is enough


@pytest.mark.parametrize("draft", [False, True])
def test_the_title_page_says_when_the_report_is_a_draft(tmp_path, draft):
    from rnnlab.report.render import Figures, make_environment

    env = make_environment(REPO / "templates", Figures({}, tmp_path))
    report = dict(PARAMS, date="آذر ۱۴۰۵", draft=draft)
    page = env.get_template("sections/title.html.j2").render(r={}, report=report)
    assert ('class="title-draft"' in page) is draft
    assert ("عددهای آن نتیجهٔ نهایی نیستند" in page) is draft
