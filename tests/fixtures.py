"""Tiny data archives in the real formats, built by the tests themselves.

The real archives are never read by tests; these builders write the same layout
so the real loading code runs on them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import random
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from rnnlab.data import power

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
    # No name or time in the gzip header: the same arguments give byte-identical archives.
    with (
        open(path, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w") as tar,
    ):
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


def write_power_file(
    path: Path,
    minutes: int = 1440,
    missing: tuple[tuple[int, int], ...] = (),
    start: str = "2006-12-16 17:24:00",
    seed: int = 0,
    form: str = "gz",
) -> str:
    """A synthetic file in the UCI format (CRLF, `;`, d/m/yyyy, `?` rows); returns the text sha256.

    `missing` holds half-open minute ranges written as `?` rows, like the real file
    (whose `?` rows leave the last field empty). `form` is gz, zip or txt.
    """
    rng = np.random.default_rng(seed)
    stamps = pd.date_range(start, periods=minutes, freq="min")
    t = np.arange(minutes)
    daily = 1.0 + 0.8 * np.sin(2 * np.pi * t / 1440.0)
    active = np.clip(daily + 0.1 * rng.standard_normal(minutes), 0.05, None)
    lines = [";".join(power.HEADER)]
    gap = np.zeros(minutes, dtype=bool)
    for a, b in missing:
        gap[a:b] = True
    for k in range(minutes):
        date = f"{stamps[k].day}/{stamps[k].month}/{stamps[k].year}"
        clock = stamps[k].strftime("%H:%M:%S")
        if gap[k]:
            lines.append(f"{date};{clock};?;?;?;?;?;?;")
            continue
        a = active[k]
        values = [
            a,
            0.1 + 0.05 * rng.random(),
            240 + rng.standard_normal(),
            a * 4.2,
            float(rng.integers(0, 3)),
            float(rng.integers(0, 2)),
            float(rng.integers(0, 18)),
        ]
        lines.append(f"{date};{clock};" + ";".join(f"{v:.3f}" for v in values))
    text = ("\r\n".join(lines) + "\r\n").encode("ascii")
    if form == "gz":
        path.write_bytes(gzip.compress(text, mtime=0))
    elif form == "zip":
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr(power.MEMBER_NAME, text)
    else:
        path.write_bytes(text)
    return hashlib.sha256(text).hexdigest()


def make_power_archive(path: str | Path) -> tuple[Path, str]:
    """The smoke run's power file: 4 days of minutes with one long gap; (path, text sha256)."""
    path = Path(path).with_suffix(".txt.gz")
    path.parent.mkdir(parents=True, exist_ok=True)
    sha = write_power_file(path, minutes=4 * 1440, missing=((2000, 2100),))
    return path, sha
