"""rnnlab.runtime's file hash and `name=path` parser, the one copy every stage uses."""

from __future__ import annotations

import hashlib

import pytest

from rnnlab.errors import RnnlabError
from rnnlab.runtime import named_paths, sha256_file


def test_sha256_of_a_file_larger_than_one_read(tmp_path):
    data = bytes(range(256)) * 5000  # 1.28 MB: more than one 1-MiB block
    path = tmp_path / "blob.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


def test_named_paths_keep_order_and_split_at_the_first_equals():
    assert list(named_paths(["rnn=a.pt", "lstm=b=c.pt"], "--trained").items()) == [
        ("rnn", "a.pt"),
        ("lstm", "b=c.pt"),
    ]


@pytest.mark.parametrize(
    ("values", "match"),
    [
        (["rnn"], r"--trained expects name=path, got 'rnn'"),
        (["=a.pt"], "expects name=path"),
        (["rnn="], "expects name=path"),
        (["rnn=a.pt", "rnn=b.pt"], r"--trained names 'rnn' twice"),
    ],
)
def test_named_paths_refuse_malformed_values(values, match):
    with pytest.raises(RnnlabError, match=match):
        named_paths(values, "--trained")
