"""Bad input at the pipeline level: one clear message, and nothing computed is lost."""

from __future__ import annotations

import hashlib

import pytest
import yaml
from conftest import run_snakemake
from fixtures import make_imdb_archive

TARGET = "results/data/imdb/reviews.csv"


def write_config(tmp_path, **imdb):
    config = {"offline_data_dir": str(tmp_path / "no-offline-copies"), "imdb": imdb}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def failing_log(workdir, rule):
    return (workdir / "logs" / f"{rule}.log").read_text()


@pytest.fixture
def archive(tmp_path):
    return make_imdb_archive(tmp_path / "imdb.tar.gz", per_folder=3)


def sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_checksum_mismatch_refuses_and_keeps_earlier_outputs(tmp_path, archive):
    good = write_config(tmp_path, archive=str(archive), sha256=[sha(archive)], expected_counts=None)
    run_snakemake(tmp_path, good, TARGET)
    before = (tmp_path / TARGET).read_bytes()
    # The archive changes under the same name: the new bytes fail verification.
    make_imdb_archive(archive, per_folder=4, seed=1)
    proc = run_snakemake(tmp_path, good, TARGET, check=False)
    assert proc.returncode != 0
    log = failing_log(tmp_path, "imdb_checksum")
    assert "checksum mismatch" in log and sha(archive) in log and "Traceback" not in log
    assert (tmp_path / TARGET).read_bytes() == before


def test_truncated_archive_is_named(tmp_path, archive):
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    config = write_config(
        tmp_path, archive=str(archive), sha256=[sha(archive)], expected_counts=None
    )
    proc = run_snakemake(tmp_path, config, TARGET, check=False)
    assert proc.returncode != 0
    log = failing_log(tmp_path, "imdb_parse")
    assert "truncated" in log and str(archive) in log and "Traceback" not in log


def test_no_archive_and_no_network_names_every_place(tmp_path):
    config = write_config(
        tmp_path, archive=None, url="http://127.0.0.1:9/aclImdb_v1.tar.gz", expected_counts=None
    )
    proc = run_snakemake(tmp_path, config, TARGET, check=False)
    assert proc.returncode != 0
    log = failing_log(tmp_path, "imdb_download")
    assert "no-offline-copies/aclImdb_v1_labeled.tar.gz" in log
    assert "127.0.0.1:9" in log and "imdb.archive" in log
    assert not (tmp_path / "resources" / "aclImdb_v1.tar.gz").exists()


def test_configured_path_that_does_not_exist(tmp_path):
    config = write_config(tmp_path, archive=str(tmp_path / "missing.tar.gz"))
    proc = run_snakemake(tmp_path, config, TARGET, "-n", check=False)
    assert proc.returncode != 0
    assert "imdb.archive is set to" in proc.stderr + proc.stdout


@pytest.mark.parametrize(
    ("value", "key"),
    [({"val_fraction": "ten percent"}, "val_fraction"), ({"truncation": "middle"}, "truncation")],
)
def test_malformed_config_value_names_the_key(tmp_path, archive, value, key):
    config = write_config(tmp_path, archive=str(archive), **value)
    proc = run_snakemake(tmp_path, config, TARGET, "-n", check=False)
    assert proc.returncode != 0
    assert key in proc.stderr + proc.stdout
