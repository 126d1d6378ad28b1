"""Snakemake's provenance report (`snakemake --report`): captions are wired (fast), and
on the smoke run the report holds every figure, the main tables and the PDF (pipeline)."""

from __future__ import annotations

import base64
import fnmatch
import json
import re
from pathlib import Path

import pytest
from conftest import run_snakemake

REPO = Path(__file__).resolve().parents[1]
RULES = REPO / "workflow" / "rules"
CAPTIONS = REPO / "workflow" / "report"
CATEGORIES = {"data", "Q6-A", "Q6-B", "Q6-C", "Q7", "theory", "report"}
# The main tables (besides every figure and the PDF), relative to the run directory.
MAIN_TABLES = [
    "results/data/imdb/length_stats.csv",
    "results/sentiment/accuracy.csv",
    "results/sentiment/gradients/steps.csv",
    "results/sentiment/hidden/norms.csv",
    "results/forecast/summary.json",
    "results/theory/q1.json",
    "report/results.json",
]


def report_calls() -> list[tuple[Path, str | None, str | None]]:
    """(rule file, caption, category) of every report(...) in the rule files; a caption
    written as an f-string comes back as a glob (`q7_{name}.rst` -> `q7_*.rst`)."""
    found = []
    for smk in sorted(RULES.glob("*.smk")):
        text = smk.read_text(encoding="utf-8")
        for call in re.finditer(r"\breport\((.*?)\n\s*\)", text, flags=re.S):
            caption = re.search(r'caption=f?"([^"]+)"', call[1])
            category = re.search(r'category="([^"]+)"', call[1])
            glob = caption and re.sub(r"\{[^}]*\}", "*", caption[1])
            found.append((smk, glob, category and category[1]))
    return found


def test_every_report_entry_has_an_existing_caption_and_a_known_category():
    calls = report_calls()
    assert len(calls) >= 10, calls
    for smk, caption, category in calls:
        assert caption, f"{smk.name}: a report(...) without caption="
        assert list(smk.parent.glob(caption)), f"{smk.name}: caption {caption} is missing"
        assert category in CATEGORIES, f"{smk.name}: category {category!r} not in {CATEGORIES}"


def test_every_caption_file_is_used():
    used = [(smk.parent / caption).resolve().as_posix() for smk, caption, _ in report_calls()]
    snakefile = (REPO / "Snakefile").read_text(encoding="utf-8")
    for path in re.findall(r'^report:\s*"([^"]+)"', snakefile, flags=re.M):
        used.append((REPO / path).resolve().as_posix())
    unused = [
        p.name for p in CAPTIONS.glob("*.rst")
        if not any(fnmatch.fnmatch(p.resolve().as_posix(), pattern) for pattern in used)
    ]  # fmt: skip
    assert not unused, f"caption files no rule uses: {unused}"


def report_variable(html: str, name: str):
    """A JSON variable of the report's page (`var results = {...};`)."""
    match = re.search(rf"^\s*var {name} = (\{{.*\}});\s*$", html, flags=re.M)
    assert match, f"the report has no `var {name}`"
    return json.loads(match[1])


@pytest.fixture(scope="module")
def provenance(smoke_run, tmp_path_factory) -> tuple[Path, dict, dict]:
    out = tmp_path_factory.mktemp("provenance") / "provenance.html"
    run_snakemake(smoke_run, smoke_run / "smoke-config.yaml", "--report", str(out))
    html = out.read_text(encoding="utf-8")
    return out, report_variable(html, "results"), report_variable(html, "categories")


def test_report_holds_every_figure_main_table_and_the_pdf(smoke_run, provenance):
    _, results, _ = provenance
    figures = {p.relative_to(smoke_run).as_posix() for p in (smoke_run / "results").rglob("*.svg")}
    pdfs = {p.relative_to(smoke_run).as_posix() for p in (smoke_run / "report").glob("*.pdf")}
    assert figures and len(pdfs) == 1
    missing = sorted((figures | pdfs | set(MAIN_TABLES)) - set(results))
    assert not missing, f"not in the provenance report: {missing}"


def test_every_report_entry_is_the_file_itself_with_caption_and_category(smoke_run, provenance):
    _, results, categories = provenance
    for path, entry in results.items():
        data = base64.b64decode(entry["data_uri"].split("base64,", 1)[1])
        assert data == (smoke_run / path).read_bytes(), f"{path}: embedded bytes differ"
        assert entry["caption"].strip(), f"{path}: empty caption"
    assert set(categories) <= CATEGORIES, set(categories)
    listed = {path for sub in categories.values() for paths in sub.values() for path in paths}
    assert listed == set(results)
