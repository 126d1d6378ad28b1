"""The appendix states what `rnnlab.verify` compares: its numbers must be verify's own."""

from __future__ import annotations

import math
from pathlib import Path

from rnnlab import verify
from rnnlab.report.collect import source_digest
from rnnlab.style.persian import num, pct

APPENDIX = Path(__file__).resolve().parents[1] / "templates" / "sections" / "appendix.html.j2"


def test_the_stated_tolerances_are_verifys():
    text = APPENDIX.read_text(encoding="utf-8")
    assert f"{num(verify.TRAINED.abs, 2)} مطلق" in text
    assert f"{pct(verify.TRAINED.rel, 0)} نسبی" in text
    exponent = round(math.log10(verify.EXACT.rel))
    assert f"10^{{{exponent}}}" in text
    assert "meta" in verify.MACHINE_PATHS
    # The trained parts, and the claims whose evidence quotes them.
    assert set(verify.TRAINED_SECTIONS) == {"q6a", "q6b", "q6c", "q7", "claims"}


def test_source_digest_names_the_code(tmp_path):
    (tmp_path / "src" / "rnnlab").mkdir(parents=True)
    (tmp_path / "src" / "rnnlab" / "a.py").write_text("x = 1\n")
    (tmp_path / "Snakefile").write_text("rule all:\n")
    first = source_digest(tmp_path)
    assert first is not None and first["files"] == 2 and len(first["sha256"]) == 64
    (tmp_path / "src" / "rnnlab" / "a.py").write_text("x = 2\n")
    assert source_digest(tmp_path)["sha256"] != first["sha256"]
    assert source_digest(tmp_path / "empty") is None
