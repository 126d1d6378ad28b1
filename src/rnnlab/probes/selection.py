"""Which reviews the probes read: a seeded, class-balanced draw among the long-enough ones.

The rule (the same for Q6-B and Q6-C, so it is documented once):

1. eligible = reviews of the split whose TRUE token count (before any
   truncation) is at least `min_tokens`;
2. one `torch.Generator` seeded with `seed` draws a random permutation of the
   eligible positives (in their stored order), then one of the eligible
   negatives; the first `per_class` of each permutation are taken;
3. the result lists the positives, then the negatives, each in stored order.

Nothing is looked at but length and label, so the choice cannot favour reviews
the models get right; the same data and seed give the same reviews anywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from rnnlab.data.imdb import load_encoded
from rnnlab.errors import RnnlabError

CLASS_NAMES = {1: "pos", 0: "neg"}


def select_balanced(
    lengths: torch.Tensor,
    labels: torch.Tensor,
    *,
    min_tokens: int,
    per_class: int,
    seed: int,
    split: str = "given",
) -> torch.Tensor:
    """Row indices of `per_class` positive then `per_class` negative reviews (see module doc)."""
    lengths = torch.as_tensor(lengths).long()
    labels = torch.as_tensor(labels).long()
    if lengths.shape != labels.shape or lengths.dim() != 1:
        raise RnnlabError(
            f"lengths {tuple(lengths.shape)} and labels {tuple(labels.shape)} must be "
            "two vectors of the same length."
        )
    if per_class < 1:
        raise RnnlabError(f"per_class must be at least 1, got {per_class}.")
    generator = torch.Generator().manual_seed(int(seed))
    chosen = []
    for label in (1, 0):
        candidates = torch.nonzero((labels == label) & (lengths >= min_tokens)).flatten()
        if len(candidates) < per_class:
            raise RnnlabError(
                f"the {split} split has only {len(candidates)} {CLASS_NAMES[label]} reviews with "
                f">= {min_tokens} tokens, {per_class} are needed; lower the probe's token "
                "minimum or its count per class in the config."
            )
        draw = torch.randperm(len(candidates), generator=generator)[:per_class]
        chosen.append(candidates[draw].sort().values)
    return torch.cat(chosen)


def select_matched(
    lengths: torch.Tensor,
    labels: torch.Tensor,
    *,
    min_tokens: int,
    per_class: int,
    seed: int,
    cap: int | None = None,
    split: str = "given",
) -> torch.Tensor:
    """`per_class` positives and as many negatives of matched length (Q6-C).

    The rule: (1) eligible = reviews with at least `min_tokens` true tokens; a
    review's length is its true count capped at `cap` (what the probe reads);
    (2) a `torch.Generator` seeded with `seed` draws `per_class` eligible positives
    (a random permutation, first `per_class`); (3) one generator permutation of the
    eligible negatives fixes their order, and each positive, shortest first, takes
    the unused negative nearest to it in length (the earliest in that permuted order
    on a tie). Positives then negatives are returned, each pair at the same index.
    Only length and label are looked at, never the models' outputs; with lengths
    matched pair by pair, a difference between the classes cannot be a difference
    of length.
    """
    lengths = torch.as_tensor(lengths).long()
    labels = torch.as_tensor(labels).long()
    read = lengths.clamp(max=cap) if cap is not None else lengths
    generator = torch.Generator().manual_seed(int(seed))
    pools = {}
    for label in (1, 0):
        candidates = torch.nonzero((labels == label) & (lengths >= min_tokens)).flatten()
        if len(candidates) < per_class:
            raise RnnlabError(
                f"the {split} split has only {len(candidates)} {CLASS_NAMES[label]} reviews with "
                f">= {min_tokens} tokens, {per_class} are needed; lower the probe's token "
                "minimum or its count per class in the config."
            )
        pools[label] = candidates[torch.randperm(len(candidates), generator=generator)]
    positives = pools[1][:per_class]
    positives = positives[torch.argsort(read[positives], stable=True)]
    negatives: list[int] = []
    free = pools[0].tolist()
    for row in positives.tolist():
        gaps = [abs(int(read[row]) - int(read[neg])) for neg in free]
        negatives.append(free.pop(gaps.index(min(gaps))))
    return torch.cat([positives, torch.tensor(negatives, dtype=torch.long)])


def load_split(encoded_path: str | Path, split: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The encoded data dict and one of its splits, with a clear error for a bad file."""
    data = load_encoded(encoded_path)
    if split not in data:
        raise RnnlabError(f"{encoded_path} has no {split!r} split; rebuild it with `imdb_encode`.")
    return data, data[split]
