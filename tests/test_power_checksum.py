"""The power archive's own checksum job (`python -m rnnlab.data.power checksum`)."""

from __future__ import annotations

import hashlib
import json

import pytest
from fixtures import make_power_archive

from rnnlab.data import power
from rnnlab.errors import RnnlabError


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return make_power_archive(tmp_path_factory.mktemp("power") / "household")


def test_text_checksum_accepts_the_file(archive):
    path, text_sha = archive
    assert power.verify_archive(path, [text_sha], []) == (text_sha, "text sha256")


def test_archive_checksum_skips_the_text(archive):
    path, _ = archive
    whole = hashlib.sha256(path.read_bytes()).hexdigest()
    assert power.verify_archive(path, ["0" * 64], [whole]) == (whole, "archive sha256")


def test_wrong_archive_names_the_key(archive):
    path, _ = archive
    with pytest.raises(RnnlabError, match="power.sha256"):
        power.verify_archive(path, ["0" * 64], ["1" * 64])


def test_missing_archive_names_the_key(tmp_path):
    with pytest.raises(RnnlabError, match="power.archive"):
        power.verify_archive(tmp_path / "nope.txt.gz", ["0" * 64], [])


def test_cli_writes_the_checksum(archive, tmp_path):
    path, text_sha = archive
    out = tmp_path / "sub" / "archive.sha256"
    params = json.dumps({"sha256": [text_sha], "archive_sha256": []})
    argv = ["checksum", "--archive", str(path), "--out", str(out), "--params", params]
    assert power._main(argv) == 0
    assert out.read_text().startswith(text_sha)
