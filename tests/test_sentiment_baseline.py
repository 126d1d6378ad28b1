"""The TF-IDF + logistic-regression baseline: same ids as the networks, C on validation."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from rnnlab.errors import RnnlabError
from rnnlab.runtime import save_torch
from rnnlab.sentiment import baseline


def encoded(path, n=60, width=30):
    """Reviews whose class shows in a word near the start: id 5 positive, id 6 negative."""
    generator = torch.Generator().manual_seed(0)
    data = {"vocab_size": 40, "pad_id": 0, "unk_id": 1, "max_length": width,
            "truncation": "head"}  # fmt: skip
    for part in ("train", "val", "test"):
        labels = torch.arange(n) % 2
        lengths = torch.randint(8, 60, (n,), generator=generator)
        ids = torch.randint(7, 40, (n, width), generator=generator).int()
        ids[:, 2] = torch.where(labels == 1, 5, 6).int()
        for row, count in enumerate(lengths.tolist()):
            ids[row, min(count, width) :] = 0
        data[part] = {"ids": ids, "lengths": lengths, "labels": labels,
                      "keys": [f"{part}/{i}" for i in range(n)]}  # fmt: skip
    save_torch(path, data)
    return path


def test_documents_are_the_first_l_ids():
    docs = baseline.id_documents(np.array([[4, 5, 6, 0], [7, 8, 0, 0]]), np.array([3, 2]))
    assert docs == ["4 5 6", "7 8"]


def test_baseline_fits_every_length_and_is_deterministic(tmp_path):
    path = encoded(tmp_path / "encoded.pt")
    summary, arrays = baseline.run_baseline(path, [10, 2], None, c_grid=(0.5, 4.0), min_df=1)
    assert list(summary["variants"]) == ["L2", "L10"]
    assert summary["variants"]["L10"]["test_acc"] > 0.9
    # At L=2 the class word (position 3) is cut off: the baseline sees only noise.
    assert summary["variants"]["L2"]["test_acc"] < 0.8
    assert summary["variants"]["L10"]["C"] in (0.5, 4.0)
    assert arrays["label"].dtype == np.int8 and arrays["logit_L10"].dtype == np.float32
    assert arrays["correct_L10"].dtype == bool and arrays["correct_L10"].shape == (60,)
    again = baseline.run_baseline(path, [10, 2], None, c_grid=(0.5, 4.0), min_df=1)
    assert json.dumps(again[0]["variants"]["L10"]["val_acc_by_C"]) == json.dumps(
        summary["variants"]["L10"]["val_acc_by_C"]
    )
    assert np.array_equal(again[1]["logit_L10"], arrays["logit_L10"])


def test_length_beyond_the_encoding_is_refused(tmp_path):
    path = encoded(tmp_path / "encoded.pt")
    with pytest.raises(RnnlabError, match="exceeds the stored"):
        baseline.run_baseline(path, [31], None)
