"""Render one Q6 template from synthetic results, as plain text (verdict-flip tests).

A minimal stand-in for the claims helper's render helper: `claim(id)` looks the id up
in every part of ``results["claims"]`` (an unknown id is an error), as the report does.
"""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def hoist(results: dict[str, Any]) -> dict[str, Any]:
    """Move each part's `claims` into results["claims"][part] (what report_collect does)."""
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in results.items()}
    parts = {}
    for key, body in out.items():
        if isinstance(body, dict) and "claims" in body:
            parts[key] = body.pop("claims")
    out["claims"] = parts
    return out


def render_section(
    tmp_path: Path,
    section: str,
    results: dict[str, Any],
    blank: tuple[str, ...] = (),
    report: dict[str, Any] | None = None,
) -> str:
    """`templates/sections/<section>.html.j2` rendered with `results`, tags stripped.

    `report` is the report's config section (`report.*` of the config), as render passes it.
    """
    from rnnlab.report.render import Figures, make_environment

    templates = tmp_path / "templates"
    shutil.copytree(REPO / "templates", templates, dirs_exist_ok=True)
    for part in blank:
        (templates / "sections" / f"{part}.html.j2").write_text("")
    ids = ("q6a_accuracy", "q6b_gradients", "q6c_hidden", "q6c_cell", "q6c_means", "q6c_steps")
    figures = Figures({i: str(tmp_path / f"{i}.svg") for i in ids}, tmp_path)
    env = make_environment(templates, figures)
    r = hoist(results)
    index = {cid: c for part in r["claims"].values() for cid, c in part.items()}

    def claim(cid: str) -> dict[str, Any]:
        if cid not in index:
            raise KeyError(f"unknown claim id {cid!r}")
        return index[cid]

    env.globals.setdefault("claim", claim)
    if env.globals["claim"] is not claim:  # the real helper: give it these results
        env.globals["claim"] = claim
    page = env.get_template(f"sections/{section}.html.j2").render(r=r, report=report or {})
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
