"""A missing template part is an error naming it, never a silently shorter report."""

from __future__ import annotations

import re

import pytest
from test_report_render import FONTSET, PARAMS, REPO, make_results, make_templates

from rnnlab.errors import RnnlabError
from rnnlab.report import render


def test_no_template_includes_with_ignore_missing():
    offenders = [
        f"{path.relative_to(REPO)}:{n}"
        for path in sorted((REPO / "templates").rglob("*.j2"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\{%-?\s*include\b[^%]*\bignore\s+missing", line)
    ]
    assert offenders == []


def test_a_missing_included_part_fails_the_render_naming_it(tmp_path):
    section = '<h1>x</h1>{% include "sections/q6_z.html.j2" %}'
    templates = make_templates(tmp_path / "t", {"q6": section})
    with pytest.raises(RnnlabError, match=r"sections/q6_z\.html\.j2 not found") as err:
        render.render_document(
            make_results(tmp_path), templates, {}, FONTSET, tmp_path / "out" / "r.html", PARAMS
        )
    assert "restore it" in str(err.value)


def test_the_real_q2_parts_are_all_required(tmp_path):
    text = (REPO / "templates" / "sections" / "q2.html.j2").read_text(encoding="utf-8")
    parts = re.findall(r'\{%-?\s*include\s+"(sections/q2_[a-z]+\.html\.j2)"', text)
    assert sorted(parts) == [
        "sections/q2_c.html.j2",
        "sections/q2_h.html.j2",
        "sections/q2_i.html.j2",
    ]
    for part in parts:
        assert (REPO / "templates" / part).is_file()
