"""docs/architecture.md stays true: its map names every rule, where it lives, what it runs.

Reads the rule files as text (fast; no Snakemake): a rule is `rule <name>:` and
its module is the `python -m <module>` of its shell line.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "architecture.md"
RULES_DIR = REPO / "workflow" / "rules"
TEMPLATES = REPO / "templates"
SUMMARY_KEYS = {"imdb", "theory", "q6a", "q6b", "q6c", "q7"}


def _table(heading: str) -> list[list[list[str]]]:
    """Rows of the first table under `heading`, each cell as its `backticked` words."""
    text = DOC.read_text(encoding="utf-8")
    assert heading in text, f"docs/architecture.md lost its section {heading!r}"
    lines = text.split(heading, 1)[1].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    block = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        block.append(line)
    body = block[2:]  # after the header and the separator
    return [
        [re.findall(r"`([^`]+)`", cell) for cell in line.strip().strip("|").split("|")]
        for line in body
    ]


def _workflow_rules() -> dict[str, tuple[str, str | None]]:
    """rule name -> (rule file, module its shell line runs)."""
    found = {}
    for path in sorted(RULES_DIR.glob("*.smk")):
        blocks = re.split(r"^rule (\w+):", path.read_text(encoding="utf-8"), flags=re.M)
        for name, body in zip(blocks[1::2], blocks[2::2], strict=True):
            module = re.search(r"python -m ([\w.]+)", body)
            found[name] = (path.name, module.group(1) if module else None)
    return found


@pytest.fixture(scope="module")
def doc_map():
    return _table("## Map: part → rule → module → output → template")


def test_every_rule_is_in_the_map_in_its_own_file_with_its_module(doc_map):
    rules = _workflow_rules()
    named = set()
    for _part, rule_file, rule_names, modules, _outputs, _templates in doc_map:
        for name in rule_names:
            assert name in rules, f"docs/architecture.md names rule {name}, which does not exist"
            actual_file, module = rules[name]
            assert rule_file == [actual_file], f"{name} is in {actual_file}, not {rule_file}"
            assert module in modules, f"{name} runs {module}, not listed beside it in the doc"
            named.add(name)
    missing = sorted(set(rules) - named)
    assert not missing, f"rules missing from docs/architecture.md: {missing}"


def test_every_module_and_template_in_the_map_exists(doc_map):
    for _part, _rule_file, _rules, modules, _outputs, templates in doc_map:
        for module in modules:
            path = REPO / "src" / Path(*module.split("."))
            assert path.with_suffix(".py").is_file() or (path / "__init__.py").is_file(), module
        for template in templates:
            assert (TEMPLATES / template).is_file(), f"no template {template}"
    mapped = {t for row in doc_map for t in row[5]}
    present = {p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.j2")}
    assert not present - mapped, f"templates missing from the map: {sorted(present - mapped)}"


def _reads(template: Path) -> set[str]:
    text = template.read_text(encoding="utf-8")
    keys = set(re.findall(r"\br\.(\w+)", text)) | set(re.findall(r"\br\[[\"'](\w+)[\"']\]", text))
    keys |= set(re.findall(r"claim\(\s*[\"'](\w+)\.", text))
    return keys & SUMMARY_KEYS


def test_which_sections_read_which_results():
    table = {
        row[0][0]: set(row[1]) for row in _table("## Which sections read which results") if row[0]
    }
    actual = {
        path.relative_to(TEMPLATES).as_posix(): _reads(path)
        for path in sorted((TEMPLATES / "sections").glob("*.j2"))
    }
    actual = {name: keys for name, keys in actual.items() if keys}
    assert table == actual, "update the reads table of docs/architecture.md"
