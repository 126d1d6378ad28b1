"""Templates choose wording from claim verdicts; they never compare numbers or compute.

Issue 15: "no comparison with a numeric literal and no arithmetic in templates".
This test parses every template under templates/ with Jinja's own parser (not a
regular expression) and walks the syntax tree. It fails on:

- ``literal-in-condition``: a number literal anywhere in the test of an
  ``{% if %}`` / ``{% elif %}``, of an inline ``x if test else y``, of a loop
  filter ``{% for a in b if test %}``, or as an operand of any comparison
  (``{% set big = x > 0.02 %}`` counts too).
- ``ordering``: ``<``, ``>``, ``<=``, ``>=`` anywhere, even between two values
  (``{% if a.mse < b.mse %}`` is a verdict made in the template: make it a claim).
- ``arithmetic``: ``+ - * / // % **`` and unary minus anywhere (string joining
  with ``~`` and joining a literal tuple or list with ``+`` are fine), and the
  ``sum`` / ``abs`` filters; Python computes every number the report prints
  (percentage points, ratios, shares, 1-based labels).
- ``comparing-filter``: ``select``/``reject``/``selectattr``/``rejectattr`` with a
  number argument, the ``min``/``max`` filters (a pick is a claim), and Jinja tests
  that compare (``is gt 0``, ``is divisibleby 2``, ``is sameas``...).

Allowed: string equality (``c.verdict == "a_better"``, ``name == "layer3"``),
truthiness (``{% if rows %}``), ``loop.first``/``loop.last``, ``is defined``, and
number literals as formatting arguments (``| num(1)``) or indices (``xs[0]``).

ALLOW lists the rare exceptions for formatting only, each keyed by
(template, rule, source line stripped) with the reason; a stale entry fails too.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from claims_helpers import (
    reference_results,
    render_section,
    set_verdict,
    visible_text,
    with_claims,
)
from jinja2 import Environment, nodes

from rnnlab import claims as cl
from rnnlab.report import xref

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "templates"

ARITHMETIC = (nodes.Add, nodes.Sub, nodes.Mul, nodes.Div, nodes.FloorDiv, nodes.Mod, nodes.Pow)
ORDERING = {"lt", "gt", "lteq", "gteq"}
ARITHMETIC_FILTERS = {"sum", "abs"}
PICKING_FILTERS = {"min", "max"}
SELECTING_FILTERS = {"select", "reject", "selectattr", "rejectattr"}
COMPARING_TESTS = {
    "eq", "equalto", "==", "ne", "!=", "lt", "lessthan", "<", "le", "<=",
    "gt", "greaterthan", ">", "ge", ">=", "divisibleby", "odd", "even", "sameas",
}  # fmt: skip

#: (template relative to templates/, rule, stripped source line) -> why it is not a verdict.
#: Keep empty: move the need into a Python filter or a summary field instead.
ALLOW: dict[tuple[str, str, str], str] = {}


@dataclass(frozen=True)
class Finding:
    template: str
    line: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.template}:{self.line}: {self.rule}: {self.detail}"


def _is_number(node: nodes.Node) -> bool:
    return (
        isinstance(node, nodes.Const)
        and isinstance(node.value, (int, float))
        and not isinstance(node.value, bool)
    )


def _numbers_in(node: nodes.Node) -> list[nodes.Const]:
    found = [node] if _is_number(node) else []
    return found + [c for c in node.find_all(nodes.Const) if _is_number(c)]


def _is_sequence(node: nodes.Add) -> bool:
    return isinstance(node.left, (nodes.Tuple, nodes.List)) or isinstance(
        node.right, (nodes.Tuple, nodes.List)
    )


def _condition_tests(tree: nodes.Template) -> list[nodes.Node]:
    tests: list[nodes.Node] = []
    for node in tree.find_all((nodes.If, nodes.CondExpr, nodes.For)):
        test = node.test
        if test is not None:
            tests.append(test)
    return tests


def scan_source(source: str, name: str = "<string>") -> list[Finding]:
    """Every forbidden construct in one template's source, in line order."""
    tree = Environment().parse(source, name=name)
    findings: set[Finding] = set()

    def add(node: nodes.Node, rule: str, detail: str) -> None:
        findings.add(Finding(name, node.lineno, rule, detail))

    literals: dict[int, nodes.Const] = {}
    for test in _condition_tests(tree):
        literals.update((id(c), c) for c in _numbers_in(test))
    for compare in tree.find_all(nodes.Compare):
        for operand in compare.ops:
            if operand.op in ORDERING:
                add(compare, "ordering", f"'{operand.op}' comparison in a template")
        literals.update((id(c), c) for c in _numbers_in(compare))
    for const in literals.values():
        add(const, "literal-in-condition", f"number {const.value!r} in a condition or comparison")
    for node in tree.find_all(ARITHMETIC):
        if isinstance(node, nodes.Add) and _is_sequence(node):
            continue  # joining argument lists, e.g. (key,) + varargs
        add(node, "arithmetic", f"{type(node).__name__} in a template")
    for node in tree.find_all(nodes.Neg):
        add(node, "arithmetic", "unary minus in a template")
    for node in tree.find_all(nodes.Filter):
        if node.name in ARITHMETIC_FILTERS:
            add(node, "arithmetic", f"filter '{node.name}'")
        elif node.name in PICKING_FILTERS:
            add(node, "comparing-filter", f"filter '{node.name}' picks a best value")
        elif node.name in SELECTING_FILTERS and any(_numbers_in(arg) for arg in node.args):
            add(node, "comparing-filter", f"filter '{node.name}' with a number")
    for node in tree.find_all(nodes.Test):
        if node.name in COMPARING_TESTS:
            add(node, "comparing-filter", f"test 'is {node.name}'")
    return sorted(findings, key=lambda f: (f.line, f.rule, f.detail))


