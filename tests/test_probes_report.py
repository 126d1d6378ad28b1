"""The Q6-B/C template blocks render from the probes' summaries (verdict flips: test_q6_report)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_probes_commands import GRADIENT_PARAMS, HIDDEN_PARAMS, checkpoint, encoded_data

from rnnlab.probes import gradients, hidden


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = tmp_path_factory.mktemp("probe-report")
    encoded = encoded_data(root / "encoded.pt")
    trained = [
        f"rnn={checkpoint(root / 'rnn.pt', 'rnn', 3)}",
        f"lstm={checkpoint(root / 'lstm.pt', 'lstm', 4)}",
    ]
    gradients._main(
        [
            "measure",
            "--encoded",
            str(encoded),
            "--trained",
            *trained,
            "--steps-csv",
            str(root / "s.csv"),
            "--batch-csv",
            str(root / "b.csv"),
            "--summary",
            str(root / "g.json"),
            "--params",
            json.dumps(GRADIENT_PARAMS),
        ]
    )
    hidden._main(
        [
            "measure",
            "--encoded",
            str(encoded),
            "--trained",
            *trained,
            "--norms-csv",
            str(root / "n.csv"),
            "--reviews-csv",
            str(root / "r.csv"),
            "--summary",
            str(root / "h.json"),
            "--params",
            json.dumps(HIDDEN_PARAMS),
        ]
    )
    return {
        "q6b": json.loads((root / "g.json").read_text()),
        "q6c": json.loads((root / "h.json").read_text()),
    }


def test_gradient_block_renders_from_the_summary(results: dict, tmp_path: Path) -> None:
    from q6_render import render_section

    text = render_section(tmp_path, "q6_b", results)
    assert "tensor hook" in text and "میانگین حسابی" in text and "میانه" in text
    # One training seed here: the text says the spread is unknown and claims no winner.
    assert "با یک بذر آموزشی پراکندگی بذرها نامعلوم است" in text
    assert "با یک بذر نمی‌توان گفت کدام مدل گرادیان را بهتر حفظ می‌کند" in text
    assert "dL/dh" not in text


def test_hidden_block_renders_from_the_summary(results: dict, tmp_path: Path) -> None:
    from q6_render import render_section

    text = render_section(tmp_path, "q6_c", results)
    assert "طول‌های جفت‌شده" in text and "کسینوس" in text
    from rnnlab.style.persian import fa

    assert fa(results["q6c"]["length_gap"]["max"]) in text
