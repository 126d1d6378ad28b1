"""The Q6-B/C template blocks render from the probes' summaries, in every analysis branch."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from test_probes_commands import GRADIENT_PARAMS, HIDDEN_PARAMS, checkpoint, encoded_data

from rnnlab.probes import gradients, hidden
from rnnlab.report.render import Figures, make_environment

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
FIGURES = ("q6b_gradients", "q6c_hidden", "q6c_cell", "q6c_means")


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


def render(name: str, r: dict, tmp_path: Path) -> str:
    figures = {key: str(tmp_path / f"{key}.svg") for key in FIGURES}
    env = make_environment(TEMPLATES, Figures(figures, tmp_path))
    return env.get_template(f"sections/{name}.html.j2").render(r=r)


def test_gradient_block_renders_numbers_from_the_summary(results: dict, tmp_path: Path) -> None:
    html = render("q6_b", results, tmp_path)
    assert 'id="q6b_gradients"' in html and 'id="q6b_table"' in html
    assert "tensor hook" in html
    horizon = results["q6b"]["models"]["rnn"]["trained"]["curves"]["h"]["horizon_steps"]
    from rnnlab.style.persian import fa

    assert fa(horizon) in html


def test_gradient_block_states_whichever_model_wins(results: dict, tmp_path: Path) -> None:
    r = copy.deepcopy(results)
    r["q6b"]["ranking"]["longer_memory"] = "lstm"
    lstm_wins = render("q6_b", r, tmp_path)
    r["q6b"]["ranking"]["longer_memory"] = "rnn"
    rnn_wins = render("q6_b", r, tmp_path)
    assert "پس LSTM گرادیان را تا ابتدای نقد" in lstm_wins
    assert "برخلاف انتظار نظری" in rnn_wins and "برخلاف انتظار نظری" not in lstm_wins
    # A curve that underflowed even in float64 (ratio 0, no logarithm) still renders.
    r["q6b"]["models"]["rnn"]["trained"]["curves"]["h"].update(
        ratio_first_last=0.0, log10_ratio=None
    )
    assert "به صفر عددی رسید" in render("q6_b", r, tmp_path)
    # Without the optional untrained curves the block still renders, minus that comparison.
    for model in ("rnn", "lstm"):
        del r["q6b"]["models"][model]["initial"]
    assert "وزن‌های پیش از آموزش نشان می‌دهد" not in render("q6_b", r, tmp_path)


def test_hidden_block_renders_every_branch(results: dict, tmp_path: Path) -> None:
    html = render("q6_c", results, tmp_path)
    for figure in FIGURES[1:]:
        assert f'id="{figure}"' in html
    r = copy.deepcopy(results)
    cell = r["q6c"]["models"]["lstm"]["c"]
    for growth, phrase in ((2.0, "برابر شد"), (0.5, "کاهش یافت"), (1.0, "تقریباً ثابت ماند")):
        cell["growth"] = growth
        assert phrase in render("q6_c", r, tmp_path)
    rnn = r["q6c"]["models"]["rnn"]["h"]
    for share, phrase in ((0.8, "ناحیهٔ اشباع"), (0.3, "بخش قابل‌توجهی"), (0.05, "از اشباع دورند")):
        rnn["late_saturated_share"] = share
        assert phrase in render("q6_c", r, tmp_path)
