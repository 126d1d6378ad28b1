"""End to end: `snakemake` on the smoke config builds every target from fixture archives."""

from __future__ import annotations

import json

import torch
from conftest import run_snakemake


def test_data_outputs(smoke_run):
    imdb = smoke_run / "results" / "data" / "imdb"
    encoded = torch.load(imdb / "encoded.pt")
    sizes = {part: len(encoded[part]["keys"]) for part in ("train", "val", "test")}
    assert sizes["train"] + sizes["val"] == 48 and sizes["test"] == 48
    assert encoded["train"]["ids"].shape[1] == encoded["max_length"]
    assert not set(encoded["train"]["keys"]) & set(encoded["val"]["keys"])
    summary = json.loads((imdb / "summary.json").read_text())
    assert summary["parse"]["read"] == 96
    for rule in ("imdb_parse", "imdb_tokenize", "imdb_split", "imdb_vocab", "imdb_encode"):
        assert (smoke_run / "logs" / f"{rule}.log").exists()


def test_second_run_is_a_no_op(smoke_run):
    proc = run_snakemake(smoke_run, smoke_run / "smoke-config.yaml", "-n", "--quiet", "rules")
    assert "Nothing to be done" in proc.stdout + proc.stderr or proc.stdout.strip() == ""
