"""Prepared data too small to use: one clear error in the data job, naming the config key."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pandas as pd
import pytest
from fixtures import write_power_file

from rnnlab.data import imdb, power
from rnnlab.errors import RnnlabError
from rnnlab.runtime import save_npz, write_json


def tokens_csv(path: Path, per_label: dict[str, int]) -> Path:
    """A tokens.csv with `per_label[split]` reviews of each label."""
    rows = []
    for split, n in per_label.items():
        for label in (0, 1):
            for i in range(n):
                rows.append({"key": f"{split}_{label}_{i}", "split": split, "label": label,
                             "rating": 8 if label else 2, "n_tokens": 2,
                             "tokens": f"word{i} {'good' if label else 'bad'}"})  # fmt: skip
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def run_imdb(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnnlab.data.imdb", *args], capture_output=True, text=True
    )


def test_a_split_without_training_reviews_stops_in_the_split_job(tmp_path):
    """A partial tokens.csv (only test rows survived) gave 0 training reviews downstream."""
    tokens = tokens_csv(tmp_path / "tokens.csv", {"test": 3})
    params = json.dumps({"val_fraction": 0.1, "split_seed": 0})
    proc = run_imdb("split", "--tokens", str(tokens), "--splits", str(tmp_path / "s.csv"),
                    "--params", params)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "train has 0 positive and 0 negative reviews" in proc.stderr
    assert "imdb.val_fraction" in proc.stderr and "imdb.archive" in proc.stderr
    assert not (tmp_path / "s.csv").exists()


def test_a_validation_fraction_that_empties_a_part_names_the_key(tmp_path):
    tokens = tokens_csv(tmp_path / "tokens.csv", {"train": 4, "test": 2})
    with pytest.raises(RnnlabError, match=r"train has 0 .*lower `imdb.val_fraction`"):
        imdb.cmd_split(
            argparse_ns(tokens=tokens, splits=tmp_path / "s.csv"),
            {"val_fraction": 0.99, "split_seed": 0},
        )
    with pytest.raises(RnnlabError, match=r"val has 0 .*raise `imdb.val_fraction`"):
        imdb.cmd_split(
            argparse_ns(tokens=tokens, splits=tmp_path / "s.csv"),
            {"val_fraction": 0.01, "split_seed": 0},
        )


def argparse_ns(**kw):
    import argparse

    return argparse.Namespace(**{k: str(v) for k, v in kw.items()})


def test_a_vocabulary_of_only_pad_and_unk_names_the_key(tmp_path):
    tokens = tokens_csv(tmp_path / "tokens.csv", {"train": 10, "test": 2})
    splits = tmp_path / "splits.csv"
    imdb.cmd_split(argparse_ns(tokens=tokens, splits=splits), {"val_fraction": 0.2,
                                                               "split_seed": 0})  # fmt: skip
    vocab = tmp_path / "vocab.json"
    with pytest.raises(RnnlabError, match="imdb.vocab_min_freq") as err:
        imdb.cmd_vocab(argparse_ns(tokens=tokens, splits=splits, vocab=vocab),
                       {"min_freq": 1000, "max_size": 500})  # fmt: skip
    assert "2 ids" in str(err.value) and not vocab.exists()
    with pytest.raises(RnnlabError, match="imdb.vocab_max_size"):
        imdb.cmd_vocab(argparse_ns(tokens=tokens, splits=splits, vocab=vocab),
                       {"min_freq": 1, "max_size": 2})  # fmt: skip
    # encode refuses a 2-id vocabulary left by an older run as well.
    vocab.write_text(json.dumps({"itos": ["<pad>", "<unk>"], "min_freq": 1, "max_size": 2}))
    with pytest.raises(RnnlabError, match="imdb.vocab_min_freq"):
        imdb.cmd_encode(
            argparse_ns(tokens=tokens, splits=splits, vocab=vocab, encoded=tmp_path / "e.pt"),
            {"max_length": 8, "truncation": "head"},
        )


def one_class_archive(path: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for split in ("train", "test"):
            for i in range(3):
                data = f"A fine film number {i}.".encode()
                info = tarfile.TarInfo(f"aclImdb/{split}/pos/{i}_9.txt")
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return path


def test_an_archive_with_one_class_is_refused_without_expected_counts(tmp_path):
    archive = one_class_archive(tmp_path / "pos-only.tar.gz")
    with pytest.raises(RnnlabError, match=r"3 positive and 0 negative.*`imdb.archive`"):
        imdb.parse_archive(archive, None, None, 10**6)


POWER_CFG = {"resolution_minutes": 10, "min_coverage": 0.5, "max_gap_steps": 2,
             "split_fractions": {"train": 0.7, "val": 0.15, "test": 0.15},
             "target": "Global_active_power"}  # fmt: skip


def test_an_empty_power_split_stops_the_prepare_job(tmp_path):
    path = tmp_path / "p.txt.gz"
    sha = write_power_file(path, minutes=3000, missing=((1200, 1260),))
    fractions = {"train": 0.996, "val": 0.002, "test": 0.002}
    cfg = power.PrepConfig.from_dict(POWER_CFG | {"sha256": [sha], "split_fractions": fractions})
    with pytest.raises(RnnlabError) as err:
        power.prepare(path, cfg)
    text = str(err.value)
    assert "val (0 steps), test (1 steps)" in text and "power.split_fractions" in text


def test_a_window_longer_than_a_split_is_reported_once_before_training(tmp_path):
    """Each of the 14 training jobs used to stop with this; now one cheap job does."""
    path = tmp_path / "p.txt.gz"
    sha = write_power_file(path, minutes=3000, missing=((1200, 1260),))
    arrays, report = power.prepare(path, power.PrepConfig.from_dict(POWER_CFG | {"sha256": [sha]}))
    series_path, report_path = tmp_path / "series.npz", tmp_path / "prep.json"
    save_npz(series_path, **arrays)
    write_json(report_path, report)
    # 300 steps: val and test hold 45 each, too few for a 60-step window.
    command = [sys.executable, "-m", "rnnlab.data.power", "windows", "--series", str(series_path),
               "--report", str(report_path), "--out", str(tmp_path / "windows.json"),
               "--lengths"]  # fmt: skip
    proc = subprocess.run([*command, "6", "60"], capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "val at length 60, test at length 6, test at length 60" in proc.stderr
    assert "forecast.lengths" in proc.stderr and proc.stderr.count("\n") == 1
    assert not (tmp_path / "windows.json").exists()
    ok = subprocess.run([*command, "6", "30"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    counts = json.loads((tmp_path / "windows.json").read_text())
    assert set(counts) == {"train", "val", "test"} and counts["test"]["6"] == counts["test"]["30"]