def template_names() -> list[str]:
    return sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.j2"))


def _unallowed(name: str) -> tuple[list[Finding], set[tuple[str, str, str]]]:
    source = (TEMPLATES / name).read_text(encoding="utf-8")
    lines = source.splitlines()
    bad, used = [], set()
    for finding in scan_source(source, name):
        key = (name, finding.rule, lines[finding.line - 1].strip())
        if key in ALLOW:
            used.add(key)
        else:
            bad.append(finding)
    return bad, used


@pytest.mark.parametrize("name", template_names())
def test_template_has_no_numeric_verdicts(name: str) -> None:
    bad, _ = _unallowed(name)
    assert not bad, (
        f"{len(bad)} forbidden construct(s) in templates/{name} (make the sentence a claim in "
        "rnnlab.claims and branch on claim(id).verdict; compute numbers in Python):\n"
        + "\n".join(str(f) for f in bad)
    )


def test_allow_list_is_not_stale() -> None:
    used: set[tuple[str, str, str]] = set()
    for name in template_names():
        used |= _unallowed(name)[1]
    assert not set(ALLOW) - used, f"ALLOW entries that match nothing: {set(ALLOW) - used}"


# ---------------------------------------------------------------- the scanner itself


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        ("{% if x > 0.02 %}a{% endif %}", "literal-in-condition"),
        ("{% if x > 0.02 %}a{% endif %}", "ordering"),
        ("{% if n == 1 %}a{% endif %}", "literal-in-condition"),
        ("{% if x %}{% elif y != 3 %}b{% endif %}", "literal-in-condition"),
        ("{% if xs | length == 0 %}a{% endif %}", "literal-in-condition"),
        ("{% set big = g.mse_gain > -0.02 %}", "literal-in-condition"),
        ("{{ 'a' if x == 2 else 'b' }}", "literal-in-condition"),
        ("{% for r in rows if r.n == 1 %}{% endfor %}", "literal-in-condition"),
        ("{% if a.mse < b.mse %}a{% endif %}", "ordering"),
        ("{{ (x * 100) | num(1) }}", "arithmetic"),
        ("{{ 1 / ratio }}", "arithmetic"),
        ("{{ a - b }}", "arithmetic"),
        ("{{ (-x) | pct(1) }}", "arithmetic"),
        ("{{ xs | sum }}", "arithmetic"),
        ("{{ xs | max }}", "comparing-filter"),
        ("{{ xs | selectattr('p', '>', 0.5) | list }}", "comparing-filter"),
        ("{% if x is gt 0 %}a{% endif %}", "comparing-filter"),
        ("{% if loop.index == 1 %}a{% endif %}", "literal-in-condition"),
    ],
)
def test_scanner_catches(source: str, rule: str) -> None:
    assert rule in {f.rule for f in scan_source(source)}


