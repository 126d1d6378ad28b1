"""The grader's comparison: exact where computed, tolerant where trained, timings ignored."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from rnnlab.verify import compare, skip_reason, version_warnings

REFERENCE = {
    "theory": {"q1": {"total_params": 1_707_594, "flops": 1.5e6}},
    "q6a": {
        "runs": [{"model": "lstm", "length": 200, "test_accuracy": 0.871, "train_seconds": 300.0}]
    },
    "meta": {"commit": "abc", "wall_seconds": 1000},
}


def changed(**edits):
    tree = json.loads(json.dumps(REFERENCE))
    for path, value in edits.items():
        node = tree
        keys = path.split("__")
        for key in keys[:-1]:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[keys[-1]] = value
    return tree


def test_identical_trees_match():
    assert compare(REFERENCE, json.loads(json.dumps(REFERENCE))) == []


def test_computed_numbers_must_match_exactly():
    diffs = compare(REFERENCE, changed(theory__q1__flops=1.5e6 + 1))
    assert diffs == ["theory.q1.flops: 1500000.0 -> 1500001.0 (beyond the exact tolerance)"]
    assert compare(REFERENCE, changed(theory__q1__total_params=1_707_595))


def test_trained_metrics_have_a_tolerance():
    assert compare(REFERENCE, changed(q6a__runs__0__test_accuracy=0.88)) == []
    diffs = compare(REFERENCE, changed(q6a__runs__0__test_accuracy=0.5))
    assert len(diffs) == 1 and "q6a.runs[0].test_accuracy" in diffs[0]


def test_meta_and_timings_are_not_compared():
    other = changed(q6a__runs__0__train_seconds=999.0, meta__commit="def")
    assert compare(REFERENCE, other) == []


def test_structure_changes_are_reported():
    other = changed(q6a__runs=[])
    assert compare(REFERENCE, other) == ["q6a.runs: 1 items -> 0 items"]
    assert compare(REFERENCE, {"theory": REFERENCE["theory"], "q6a": REFERENCE["q6a"], "q7": {}})


def test_cli_exit_status_and_diff(tmp_path):
    ref, new = tmp_path / "ref.json", tmp_path / "new.json"
    ref.write_text(json.dumps(REFERENCE))
    new.write_text(json.dumps(changed(theory__q1__total_params=1)))
    run = [sys.executable, "-m", "rnnlab.verify", "--reference", str(ref), "--candidate"]
    bad = subprocess.run([*run, str(new)], capture_output=True, text=True)
    assert bad.returncode == 1 and "theory.q1.total_params: 1707594 -> 1" in bad.stdout
    good = subprocess.run([*run, str(ref)], capture_output=True, text=True)
    assert good.returncode == 0 and "match" in good.stdout
    missing = subprocess.run([*run, str(tmp_path / "none.json")], capture_output=True, text=True)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


# ------------------------------------------------ the committed reference, leaf by leaf
ROOT = Path(__file__).resolve().parents[1]
# Every key of the committed reference that verify skips, on purpose (see rnnlab.verify).
SKIPPED_ON_PURPOSE = {
    "meta",
    # Timings the three-seed reference added (each named in verify.TIMING_KEYS).
    "cpu_seconds",
    "cpu_seconds_training",
    "epoch_time_ratio",
    "gflops_per_s_at_longest",
    "rnn_slowdown_vs_conv",
    "rnn_speedup_at_longest",
    "rnn_time_ratio_longest_shortest",
    "rnn_us_per_step_at_longest",
    "rows_at_longest",
    "total_cpu_seconds",
    "total_train_minutes",
    "train_minutes",
    "train_seconds",
    "total_train_seconds",
    "tokens_per_s",
    "epoch_seconds",
    "epoch_cpu_seconds",
    "time_ratio",
    "fastest",
    "tradeoff",
    "device",
    "devices",
    "skipped_cpu_threads",
    "thread_scaling",
    "hardware",
    "rnn_ms_per_step_at_longest",
    "rnn_slowdown_at_longest",
    "fastest_at_longest",
    "best_ms",
    "median_ms",
    "times_ms",
    "gflops_per_s",
    "conv_ms",
    "matmul_ms",
    "rnn_ms",
}


def leaves(tree, segments=()):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from leaves(value, (*segments, str(key)))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from leaves(value, (*segments, i))
    else:
        yield segments, tree


def display(segments):
    """The path as verify prints it: list indices (ints) in brackets, keys after dots."""
    text = ""
    for seg in segments:
        text += f"[{seg}]" if isinstance(seg, int) else f".{seg}"
    return text.lstrip(".")


def names(segments):
    return tuple(str(seg) for seg in segments)


def perturb(tree):
    """Every number moved far beyond any tolerance; everything else unchanged."""
    if isinstance(tree, dict):
        return {k: perturb(v) for k, v in tree.items()}
    if isinstance(tree, list):
        return [perturb(v) for v in tree]
    if isinstance(tree, bool) or not isinstance(tree, int | float):
        return tree
    if isinstance(tree, int):
        return tree + 1
    return 1.0 if math.isnan(tree) else tree + max(1.0, 2 * abs(tree))


@pytest.fixture(scope="module")
def reference():
    return json.loads((ROOT / "report" / "results.json").read_text(encoding="utf-8"))


def skipped_key(segments):
    """The key whose rule skips this leaf (the last non-index key at or above the rule)."""
    for depth in range(1, len(segments) + 1):
        if skip_reason(segments[:depth]):
            return segments[depth - 1]
    return None


def test_every_reference_number_is_compared_or_listed_as_timing(reference):
    numbers = [
        (seg, v)
        for seg, v in leaves(reference)
        if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    # Claims decided from times carry `machine_dependent` and are skipped whole.
    timed = tuple(
        f"claims.{part}.{cid}."
        for part, group in reference.get("claims", {}).items()
        for cid, claim in group.items()
        if isinstance(claim, dict) and claim.get("machine_dependent") is True
    )
    compared = {
        display(seg)
        for seg, _ in numbers
        if skip_reason(names(seg)) is None and not display(seg).startswith(timed)
    }
    skipped = {skipped_key(names(seg)) for seg, _ in numbers if skip_reason(names(seg))}
    # Nothing is skipped by accident: only keys this test names on purpose.
    assert skipped <= SKIPPED_ON_PURPOSE, skipped - SKIPPED_ON_PURPOSE
    # And every other number really is compared: moving them all reports each one.
    diffs = compare(reference, perturb(reference))
    reported = {line.split(": ", 1)[0] for line in diffs}
    assert reported == compared
    # The values the old `per_s` pattern hid are among them.
    for path in (
        "theory.q1.base.totals.flop_counter_per_sequence",
        "theory.q1.base.layers.layer1.per_step.flops",
        "theory.parallelism.flops_per_step_per_sample",
    ):
        assert path in compared
    assert any(p.endswith("factor_per_step") and p.startswith("q6b.") for p in compared)
    assert any(p.endswith("slope_per_step") and p.startswith("q6c.") for p in compared)


def test_a_changed_q1_flop_total_fails(reference, tmp_path):
    tampered = json.loads(json.dumps(reference))
    tampered["theory"]["q1"]["base"]["totals"]["flop_counter_per_sequence"] = 9999999
    assert compare(reference, tampered) == [
        "theory.q1.base.totals.flop_counter_per_sequence: 4208640 -> 9999999"
    ]
    ref, new = tmp_path / "ref.json", tmp_path / "new.json"
    ref.write_text(json.dumps(reference))
    new.write_text(json.dumps(tampered))
    proc = verify_cli("--reference", str(ref), "--candidate", str(new))
    assert proc.returncode == 1 and "flop_counter_per_sequence" in proc.stdout


def test_new_keys_are_compared_by_default():
    ref = {"claims": {"q7": {"q7.a.x": {"verdict": "a_better", "evidence": {"diff": 0.5}}}}}
    new = json.loads(json.dumps(ref))
    new["claims"]["q7"]["q7.a.x"]["verdict"] = "indistinguishable"
    assert compare(ref, new) == ["claims.q7.q7.a.x.verdict: 'a_better' -> 'indistinguishable'"]
    # Claim evidence is trained: within the trained tolerance.
    new = json.loads(json.dumps(ref))
    new["claims"]["q7"]["q7.a.x"]["evidence"]["diff"] = 0.51
    assert compare(ref, new) == []
    new["claims"]["q7"]["q7.a.x"]["evidence"]["diff"] = 0.9
    assert len(compare(ref, new)) == 1
    # A new per-seed list or section is compared, not skipped.
    assert compare({"q6a": {"per_seed_s": [1.0]}}, {"q6a": {"per_seed_s": [2.0]}})
    assert compare({"baselines": {"flops_per_step": 3}}, {"baselines": {"flops_per_step": 4}})


def test_devices_only_one_machine_has_are_not_a_difference():
    ref = {"theory": {"parallelism": {"by_device": {"cpu-1t": {"rows": [{"flops": 4}]}}}}}
    gpu = json.loads(json.dumps(ref))
    gpu["theory"]["parallelism"]["by_device"]["cuda"] = {"rows": []}
    assert compare(ref, gpu) == []
    gpu["theory"]["parallelism"]["by_device"]["cpu-1t"]["rows"][0]["flops"] = 5
    assert compare(ref, gpu) == ["theory.parallelism.by_device.cpu-1t.rows[0].flops: 4 -> 5"]


def verify_cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "rnnlab.verify", *args], capture_output=True, text=True
    )


def test_bad_input_exits_2_with_one_line(tmp_path):
    ref = tmp_path / "ref.json"
    ref.write_text(json.dumps(REFERENCE))
    cases = {
        "latin1.json": b'{"theory": "\xe9"}',
        "broken.json": b'{"theory": ',
        "list.json": b"[1, 2]",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "folder.json").mkdir()
    for name, words in (
        ("latin1.json", "not UTF-8"),
        ("broken.json", "not valid JSON"),
        ("list.json", "not an object"),
        ("folder.json", "not a file"),
        ("none.json", "does not exist"),
    ):
        proc = verify_cli("--reference", str(ref), "--candidate", str(tmp_path / name))
        assert proc.returncode == 2, (name, proc.stderr)
        assert words in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    bad_ref = verify_cli("--reference", str(tmp_path / "latin1.json"), "--candidate", str(ref))
    assert bad_ref.returncode == 2 and "not UTF-8" in bad_ref.stderr


def test_exit_codes_are_documented():
    import rnnlab.verify

    doc = rnnlab.verify.__doc__
    assert "0  every compared value matches" in doc and "2  bad input" in doc
    help_text = verify_cli("--help").stdout
    assert "0 match, 1 values differ, 2 bad input" in " ".join(help_text.split())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    grading = readme.split("## Reproducibility and grading", 1)[1].split("\n## ", 1)[0]
    assert "exit status" in grading.lower() and "**2** bad input" in grading


def test_other_package_versions_warn_but_do_not_fail(tmp_path):
    ref_tree = changed(meta__packages={"torch": "2.13.0+cpu", "numpy": "2.4.6"})
    new_tree = changed(meta__packages={"torch": "2.14.0", "numpy": "2.4.6"})
    assert version_warnings(ref_tree, new_tree) == ["torch: 2.13.0+cpu -> 2.14.0"]
    ref, new = tmp_path / "ref.json", tmp_path / "new.json"
    ref.write_text(json.dumps(ref_tree))
    new.write_text(json.dumps(new_tree))
    proc = verify_cli("--reference", str(ref), "--candidate", str(new))
    assert proc.returncode == 0, proc.stdout
    assert "warning" in proc.stderr and "torch: 2.13.0+cpu -> 2.14.0" in proc.stderr
