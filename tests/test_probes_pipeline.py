"""The probe rules inside the real workflow (smoke config, fixture archives)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import yaml
from conftest import run_snakemake

PROBE_RULES = {"probe_gradients", "probe_gradients_figure", "probe_hidden", "probe_hidden_figures"}


def test_probe_outputs_on_the_smoke_run(smoke_run: Path) -> None:
    config = yaml.safe_load((smoke_run / "smoke-config.yaml").read_text())
    length = config["probes"]["length"]
    gradients = smoke_run / "results" / "sentiment" / "gradients"
    summary = json.loads((gradients / "summary.json").read_text())
    assert summary["length"] == length and set(summary["models"]) == {"rnn", "lstm"}
    steps = pd.read_csv(gradients / "steps.csv")
    assert steps["step"].max() == length and (steps["mean"] > 0).all()
    hidden = smoke_run / "results" / "sentiment" / "hidden"
    reviews = pd.read_csv(hidden / "reviews.csv")
    assert len(reviews) == 10 and reviews["label"].sum() == 5
    for figure in (
        gradients / "gradient_norms.svg",
        hidden / "hidden_norms.svg",
        hidden / "cell_norms.svg",
        hidden / "class_means.svg",
    ):
        assert figure.stat().st_size > 1000, figure
    for rule in PROBE_RULES:
        assert (smoke_run / "logs" / f"{rule}.log").exists(), rule
    assert (smoke_run / "benchmarks" / "probe_gradients.tsv").exists()


def _planned_rules(workdir: Path, configfile: Path) -> set[str]:
    proc = run_snakemake(workdir, configfile, "-n", "--rerun-triggers", "mtime", "params")
    return set(re.findall(r"^(?:local)?rule (\w+):", proc.stdout + proc.stderr, flags=re.M))


def test_editing_a_probe_setting_reruns_only_that_probe(smoke_run: Path, tmp_path: Path) -> None:
    config = yaml.safe_load((smoke_run / "smoke-config.yaml").read_text())
    config["probes"]["hidden"]["seed"] = config["probes"]["hidden"].get("seed", 0) + 1
    edited = tmp_path / "edited.yaml"
    edited.write_text(yaml.safe_dump(config))
    _assert_only(_planned_rules(smoke_run, edited), {"probe_hidden", "probe_hidden_figures"})

    config = yaml.safe_load((smoke_run / "smoke-config.yaml").read_text())
    config["probes"]["gradients"]["horizon_threshold"] = 0.01
    edited.write_text(yaml.safe_dump(config))
    _assert_only(_planned_rules(smoke_run, edited), {"probe_gradients", "probe_gradients_figure"})


def _assert_only(planned: set[str], expected: set[str]) -> None:
    """Exactly `expected` among the probe rules, and nothing upstream of them.

    The report rules downstream of the summaries rerun too, rightly; they are not
    checked here.
    """
    assert planned & PROBE_RULES == expected
    upstream = {r for r in planned if r.startswith(("imdb_", "sentiment_", "forecast_", "power_"))}
    assert not upstream, upstream


def test_probing_an_untrained_length_is_a_clear_error(smoke_run: Path, tmp_path: Path) -> None:
    config = yaml.safe_load((smoke_run / "smoke-config.yaml").read_text())
    config["probes"]["length"] = 7
    edited = tmp_path / "bad.yaml"
    edited.write_text(yaml.safe_dump(config))
    proc = run_snakemake(smoke_run, edited, "-n", check=False)
    assert proc.returncode != 0
    assert (
        "probes.length=7 is not one of the trained sentiment lengths" in proc.stdout + proc.stderr
    )