@pytest.mark.parametrize(
    "source",
    [
        '{% set c = claim("q7.a.gru_vs_lstm") %}{% if c.verdict == "a_better" %}x{% endif %}',
        '{% if name == "layer3" %}a{% elif change in ("x", "y") %}b{% endif %}',
        "{% if rows %}{{ rows[0] | num(1) }}{% endif %}",
        "{% for r in rows %}{% if not loop.last %}، {% endif %}{% endfor %}",
        "{{ 'sec-' ~ loop_name }}{{ x | pct(1, sign=True) }}",
        "{% for k in (key,) + varargs %}{{ k }}{% endfor %}",
        "{% if r.q6a is defined and 'rnn' in r.q6a.trend %}a{% endif %}",
        '{{ figure("a", "b", width=0.8) }}',
    ],
)
def test_scanner_allows(source: str) -> None:
    assert scan_source(source) == []


# ---------------------------------------------------------------- sentences follow verdicts
# Issue 15, item 5: synthetic results that flip a claim's verdict flip the rendered
# sentence. Each case renders one section of the (upgraded) reference results with
# one claim's verdict set, and looks for the wording of that verdict. Chapters add
# their own cases the same way (see claims_helpers).

DEVICE = "theory.q2i.cpu-1t"


@functools.cache
def _base() -> str:
    """The reference results with Q7 comparison claims added, as JSON (copied per test)."""
    results = reference_results()
    rng = np.random.default_rng(0)
    errors = rng.normal(size=300)
    q7 = [
        cl.compare_forecasters(f"q7.a.{a}_vs_{b}", errors, errors * 1.5, names=(a, b))
        for a, b in (("bilstm", "lstm"), ("gru", "lstm"))
    ]
    results = with_claims(results, "q7", *q7)
    results["claims"]["xref"] = xref.claims(results)
    return json.dumps(results)


def _results() -> dict:
    return json.loads(_base())


def _text(section: str, results: dict) -> str:
    return visible_text(render_section(section, results))


