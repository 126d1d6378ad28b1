"""The grader's comparison: exact where computed, tolerant where trained, timings ignored."""

from __future__ import annotations

import json
import subprocess
import sys

from rnnlab.verify import compare

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
