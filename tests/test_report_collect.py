"""report/results.json: merged summaries, a stable part two runs agree on, meta, Jalali date."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from rnnlab.errors import RnnlabError
from rnnlab.report import collect as c


@pytest.fixture
def inputs(tmp_path):
    (tmp_path / "q6.json").write_text(json.dumps({"acc": {"rnn": 0.71, "lstm": 0.85}}))
    (tmp_path / "q1.json").write_text(json.dumps({"params": 12345}))
    (tmp_path / "data.tgz").write_bytes(b"fixture archive")
    bench = tmp_path / "benchmarks" / "train"
    bench.mkdir(parents=True)
    (bench / "lstm_L50.tsv").write_text(
        "s\th:m:s\tmax_rss\tmax_vms\n12.5\t0:00:12\t350.25\t900\n13.5\t0:00:13\t360.0\t900\n"
    )
    (tmp_path / "benchmarks" / "empty.tsv").write_text("s\th:m:s\tmax_rss\n")
    return tmp_path


def run(tmp, today=dt.date(2026, 11, 27)):
    return c.collect(
        {"q6": str(tmp / "q6.json"), "q1": str(tmp / "q1.json")},
        {"imdb": str(tmp / "data.tgz")},
        {"seed": 3, "imdb": {"split_seed": 1}, "sentiment": {"seeds": [0, 1], "lr": 0.1}},
        tmp / "benchmarks",
        tmp,
        today=today,
    )


def test_summaries_and_meta(inputs):
    results = run(inputs)
    assert (
        results["q6"] == {"acc": {"rnn": 0.71, "lstm": 0.85}} and results["q1"]["params"] == 12345
    )
    meta = results["meta"]
    assert meta["seeds"] == {"imdb.split_seed": 1, "seed": 3, "sentiment.seeds": [0, 1]}
    assert meta["data"]["imdb"]["bytes"] == len(b"fixture archive")
    assert len(meta["data"]["imdb"]["sha256"]) == 64
    assert meta["packages"]["torch"] and meta["packages"]["python"]
    bench = meta["volatile"]["benchmarks"]
    assert bench == [
        {
            "job": "train/lstm_L50",
            "stage": "other",
            "seconds": 13.0,
            "cpu_seconds": None,
            "max_rss_mb": 360.0,
        }
    ]
    assert meta["volatile"]["date_jalali"] == "۶ آذر ۱۴۰۵"
    # tmp is no git checkout: recorded as None, not an error.
    assert meta["volatile"]["git"] is None


def test_jobs_are_summed_per_homework_stage(tmp_path):
    rows = {
        "imdb_parse": "9.9\t196.5\t4.8",
        "forecast_windows": "3.0\t500.0\t2.5",
        "sentiment_train/lstm_L50_s0": "100.0\t900.0\t98.0",
        "sentiment_train/lstm_L50_s1": "110.0\t950.5\t101.0",
        "probe_hidden": "4.0\t300.0\tNA",
        "report_pdf": "12.0\t400.0\t11.5",
    }
    for job, values in rows.items():
        tsv = tmp_path / f"{job}.tsv"
        tsv.parent.mkdir(parents=True, exist_ok=True)
        tsv.write_text(f"s\tmax_rss\tcpu_time\n{values}\n")
    timed = c.benchmark_times(tmp_path)
    assert {r["job"]: r["stage"] for r in timed}["forecast_windows"] == "data"
    totals = {row["stage"]: row for row in c.stage_totals(timed)}
    assert list(totals) == ["data", "q6", "q6_probes", "report"]
    assert totals["data"] == {
        "stage": "data", "jobs": 2, "seconds": 12.9, "cpu_seconds": 7.3, "max_rss_mb": 500.0
    }  # fmt: skip
    assert totals["q6"]["cpu_seconds"] == 199.0 and totals["q6"]["max_rss_mb"] == 950.5
    # A job whose CPU time Snakemake could not sample counts as zero, not as an error.
    assert totals["q6_probes"]["cpu_seconds"] == 0


def test_two_runs_agree_outside_volatile(inputs):
    first = run(inputs, today=dt.date(2026, 1, 1))
    (inputs / "benchmarks" / "more.tsv").write_text("s\tmax_rss\n99\t1\n")
    second = run(inputs, today=dt.date(2026, 2, 2))
    assert first != second
    dump = lambda r: json.dumps(c.stable_part(r), sort_keys=True)  # noqa: E731
    assert dump(first) == dump(second)
    assert "volatile" not in c.stable_part(first)["meta"]


def test_bad_inputs_are_clear(inputs):
    with pytest.raises(RnnlabError, match="does not exist; rerun its stage"):
        c.load_summaries({"q7": str(inputs / "missing.json")})
    (inputs / "bad.json").write_text("{not json")
    with pytest.raises(RnnlabError, match="not valid JSON"):
        c.load_summaries({"bad": str(inputs / "bad.json")})
    with pytest.raises(RnnlabError, match="name=path"):
        c.parse_pairs(["q6"], "summary")
    with pytest.raises(RnnlabError, match="identifier"):
        c.parse_pairs(["q6-a=x.json"], "summary")
    with pytest.raises(RnnlabError, match="not 'meta'"):
        c.parse_pairs(["meta=x.json"], "summary")
    with pytest.raises(RnnlabError, match="twice"):
        c.parse_pairs(["a=x.json", "a=y.json"], "summary")


def test_cli_writes_sorted_stable_json(inputs):
    out = inputs / "report" / "results.json"
    cmd = [sys.executable, "-m", "rnnlab.report.collect", "--out", str(out)]
    cmd += ["--summary", f"q6={inputs / 'q6.json'}", "--config", '{"seed": 0}']
    cmd += ["--benchmarks", str(inputs / "benchmarks")]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=inputs, check=False)
    assert done.returncode == 0, done.stderr
    text = out.read_text()
    assert text.index('"meta"') < text.index('"q6"')  # sorted keys
    bad = subprocess.run(
        [*cmd[:5], "--summary", "q7=missing.json", "--config", "{}"],
        capture_output=True,
        text=True,
        cwd=inputs,
        check=False,
    )
    assert bad.returncode == 2 and bad.stderr.startswith("rnnlab error: summary missing.json")


@pytest.mark.parametrize(
    ("gregorian", "jalali"),
    [
        ("2024-03-20", (1403, 1, 1)),  # Nowruz 1403
        ("2025-03-20", (1403, 12, 30)),  # 1403 is a leap year: Esfand has 30 days
        ("2025-03-21", (1404, 1, 1)),
        ("2026-03-20", (1404, 12, 29)),  # 1404 is not
        ("2026-03-21", (1405, 1, 1)),
        ("2024-09-21", (1403, 6, 31)),  # first six months have 31 days
        ("2024-09-22", (1403, 7, 1)),
        ("1979-02-11", (1357, 11, 22)),
        ("2000-01-01", (1378, 10, 11)),
    ],
)
def test_gregorian_to_jalali(gregorian, jalali):
    assert c.gregorian_to_jalali(dt.date.fromisoformat(gregorian)) == jalali