FLIPS = [
    # (section, claim id, verdict, extra edits, phrase that must appear)
    ("q2", "xref.q2a.length_gain", "b_better", {}, "RNN ساده از متن بلندتر کمتر سود برد"),
    ("q2", "xref.q2a.length_gain", "a_better", {}, "RNN ساده بیشتر از LSTM از متن بلندتر سود برد"),
    ("q2", "xref.q2a.length_gain", "indistinguishable", {"reason": "single_seed"},
     "پراکندگی میان بذرها معلوم نیست"),
    ("q2", "xref.q2a.length_gain", "indistinguishable", {"reason": "welch"},
     "در محدودهٔ پراکندگی میان بذرهاست"),
    ("q2", "xref.q6b.horizons", "lstm", {}, "LSTM سیگنال خطا را تا گام‌های دورتری زنده نگه می‌دارد"),
    ("q2", "xref.q6b.horizons", "rnn", {}, "برخلاف انتظار نظری"),
    ("q2", "xref.q2g.bilstm_vs_lstm", "a_better", {}, "به‌طور معنی‌دار کمتر از LSTM کرد"),
    ("q2", "xref.q2g.bilstm_vs_lstm", "b_better", {}, "به‌طور معنی‌دار بیشتر از LSTM کرد"),
    ("q2", "xref.q2g.bilstm_vs_lstm", "indistinguishable", {}, "تفاوتی بیرون از نوسان آماری نداشت"),
    ("q3", "xref.q3b.gru_vs_lstm", "a_better", {}, "به‌طور معنی‌دار کمتر از LSTM"),
    ("q3", "xref.q3b.gru_vs_lstm", "b_better", {}, "به‌طور معنی‌دار بیشتر از LSTM"),
    ("q3", "xref.q3b.gru_vs_lstm", "indistinguishable", {}, "بدون تفاوت بیرون از نوسان آماری"),
    ("q4", "xref.q4.longest", "a_better", {}, "نیاز به سلول دروازه‌دار را روی همین داده نشان"),
    ("q4", "xref.q4.longest", "b_better", {}, "RNN ساده بهتر بود"),
    ("q4", "xref.q4.longest", "indistinguishable", {}, "از نوسان آماری (یا از پراکندگی نامعلوم"),
    ("q2", "theory.q2h.rnn_vs_mlp", "a_better", {}, "RNN با ۵۹ برابر پارامتر کمتر بهتر تعمیم داد"),
    ("q2", "theory.q2h.rnn_vs_mlp", "b_better", {}, "یعنی در این طول MLP بهتر بود"),
    ("q2", "theory.q2h.rnn_vs_mlp", "indistinguishable", {},
     "تفاوتی بیرون از نوسان آماری (آزمون دقیق فیشر)"),
    ("q2", "theory.q2h.params", "below", {}, "دقیق‌تر هم هست"),
    ("q2", "theory.q2h.train_fit", "above", {}, "جفت‌های آموزشی را کامل یاد"),
    ("q2", "theory.q2h.train_fit", "below", {}, "جفت‌های آموزشی را تقریباً کامل یاد"),
    ("q2", "theory.q2h.rnn_longest_rule", "above", {}, "قاعدهٔ محلی جمع"),
    ("q2", "theory.q2h.rnn_longest_rule", "below", {}, "قاعده را بیشتر اوقات درست"),
    ("q2", "theory.q2h.fewest_pairs", "a_better", {}, "به داده‌ای بسیار بیشتر نیاز دارد"),
    ("q2", f"{DEVICE}.rnn_vs_conv", "b_better", {}, "برابر کندتر از کانولوشن"),
    ("q2", f"{DEVICE}.rnn_vs_conv", "a_better", {}, "برابر سریع‌تر از کانولوشن"),
    ("q2", f"{DEVICE}.rnn_vs_conv", "indistinguishable", {},
     "در محدودهٔ نوسان تکرارها هم‌زمان با کانولوشن"),
    ("q2", f"{DEVICE}.rnn_vs_conv", "b_better", {}, "برابر کندتر بود (یک ضرب ماتریس"),
    ("q2", f"{DEVICE}.rnn_vs_conv", "a_better", {}, "روی این سخت‌افزار RNN کندتر نبود"),
    ("q2", f"{DEVICE}.rnn_vs_matmul", "indistinguishable", {},
     "در محدودهٔ نوسان تکرارها هم‌زمان با ضرب ماتریسیِ"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("section", "claim_id", "verdict", "edits", "phrase"),
    FLIPS,
    ids=[f"{c}={v}" + ("+" + "+".join(e) if e else "") for _, c, v, e, _ in FLIPS],
)
def test_sentence_follows_the_verdict(
    section: str, claim_id: str, verdict: str, edits: dict, phrase: str
) -> None:
    results = set_verdict(_results(), claim_id, verdict)
    for part in results["claims"].values():
        if claim_id in part:
            part[claim_id].update(edits)
    assert phrase in _text(section, results)


@pytest.mark.parametrize(
    ("claim_id", "verdicts"),
    [
        ("xref.q2a.length_gain", ("a_better", "b_better")),
        ("xref.q4.longest", ("a_better", "b_better")),
        (f"{DEVICE}.rnn_vs_conv", ("a_better", "b_better")),
    ],
)
def test_opposite_verdicts_never_share_their_sentence(claim_id: str, verdicts: tuple) -> None:
    section = "q4" if "q4" in claim_id else "q2"
    first, second = (_text(section, set_verdict(_results(), claim_id, v)) for v in verdicts)
    assert first != second


def test_best_parallel_and_rates_when_threads_are_many() -> None:
    results = _results()
    run = results["theory"]["parallelism"]["by_device"]["cpu-1t"]
    run["single_cpu_thread"] = False
    slower = _text("q2", set_verdict(results, f"{DEVICE}.rnn_vs_best_parallel", "b_better"))
    assert "چنین ضربی نمی‌تواند همهٔ واحدهای محاسبهٔ این سخت‌افزار را پر کند" in slower
    tied = _text("q2", set_verdict(results, f"{DEVICE}.rnn_vs_best_parallel", "indistinguishable"))
    assert "در محدودهٔ نوسان تکرارها از عملیات موازی" in tied


def test_reference_report_quotes_the_chapter_numbers() -> None:
    """Issue 15: Q2-b quoted 72.4 % while Q6-C prints 72.7 %; the horizon was geometric only."""
    from rnnlab.style import persian

    results = _results()
    q2 = _text("q2", results)
    late = results["q6c"]["models"]["rnn"]["h"]["late_saturated_share"]
    assert visible_text(persian.pct(late, 1)) in q2
    stale = results["q6c"]["models"]["rnn"]["h"]["saturated_share"]
    assert visible_text(persian.pct(stale, 1)) not in q2
    # Both horizons: the batch gradient's (arithmetic mean) and the typical example's (geometric).
    assert "برای گرادیان دسته (میانگین حسابی) در RNN ساده" in q2
    assert "برای نمونهٔ معمولی (میانگین هندسی) به‌ترتیب" in q2
    assert cl.check_claims(results) == []


def test_render_refuses_the_reference_when_a_quoted_number_drifts(tmp_path: Path) -> None:
    """The reference's claims hold; a drifted Q6-C number stops the render, naming the claim.

    (That the reference's Q2-b quotes the Q6-C number is the test above; the whole
    report renders from a fresh run's results.json in the pipeline tests.)
    """
    import re

    from test_report_render import FONTSET as fontset

    from rnnlab.claims import check_claims
    from rnnlab.errors import RnnlabError
    from rnnlab.report import render

    ids = set()
    for template in TEMPLATES.rglob("*.j2"):
        ids |= set(re.findall(r'figure\("([a-z0-9_]+)"', template.read_text(encoding="utf-8")))
    figures = {fid: str(tmp_path / f"{fid}.svg") for fid in ids}
    params = {"course": "c", "homework": "h", "topic": "t", "date": None}
    out = tmp_path / "report.html"
    results = _results()
    assert check_claims(results) == []
    results["q6c"]["models"]["rnn"]["h"]["late_saturated_share"] = 0.724
    with pytest.raises(RnnlabError, match=r"claim xref.q2b.saturation: quotes saturated_share"):
        render.render_document(results, TEMPLATES, figures, fontset, out, params)


def _two_thread_counts(rnn_factor: float, parallel_factor: float) -> dict:
    """Reference results re-measured on 2 threads: each op's times scaled by its factor."""
    import copy

    from claims_helpers import upgrade

    from rnnlab.theory.parallelism import thread_scaling

    results = json.loads(_base())
    pt = results["theory"]["parallelism"]
    two = copy.deepcopy(pt["by_device"]["cpu-1t"])
    two["hardware"]["torch_threads"] = 2
    for row in two["rows"]:
        factor = rnn_factor if row["op"] == "rnn" else parallel_factor
        row["times_ms"] = [t * factor for t in row["times_ms"]]
        row["best_ms"] = min(row["times_ms"])
    pt["by_device"]["cpu-2t"] = two
    pt["devices"] = ["cpu-1t", "cpu-2t"]
    pt["thread_scaling"] = thread_scaling(pt["by_device"])
    return upgrade(results)


@pytest.mark.parametrize(
    ("rnn_factor", "parallel_factor", "phrase"),
    [
        (1.0, 0.5, "این همان پاسخ سؤال است"),
        (1.0, 1.0, "هیچ‌کدام از عملیات موازی هم از رشتهٔ دوم سود محسوسی نبردند"),
        (0.5, 0.5, "در این اجرا RNN هم به اندازهٔ عملیات موازی از رشتهٔ اضافه سود برد"),
        (2.0, 0.5, "(یعنی کندتر)"),
    ],
)
def test_thread_scaling_sentence_follows_the_timing_claims(
    rnn_factor: float, parallel_factor: float, phrase: str
) -> None:
    results = _two_thread_counts(rnn_factor, parallel_factor)
    assert cl.check_claims(results) == []
    assert phrase in _text("q2", results)
