"""Tiny data archives in the real formats, built by the tests themselves.

The real archives are never read by tests; these builders write the same layout
so the real loading code runs on them.
"""

from __future__ import annotations

import io
import random
import tarfile
from pathlib import Path

POSITIVE = ["great", "wonderful", "superb", "loved", "brilliant", "moving", "fun", "best"]
NEGATIVE = ["awful", "boring", "worst", "terrible", "dull", "waste", "hated", "bad"]
NEUTRAL = [
    "the",
    "movie",
    "film",
    "plot",
    "actor",
    "scene",
    "was",
    "and",
    "a",
    "it",
    "story",
    "director",
    "of",
    "this",
    "in",
    "but",
    "music",
    "end",
    "character",
    "time",
]


def review_text(rng: random.Random, positive: bool, n_tokens: int) -> str:
    """A review whose sentiment words sit anywhere in it, with the markup IMDb has."""
    cue = POSITIVE if positive else NEGATIVE
    words = [
        rng.choice(cue) if rng.random() < 0.15 else rng.choice(NEUTRAL) for _ in range(n_tokens)
    ]
    # Real reviews carry <br /> line breaks, entities and punctuation.
    words[n_tokens // 2] += ".<br /><br />"
    words[-1] += "!"
    return "It&#39;s " + " ".join(words)


def _add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def make_imdb_archive(
    path: str | Path,
    per_folder: int = 24,
    seed: int = 0,
    min_tokens: int = 20,
    max_tokens: int = 260,
    original_layout: bool = True,
    extra_members: dict[str, bytes] | None = None,
) -> Path:
    """Write an aclImdb-style tar.gz: {train,test}/{pos,neg}/<id>_<rating>.txt.

    With `original_layout` it also holds what the full original archive has and the
    loader must ignore: train/unsup/, *.feat, urls_*.txt, README, imdb.vocab.
    """
    rng = random.Random(seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "aclImdb/README", b"Large Movie Review Dataset (fixture)\n")
        _add(tar, "aclImdb/imdb.vocab", "\n".join(POSITIVE + NEGATIVE + NEUTRAL).encode())
        for split in ("train", "test"):
            for folder, positive in (("pos", True), ("neg", False)):
                for review_id in range(per_folder):
                    rating = rng.randint(7, 10) if positive else rng.randint(1, 4)
                    n_tokens = rng.randint(min_tokens, max_tokens)
                    text = review_text(rng, positive, n_tokens)
                    _add(tar, f"aclImdb/{split}/{folder}/{review_id}_{rating}.txt", text.encode())
                _add(
                    tar,
                    f"aclImdb/{split}/urls_{folder}.txt",
                    b"http://www.imdb.com/title/tt0000001/\n",
                )
            if original_layout:
                _add(tar, f"aclImdb/{split}/labeledBow.feat", b"0 0:1 1:2\n")
        if original_layout:
            _add(tar, "aclImdb/train/unsup/0_0.txt", b"an unlabeled review")
            _add(tar, "aclImdb/train/unsupBow.feat", b"0:1\n")
        for name, data in (extra_members or {}).items():
            _add(tar, name, data)
    return path
