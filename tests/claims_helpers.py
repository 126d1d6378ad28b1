"""Helpers for claim tests: render one section with a given results.json, read its text.

How a chapter tests its claims (issue 15, item 5: synthetic results that flip a
claim's verdict flip the rendered sentence):

    from claims_helpers import render_section, with_claims, visible_text

    def test_gru_vs_lstm_sentence_follows_the_verdict():
        results = reference_results()                 # or a small stand-in dict
        claim = find(results, "q7.a.gru_vs_lstm")
        for verdict, phrase in (("a_better", "..."), ("b_better", "..."), ...):
            flipped = set_verdict(results, "q7.a.gru_vs_lstm", verdict)
            assert phrase in visible_text(render_section("q7", flipped))

``render_section(name, results)`` renders ``templates/sections/<name>.html.j2`` in
the report's own Jinja environment (filters, ``claim()``/``has_claim()`` globals,
macros), with every figure id registered, and returns the HTML. It does not run
``check_claims``: a test may set a verdict its evidence contradicts, to see the
wording follow the verdict alone. To build a consistent results dict from real
evidence, compute the claims with ``rnnlab.claims`` and place them with
``with_claims(results, part, *claims)``.

``reference_results()`` is the committed report/results.json brought up to the
current code: the theory summary re-merged from its parts (derived fields and
theory claims) and the claims hoisted and cross-referenced as report_collect does.
"""

from __future__ import annotations

import copy
import html
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from rnnlab.report import xref
from rnnlab.report.collect import hoist_claims, stage_of, stage_totals
from rnnlab.report.mathsvg import MathRenderer
from rnnlab.report.render import Claims, Figures, make_environment

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = REPO / "templates"
REFERENCE = REPO / "report" / "results.json"
_TAG = re.compile(r"<[^>]+>")
_MATH_CACHE = Path("/tmp") / "rnnlab-claims-test-math"

#: Figure ids templates may cite; registered so `is_figure` is true for all of them.
FIGURES = (
    "q6a_accuracy", "q6b_gradients", "q6c_hidden", "q2h_addition", "q2i_timing",
    "q7_gates_peak",
)  # fmt: skip


def render_section(name: str, results: dict[str, Any], figures: tuple[str, ...] = FIGURES) -> str:
    """The HTML of one section template rendered with ``results`` as ``r``."""
    registered = {fid: f"/tmp/{fid}.svg" for fid in figures}
    env = make_environment(
        TEMPLATES,
        Figures(registered, Path("/tmp")),
        MathRenderer(_MATH_CACHE),
        Claims(results),
    )
    return env.get_template(f"sections/{name}.html.j2").render(r=results)


def visible_text(document: str) -> str:
    """The words a reader sees: tags dropped, entities decoded, whitespace collapsed."""
    return " ".join(html.unescape(_TAG.sub(" ", document)).split())


def with_claims(results: dict[str, Any], part: str, *claims: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``results`` with ``claims`` added to ``results["claims"][part]``."""
    out = copy.deepcopy(results)
    section = out.setdefault("claims", {}).setdefault(part, {})
    for claim in claims:
        section[claim["id"]] = copy.deepcopy(claim)
    return out


def set_verdict(results: dict[str, Any], claim_id: str, verdict: str) -> dict[str, Any]:
    """A copy of ``results`` whose claim ``claim_id`` says ``verdict`` (evidence untouched)."""
    out = copy.deepcopy(results)
    for part in out.get("claims", {}).values():
        if claim_id in part:
            part[claim_id]["verdict"] = verdict
            return out
    raise KeyError(f"no claim {claim_id!r} in results")


def find_claim(results: dict[str, Any], claim_id: str) -> dict[str, Any]:
    for part in results.get("claims", {}).values():
        if claim_id in part:
            return part[claim_id]
    raise KeyError(f"no claim {claim_id!r} in results")


def upgrade(results: dict[str, Any]) -> dict[str, Any]:
    """An older results.json brought up to the current claims contract (see module doc)."""
    from rnnlab.theory.summary import merge

    out = copy.deepcopy(results)
    if "theory" in out:
        theory = {k: v for k, v in out["theory"].items() if k not in ("claims", "gated")}
        out["theory"] = merge(**theory)
    for item in out.get("meta", {}).get("data", {}).values():
        item.setdefault("megabytes", item["bytes"] / 1e6)
    volatile = out.get("meta", {}).get("volatile", {})
    timed = volatile.get("benchmarks", [])
    volatile.setdefault("benchmarks_total_minutes", sum(r["seconds"] or 0 for r in timed) / 60)
    for row in timed:
        row.setdefault("stage", stage_of(row["job"]))
        row.setdefault("cpu_seconds", None)
    volatile.setdefault("stages", stage_totals(timed))
    previous = out.pop("claims", {})
    claims = {**previous, **hoist_claims(out)}
    claims.pop("xref", None)
    claims["xref"] = xref.claims({**out, "claims": claims})
    out["claims"] = {k: v for k, v in claims.items() if v}
    return out


@cache
def _reference_text() -> str:
    return REFERENCE.read_text(encoding="utf-8")


def reference_results() -> dict[str, Any]:
    """The committed report/results.json, upgraded (a fresh copy each call)."""
    return upgrade(json.loads(_reference_text()))
