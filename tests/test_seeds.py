"""Seeds at scale: another training seed is a set of new, independent jobs.

In a copy of the finished smoke run, the config gains a second seed. Only the new
seed's trainings and what reads them (summary, figure, report) may run; the
first seed's runs are reused untouched, and the report shows mean and spread.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import planned_jobs, run_snakemake

# Q6-B probes every training seed, so it reruns too; Q6-C reads the first seed only.
DOWNSTREAM = {"sentiment_aggregate", "sentiment_figure", "probe_gradients",
              "probe_gradients_figure", "report_collect", "report_html", "report_pdf"}  # fmt: skip


@pytest.mark.slow
def test_a_second_seed_trains_only_its_runs_and_the_report_shows_the_spread(
    smoke_run: Path, tmp_path: Path
) -> None:
    work = tmp_path / "seeds"
    shutil.copytree(smoke_run, work, symlinks=True)
    config = yaml.safe_load((work / "smoke-config.yaml").read_text())
    first = config.get("seed", 0)
    config["sentiment"]["seeds"] = [first, first + 1]
    configfile = work / "seeds-config.yaml"
    configfile.write_text(yaml.safe_dump(config))
    models = config["sentiment"].get("models", ["rnn", "lstm"])
    lengths = config["sentiment"]["lengths"]
    runs = work / "results" / "sentiment" / "runs"
    before = {p.name: p.read_bytes() for p in runs.glob(f"*_s{first}/metrics.json")}

    jobs = planned_jobs(work, configfile)
    assert jobs.pop("sentiment_train") == len(models) * len(lengths)
    assert set(jobs) == DOWNSTREAM  # Q6-C, theory, Q7: untouched

    run_snakemake(work, configfile)
    after = {p.name: p.read_bytes() for p in runs.glob(f"*_s{first}/metrics.json")}
    assert after == before
    q6a = json.loads((work / "report" / "results.json").read_text())["q6a"]
    assert q6a["seeds"] == [first, first + 1] and q6a["n_seeds"] == 2
    assert len(q6a["runs"]) == 2 * len(models) * len(lengths)  # every seed kept
    for points in q6a["points"].values():
        assert all(p["n_seeds"] == 2 and p["test_acc_sd"] >= 0 for p in points)
    claims = json.loads((work / "report" / "results.json").read_text())["claims"]["q6a"]
    assert all(claims[c["claim"]]["reason"] == "welch" for c in q6a["comparison"])
    page = (work / "report" / "build" / "report.html").read_text()
    text = re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))
    assert "انحراف معیار روی ۲ بذر" in text and "نقطه‌های کم‌رنگ: نتیجهٔ هر بذر" in text
    assert "بازهٔ اطمینان ۹۵٪ ولش" in text
    figure = "results/sentiment/accuracy_vs_length.svg"
    assert (work / figure).read_bytes() != (smoke_run / figure).read_bytes()
    (pdf,) = (work / "report").glob("*.pdf")
    assert pdf.stat().st_mtime > (smoke_run / "report" / pdf.name).stat().st_mtime
