"""IMDb loading, cleaning, splitting, vocabulary and encoding on fixture archives."""

from __future__ import annotations

import hashlib
import tarfile

import pandas as pd
import pytest
import torch
from fixtures import make_imdb_archive

from rnnlab.data import imdb
from rnnlab.data.sources import download, verify_sha256
from rnnlab.errors import RnnlabError


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return make_imdb_archive(tmp_path_factory.mktemp("imdb") / "aclImdb_v1.tar.gz", per_folder=6)


def test_parse_reads_only_labeled_reviews(archive):
    table, info = imdb.parse_archive(archive, [sha(archive)], {"train": 12, "test": 12}, 10**6)
    assert len(table) == 24
    assert set(table["split"]) == {"train", "test"}
    assert table.groupby(["split", "label"]).size().tolist() == [6, 6, 6, 6]
    # unsup, *.feat, urls, README and imdb.vocab are ignored, not parsed.
    assert info["ignored_members"] >= 8 and info["read"] == 24
    assert table["key"].is_unique
    pos = table[table["label"] == 1]
    assert pos["rating"].between(7, 10).all()
    assert table[table["label"] == 0]["rating"].between(1, 4).all()


def test_labeled_copy_layout_is_accepted(tmp_path):
    path = make_imdb_archive(tmp_path / "labeled.tar.gz", per_folder=3, original_layout=False)
    table, info = imdb.parse_archive(path, [], None, 10**6)
    assert len(table) == 12 and info["read"] == 12


def test_expected_counts_mismatch_is_a_clear_error(archive):
    with pytest.raises(RnnlabError, match="expected 25000"):
        imdb.parse_archive(archive, [], {"train": 25000, "test": 25000}, 10**6)


def test_checksum_mismatch_names_expected_and_found(archive):
    wrong = "0" * 64
    with pytest.raises(RnnlabError) as err:
        verify_sha256(archive, [wrong], "IMDb archive", "imdb.sha256")
    assert wrong in str(err.value) and sha(archive) in str(err.value)
    assert "imdb.sha256" in str(err.value)


def test_truncated_archive_is_a_clear_error(archive, tmp_path):
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(RnnlabError, match="truncated"):
        imdb.parse_archive(cut, [], None, 10**6)


def test_missing_archive_names_the_config_key(tmp_path):
    with pytest.raises(RnnlabError, match="imdb.archive"):
        imdb.parse_archive(tmp_path / "nowhere.tar.gz", [], None, 10**6)


def test_download_failure_names_every_place_looked(tmp_path):
    with pytest.raises(RnnlabError) as err:
        download(
            "http://127.0.0.1:9/aclImdb_v1.tar.gz",
            tmp_path / "a.tar.gz",
            ["/offline/aclImdb_v1_labeled.tar.gz"],
            "IMDb archive",
            "imdb.archive",
        )
    text = str(err.value)
    assert "/offline/aclImdb_v1_labeled.tar.gz" in text and "127.0.0.1:9" in text
    assert "imdb.archive" in text and not (tmp_path / "a.tar.gz").exists()


def test_bad_review_files_are_skipped_and_counted(tmp_path, capsys):
    path = make_imdb_archive(
        tmp_path / "odd.tar.gz",
        per_folder=2,
        extra_members={
            "aclImdb/train/pos/90_8.txt": b"",
            "aclImdb/train/pos/91_9.txt": b"x" * 5000,
            "aclImdb/train/neg/92_1.txt": b"bad \xff\xfe bytes but a review",
        },
    )
    table, info = imdb.parse_archive(path, [], None, max_review_bytes=4000)
    assert info["skipped_empty"] == 1 and info["skipped_too_large"] == 1
    assert info["invalid_utf8"] == 1
    assert "\ufffd" in table.loc[table["key"] == "train/neg/92", "text"].item()
    assert "90_8.txt" in capsys.readouterr().out


def test_tokenizer_rule():
    text = "It&#39;s GREAT!<br /><br />The <i>best</i> film of the 90's... isn't it?"
    assert imdb.tokenize(text) == [
        "it's",
        "great",
        "!",
        "the",
        "best",
        "film",
        "of",
        "the",
        "90's",
        "isn't",
        "it",
        "?",
    ]


def test_validation_split_is_stratified_seeded_and_from_train_only(archive):
    table, _ = imdb.parse_archive(archive, [], None, 10**6)
    table = pd.concat([table] * 1, ignore_index=True)
    part = imdb.stratified_validation(table, 1 / 3, seed=3)
    assert (part[table["split"] == "test"] == "test").all()
    val = table[part == "val"]
    assert len(val) == 4 and val["label"].sum() == 2
    again = imdb.stratified_validation(table, 1 / 3, seed=3)
    assert part.equals(again)
    # No review in two parts: every key has exactly one part.
    assert table.assign(part=part).groupby("key")["part"].nunique().max() == 1


def test_vocab_uses_train_only_with_specials_first():
    itos = imdb.build_vocab([["b", "a", "a"], ["c", "b", "a"]], min_freq=2, max_size=10)
    assert itos == ["<pad>", "<unk>", "a", "b"]
    assert imdb.build_vocab([["a", "b", "c"]], min_freq=1, max_size=3) == ["<pad>", "<unk>", "a"]


def test_encode_and_clip_head_and_tail():
    itos = ["<pad>", "<unk>", "a", "b", "c"]
    docs = [["a", "b", "c", "a", "b"], ["c", "zzz"]]
    ids, lengths = imdb.encode(docs, itos, max_length=4, truncation="head")
    assert ids.tolist() == [[2, 3, 4, 2], [4, 1, 0, 0]] and lengths.tolist() == [5, 2]
    clipped, n = imdb.clip_to_length(ids, lengths, 3, "head")
    assert clipped.tolist() == [[2, 3, 4], [4, 1, 0]] and n.tolist() == [3, 2]
    ids_t, lengths_t = imdb.encode(docs, itos, max_length=4, truncation="tail")
    assert ids_t.tolist() == [[3, 4, 2, 3], [4, 1, 0, 0]]
    clipped, n = imdb.clip_to_length(ids_t, lengths_t, 3, "tail")
    assert clipped.tolist() == [[4, 2, 3], [4, 1, 0]] and n.tolist() == [3, 2]
    assert clipped.dtype == torch.int64


def test_length_stats_share_truncated():
    table = pd.DataFrame({"part": ["train"] * 4, "n_tokens": [10, 20, 30, 40]})
    stats = imdb.length_stats(table, [25])
    assert stats.loc[0, "truncated_at_25"] == 0.5 and stats.loc[0, "median"] == 25


def test_cli_error_is_one_line_without_traceback(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not a tar")
    (tmp_path / "archive.sha256").write_text("0" * 64 + "  bad.tar.gz\n")
    (tmp_path / "archive.sha256").write_text("0" * 64 + "  bad.tar.gz\n")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "rnnlab.data.imdb",
            "parse",
            "--archive",
            str(bad),
            "--checksum",
            str(tmp_path / "archive.sha256"),
            "--reviews",
            str(tmp_path / "r.csv"),
            "--report",
            str(tmp_path / "r.json"),
            "--params",
            '{"sha256": [], "expected_counts": null, "max_review_bytes": 1000}',
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "rnnlab error:" in proc.stderr
    assert not (tmp_path / "r.csv").exists()


def test_fixture_is_a_real_gzip_tar(archive):
    with tarfile.open(archive) as tar:
        assert any(n.endswith("/train/unsup/0_0.txt") for n in tar.getnames())
