"""Persian copy editing: the glossary, the `term` global, and the text lint of the report.

The lint (rnnlab.style.textlint) is tested rule by rule on small snippets, then
run on the whole report rendered from the smoke run's results.json (no PDF; a
pipeline test).
"""

from __future__ import annotations

import pytest
from markupsafe import Markup
from test_report_layout import render_report

from rnnlab.errors import RnnlabError
from rnnlab.report.mathsvg import unary_minus
from rnnlab.style import persian
from rnnlab.style.textlint import lint


def page(body: str) -> str:
    return f'<html dir="rtl" lang="fa"><body>{body}</body></html>'


def kinds(body: str) -> list[str]:
    return [finding.kind for finding in lint(page(body))]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("<p>برای دو واحد ۰٫۷۲۷ و ۰٫۳۱۰است.</p>", "glue"),
        ("<p>واحد ۲با مقدار منفی</p>", "glue"),
        ("<p>برای GRUپنجرهٔ بلندتر</p>", "glue"),
        ("<p>قابل تغییر است.سهم نقدها</p>", "glue"),
        ('<p>یک ضرب کوچک <img src="x.svg">انجام می‌شود</p>', "glue"),
        ("<p>این کار می شود.</p>", "zwnj"),
        ("<p>شبکه ها خوب‌اند.</p>", "zwnj"),
        ("<p>محاسبه گام به گام است.</p>", "zwnj"),
        ("<p>جدول ۲: دقت 0.81 است.</p>", "latin-digit"),
        ("<p>روی AMD EPYC, 1 torch threads اجرا شد.</p>", "english"),
        ("<p>نرم ‖hₜ‖ در هر گام</p>", "math-text"),
        ("<p>همبستگی 1−z و i</p>", "math-text"),
        ("<p>کانولوشن 1 × 1 روی کانال‌ها</p>", "nbsp"),
        ("<p>یک حالت مخفی دارد.</p>", "term"),
        ("<p>قانون امدال</p>", "term"),
        ("<p>مدل LSTM ۶۰ واحد دارد.</p>", "bidi"),
        # the assignment's own wording is not edited, but how it is shown is checked
        ('<blockquote class="question">سه نسخه از LSTM: ۱. فقط Forget Gate</blockquote>', "bidi"),
    ],
)
def test_lint_finds(text, kind):
    assert kind in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "<p>دقت ۰٫۸۱ است و LSTM بهتر است.</p>",
        '<p>نسخهٔ <span class="en" dir="ltr">PyTorch 2.3.1 on AMD EPYC</span> به کار رفت.</p>',
        "<p>کد <code>nn.RNN(64, 128)</code> است.</p>",
        '<p>کانولوشن <span dir="ltr">1\u00a0×\u00a01</span> و RNN\u200cها</p>',
        '<p>حالت پنهان <span dir="ltr">h<sub>t</sub></span> و <img src="m.svg"> است.</p>',
        '<blockquote class="question"><span class="question-label">پرسش ۲-ج:</span>'
        " متن سؤال می شود 12 حالت مخفی</blockquote>",
        "<p>نسبت ۱/۴ و کسر ۷ / ۸</p>",
        # a number from the num filter is an LTR island; an RLM separates a literal one
        '<p>مدل LSTM <span dir="ltr">۶۰</span> واحد دارد.</p>',
        '<blockquote class="question">سه نسخه از LSTM:\u200f ۱. فقط Forget Gate</blockquote>',
        # whitespace runs are collapsed without shifting the LTR mask
        '<p>کد   <code>x  =  1</code>   و   <span dir="ltr">T = 10</span> است.</p>',
        '<p>متن<span class="footnote">پانویس</span>: ادامه</p>',
    ],
)
def test_lint_passes(text):
    assert lint(page(text)) == []


def test_an_out_of_order_label_needs_a_note():
    def quote(label: str, note: str = "") -> str:
        note_html = f'<span class="label-note">({note})</span>' if note else ""
        return (
            f'<blockquote class="question"><span class="question-label">پرسش {label}:</span>'
            f"{note_html} متن</blockquote>"
        )

    assert kinds(quote("۲-و") + quote("۲-ن")) == ["label"]
    assert kinds(quote("۲-ن", "در متن تمرین «ن»؛ جای «ز»")) == []
    assert kinds(quote("۶-A") + quote("۷-پ") + quote("۲-ز")) == []


def test_glossary_has_one_term_per_concept():
    entries = persian.glossary()
    preferred = {entry["fa"] for entry in entries.values()}
    assert len(preferred) == len(entries), "two concepts share one Persian term"
    for key, entry in entries.items():
        assert entry["en"], key
        assert not set(entry["avoid"]) & preferred, f"{key}: an avoided variant is a term"


def test_term_gives_the_persian_term_and_its_english():
    assert persian.term("hidden_state") == "حالت پنهان"
    with_en = persian.term("hidden_state", en=True)
    assert isinstance(with_en, Markup)
    assert "hidden state" in with_en and 'dir="ltr"' in with_en
    with pytest.raises(RnnlabError, match="not in the glossary"):
        persian.term("no_such_concept")


@pytest.mark.parametrize(
    ("latex", "expected"),
    [
        ("(-0.2)(-0.5)", "({-}0.2)({-}0.5)"),
        ("a = -1.25", "a = {-}1.25"),
        ("a - b", "a - b"),
        ("x_{t-1}", "x_{t-1}"),
        ("\\begin{bmatrix} -1 & -2 \\\\ -3 & 4 - 1 \\end{bmatrix}",
         "\\begin{bmatrix} {-}1 & {-}2 \\\\ {-}3 & 4 - 1 \\end{bmatrix}"),
        ("{-}3", "{-}3"),
    ],
)  # fmt: skip
def test_a_sign_minus_is_not_spaced_as_an_operator(latex, expected):
    assert unary_minus(latex) == expected


def test_a_formula_from_a_template_block_keeps_its_ampersands():
    # `{% call eq() %}` hands the formula over as Markup; the cells' "&" must stay "&".
    latex = Markup("\\begin{bmatrix} 0.5 & -0.2 \\\\ -1 & 0.9 \\end{bmatrix}")
    braced = unary_minus(latex)
    assert type(braced) is str and "amp;" not in braced
    assert braced == "\\begin{bmatrix} 0.5 & {-}0.2 \\\\ {-}1 & 0.9 \\end{bmatrix}"


def test_scientific_numbers_do_not_break_at_the_times_sign():
    assert "\u00a0×\u00a0" in persian.sci(3.2e-12, 1)


def test_the_whole_report_text_passes_the_lint(tmp_path, smoke_run):
    html = render_report(tmp_path, smoke_run).read_text(encoding="utf-8")
    findings = lint(html)
    assert not findings, "\n".join(str(f) for f in findings)
