"""The theory stage as the pipeline runs it: rules in the DAG, summary, figures, templates."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import matplotlib
import pytest
import yaml
from conftest import run_snakemake
from test_theory_addition import TINY as TINY_ADDITION
from test_theory_forward import GIVEN
from test_theory_parallelism import TINY as TINY_PARALLELISM
from test_theory_q1 import QUESTION

from rnnlab.style import persian
from rnnlab.theory import addition, figures, forward, parallelism, q1, summary

REPO = Path(__file__).resolve().parents[1]
THEORY_RULES = (
    "theory_q1",
    "theory_forward",
    "theory_addition",
    "theory_parallelism",
    "theory_summary",
    "theory_figure",
)


def _smoke_config(tmp: Path) -> Path:
    config = yaml.safe_load((REPO / "config" / "smoke.yaml").read_text()) or {}
    config["offline_data_dir"] = str(tmp / "no-offline-copies")
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _snakemake(tmp: Path, *args: str) -> subprocess.CompletedProcess:
    return run_snakemake(tmp, _smoke_config(tmp), *args, check=False)


def test_rules_are_in_the_dag(tmp_path):
    proc = _snakemake(tmp_path, "-n", "--quiet", "rules", "--forceall")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    for rule in THEORY_RULES:
        assert rule in out, f"{rule} missing from the dry run"


@pytest.fixture(scope="module")
def theory_summary() -> dict:
    return summary.merge(
        q1=q1.run(QUESTION),
        forward=forward.run(GIVEN),
        addition=addition.run(TINY_ADDITION),
        parallelism=parallelism.run(TINY_PARALLELISM),
    )


def test_summary_headlines(theory_summary):
    ad = theory_summary["addition"]
    assert ad["train_bits"] == 3
    assert set(ad["rnn"]["accuracy"]) == {"3", "6"} and set(ad["mlp"]["accuracy"]) == {"3"}
    pt = theory_summary["parallelism"]
    assert pt["longest"]["length"] == 6
    assert {"rnn_ms", "conv_ms", "matmul_ms"} <= set(pt["longest"])
    json.dumps(theory_summary)  # everything the report gets is plain JSON


def _dejavu_manifest(tmp: Path) -> Path:
    """A font manifest pointing at matplotlib's bundled DejaVu Sans (no download)."""
    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    manifest = tmp / "fonts.json"
    entry = {"family": "DejaVu Sans", "regular": str(font), "bold": str(font)}
    manifest.write_text(json.dumps(entry))
    return manifest


def test_figures_are_written(tmp_path, theory_summary):
    font = _dejavu_manifest(tmp_path)
    for name in ("addition", "parallelism"):
        out = tmp_path / f"{name}.svg"
        figures.FIGURES[name](theory_summary[name], str(font), str(out))
        assert out.read_text().lstrip().startswith("<?xml")


def test_templates_render_the_computed_numbers(tmp_path, theory_summary):
    from rnnlab.report.mathsvg import MathRenderer
    from rnnlab.report.render import Figures, make_environment

    svg = tmp_path / "fig.svg"
    svg.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    registered = {"q2h_addition": str(svg), "q2i_timing": str(svg)}
    env = make_environment(REPO / "templates", Figures(registered, tmp_path), MathRenderer())
    html = {
        name: env.get_template(f"sections/{name}.html.j2").render(r={"theory": theory_summary})
        for name in ("q1", "q2_c", "q2_h", "q2_i")
    }
    total = theory_summary["q1"]["base"]["totals"]["params"]
    assert persian.num(total, 0, thousands=True) in html["q1"]
    assert 'class="question"' in html["q1"] and 'class="question"' in html["q2_c"]
    assert html["q1"].count("<h3") == 4  # one per Q1-c change
    p = theory_summary["forward"]["steps"]["tanh"]["softmax"][0]
    assert persian.pct(p, 1) in html["q2_c"]
    rnn_params = theory_summary["addition"]["models"]["rnn"]["params"]
    assert persian.num(rnn_params, 0, thousands=True) in html["q2_h"]
    hardware = theory_summary["parallelism"]["by_device"]["cpu-1t"]["hardware"]
    assert hardware["cpu_model"] in html["q2_i"]
    for part in html.values():
        assert "None" not in part and "nan" not in part


@pytest.mark.slow
def test_smoke_run_builds_the_summary(tmp_path):
    proc = _snakemake(tmp_path, "results/theory/summary.json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    built = json.loads((tmp_path / "results" / "theory" / "summary.json").read_text())
    assert built["q1"]["base"]["totals"]["params"] == 1_653_450
    assert (tmp_path / "benchmarks" / "theory_addition.tsv").exists()
    again = _snakemake(tmp_path, "-n", "results/theory/summary.json")
    assert "Nothing to be done" in again.stdout + again.stderr
