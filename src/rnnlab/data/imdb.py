"""IMDb Large Movie Review Dataset (Maas et al. 2011): from the tar.gz to encoded id tensors.

Stages (one Snakemake rule each, outputs under results/data/imdb/):

parse     archive -> reviews.csv (split, label, rating, id, key, text). Read straight
          from the tar.gz in one sequential pass; nothing is unpacked to disk. Accepts
          the labeled offline copy and the full original archive: only
          `{train,test}/{pos,neg}/<id>_<rating>.txt` members are read, so
          `train/unsup/`, `*.feat`, urls and READMEs are ignored.
tokenize  reviews.csv -> tokens.csv. The rule, in order: decode HTML entities;
          replace every tag (`<br />`, `<i>`, ...) by a space; lower-case; tokens are
          runs of letters/digits with inner apostrophes kept (`don't`, `90's`), plus
          `!` and `?` as tokens of their own (they carry sentiment); everything else
          (other punctuation, symbols) separates tokens and is dropped.
split     train -> train/val, stratified by label, seeded; test stays test and is
          never used for any choice.
vocab     from the train part only: tokens with count >= min_freq, most frequent
          first (ties alphabetical), at most max_size ids including pad=0 and unk=1.
encode    every review once at `max_length` ids (head or tail truncation, 0-padded)
          plus its true length, so each sequence length's training reads the same
          encoding (`clip_to_length` cuts it to L).
stats     length statistics and the share of reviews truncated at each length.

Bad review files (the documented rule): an empty file, or one larger than
`max_review_bytes`, is skipped and counted; invalid UTF-8 bytes are replaced by
U+FFFD and the file counted. The counts are printed to the rule's log and kept
in parse_report.json. A truncated or non-gzip archive is an error naming the file.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import tarfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from rnnlab.data.sources import require_file, verify_sha256
from rnnlab.errors import RnnlabError
from rnnlab.runtime import cli, save_torch, write_csv, write_json

PAD_ID = 0
UNK_ID = 1
SPECIALS = ["<pad>", "<unk>"]
LABELS = {"neg": 0, "pos": 1}
#: The prepared parts, in order: what `encode` writes into encoded.pt, one dict each.
SPLITS = ("train", "val", "test")
#: The fewest reviews of each label every prepared part (train, val, test) must hold:
#: below it a model cannot be trained, selected or scored.
MIN_REVIEWS_PER_LABEL = 1
#: The fewest real tokens (besides <pad> and <unk>) the vocabulary must hold.
MIN_VOCAB_TOKENS = 1
PART_FIX = {
    "train": "lower `imdb.val_fraction` or use a larger archive (`imdb.archive`)",
    "val": "raise `imdb.val_fraction` or use a larger archive (`imdb.archive`)",
    "test": "use an archive with test reviews of both labels (`imdb.archive`)",
}
MEMBER = re.compile(r"(?:^|/)(train|test)/(pos|neg)/(\d+)_(\d+)\.txt$")
TAG = re.compile(r"<[^>]*>")
TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)*|[!?]")


@dataclass(frozen=True)
class Review:
    split: str
    label: int
    rating: int
    id: int
    text: str

    @property
    def key(self) -> str:
        """Unique review key: ids repeat across pos/neg folders, so the folder is part of it."""
        return f"{self.split}/{'pos' if self.label else 'neg'}/{self.id}"


@dataclass
class ParseReport:
    read: int = 0
    skipped_empty: int = 0
    skipped_too_large: int = 0
    invalid_utf8: int = 0
    ignored_members: int = 0

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def iter_reviews(
    archive: str | Path, max_review_bytes: int, report: ParseReport
) -> Iterator[Review]:
    """Yield every labeled review of the archive in one streaming pass."""
    try:
        with tarfile.open(archive, mode="r|gz") as tar:
            for member in tar:
                match = MEMBER.search(member.name) if member.isfile() else None
                if match is None:
                    report.ignored_members += 1
                    continue
                split, folder, review_id, rating = match.groups()
                if member.size == 0:
                    report.skipped_empty += 1
                    print(f"skipped empty review file {member.name}")
                    continue
                if member.size > max_review_bytes:
                    report.skipped_too_large += 1
                    print(f"skipped {member.name}: {member.size} bytes > max_review_bytes")
                    continue
                handle = tar.extractfile(member)
                assert handle is not None
                raw = handle.read()
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    report.invalid_utf8 += 1
                    print(f"invalid UTF-8 in {member.name}: bad bytes replaced by U+FFFD")
                    text = raw.decode("utf-8", errors="replace")
                report.read += 1
                yield Review(split, LABELS[folder], int(rating), int(review_id), text)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as err:
        raise RnnlabError(
            f"cannot read the IMDb archive {archive}: {err}. It is truncated or not a "
            f"gzip-compressed tar; replace it with a complete copy (or delete a downloaded "
            f"one under resources/ so it is fetched again)."
        ) from None


def check_counts(table: pd.DataFrame, expected: dict[str, int] | None) -> None:
    """The published dataset: 25,000 reviews per split, half positive and half negative.

    Without `expected` (a reduced archive) each split must still hold both labels.
    """
    if not expected:
        for split in ("train", "test"):
            labels = table.loc[table["split"] == split, "label"]
            pos, neg = int((labels == 1).sum()), int((labels == 0).sum())
            if min(pos, neg) < MIN_REVIEWS_PER_LABEL:
                raise RnnlabError(
                    f"the IMDb archive's {split} split has {pos} positive and {neg} negative "
                    f"reviews; a sentiment classifier needs both labels. Point `imdb.archive` "
                    f"at an archive with {split}/pos and {split}/neg reviews "
                    f"(`imdb.expected_counts` is null, so no counts are checked)."
                )
        return
    for split, total in expected.items():
        part = table[table["split"] == split]
        pos = int(part["label"].sum())
        if len(part) != total or pos * 2 != total:
            raise RnnlabError(
                f"the IMDb archive has {len(part)} {split} reviews ({pos} positive); expected "
                f"{total} ({total // 2} positive, {total // 2} negative). The archive is "
                f"incomplete: use a complete copy, or set `imdb.expected_counts: null` for a "
                f"deliberately reduced archive."
            )


def parse_archive(
    archive: str | Path,
    accepted_sha256: list[str] | None,
    expected_counts: dict[str, int] | None,
    max_review_bytes: int,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Parse the archive; `accepted_sha256=None` means the checksum was verified already."""
    require_file(archive, "IMDb archive", "imdb.archive")
    checksum = (
        verify_sha256(archive, accepted_sha256, "IMDb archive", "imdb.sha256")
        if accepted_sha256 is not None
        else None
    )
    report = ParseReport()
    rows = [
        {
            "key": r.key,
            "split": r.split,
            "label": r.label,
            "rating": r.rating,
            "id": r.id,
            "text": r.text,
        }
        for r in iter_reviews(archive, max_review_bytes, report)
    ]
    if not rows:
        raise RnnlabError(
            f"the archive {archive} holds no review files of the form "
            f"aclImdb/{{train,test}}/{{pos,neg}}/<id>_<rating>.txt; point `imdb.archive` at "
            f"the IMDb archive."
        )
    table = pd.DataFrame(rows).sort_values(["split", "label", "id"], kind="stable")
    table = table.reset_index(drop=True)
    check_counts(table, expected_counts)
    info = {"archive_sha256": checksum, **report.as_dict()}
    for split in ("train", "test"):
        part = table[table["split"] == split]
        info[f"{split}_reviews"] = int(len(part))
        info[f"{split}_positive"] = int(part["label"].sum())
    return table, info


def clean_text(text: str) -> str:
    return TAG.sub(" ", html.unescape(text)).lower()


def tokenize(text: str) -> list[str]:
    return TOKEN.findall(clean_text(text))


def stratified_validation(table: pd.DataFrame, fraction: float, seed: int) -> pd.Series:
    """Return the part (train/val/test) of every review; val comes from train only."""
    part = table["split"].copy()
    rng = np.random.default_rng(seed)
    train = table[table["split"] == "train"]
    for label in (0, 1):
        keys = np.sort(train.loc[train["label"] == label, "key"].to_numpy())
        n_val = int(round(fraction * len(keys)))
        chosen = set(rng.permutation(keys)[:n_val])
        part[table["key"].isin(chosen)] = "val"
    return part


def build_vocab(token_lists: list[list[str]], min_freq: int, max_size: int) -> list[str]:
    counts = Counter(tok for tokens in token_lists for tok in tokens)
    kept = sorted(
        (tok for tok, n in counts.items() if n >= min_freq), key=lambda t: (-counts[t], t)
    )
    return SPECIALS + kept[: max(0, max_size - len(SPECIALS))]


def encode(
    token_lists: list[list[str]], itos: list[str], max_length: int, truncation: str
) -> tuple[np.ndarray, np.ndarray]:
    """Ids (int32, 0-padded, left-aligned) at `max_length` and the true token counts."""
    stoi = {tok: i for i, tok in enumerate(itos)}
    ids = np.zeros((len(token_lists), max_length), dtype=np.int32)
    lengths = np.zeros(len(token_lists), dtype=np.int64)
    for row, tokens in enumerate(token_lists):
        lengths[row] = len(tokens)
        kept = tokens[:max_length] if truncation == "head" else tokens[-max_length:]
        ids[row, : len(kept)] = [stoi.get(tok, UNK_ID) for tok in kept]
    return ids, lengths


def clip_to_length(ids: Any, lengths: Any, length: int, truncation: str) -> tuple[Any, Any]:
    """Cut the stored encoding to `length` tokens: the first (head) or last (tail) L real tokens.

    `ids` [N, max_length] and `lengths` [N] (true counts) as stored by `encode`; returns
    LongTensor ids [N, length] left-aligned and 0-padded, and the clipped lengths.
    """
    import torch

    ids = torch.as_tensor(ids).long()
    lengths = torch.as_tensor(lengths).long()
    stored = lengths.clamp(max=ids.shape[1])
    clipped = stored.clamp(max=length)
    if truncation == "head":
        return ids[:, :length].clone(), clipped
    # tail: the stored row holds the last `stored` tokens; keep its last `clipped` ones.
    start = stored - clipped
    cols = (start.unsqueeze(1) + torch.arange(length).unsqueeze(0)).clamp(max=ids.shape[1] - 1)
    out = ids.gather(1, cols)
    out[torch.arange(length).unsqueeze(0) >= clipped.unsqueeze(1)] = PAD_ID
    return out, clipped


def length_stats(table: pd.DataFrame, lengths: list[int]) -> pd.DataFrame:
    """Per part: mean/median/percentiles of token counts and share truncated at each length."""
    rows = []
    for part in SPLITS:
        n = table.loc[table["part"] == part, "n_tokens"].to_numpy()
        if len(n) == 0:
            continue
        row: dict[str, Any] = {
            "part": part,
            "reviews": int(len(n)),
            "mean": float(n.mean()),
            "median": float(np.median(n)),
            "p90": float(np.percentile(n, 90)),
            "p95": float(np.percentile(n, 95)),
            "p99": float(np.percentile(n, 99)),
            "min": int(n.min()),
            "max": int(n.max()),
        }
        for length in lengths:
            row[f"truncated_at_{length}"] = float((n > length).mean())
        rows.append(row)
    return pd.DataFrame(rows)


# ---- command line (one command per rule) -------------------------------------------------


def _read_tokens(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, dtype={"tokens": str})


def cmd_parse(args: argparse.Namespace, params: dict[str, Any]) -> None:
    table, info = parse_archive(
        args.archive, None, params["expected_counts"], params["max_review_bytes"]
    )
    info["archive_sha256"] = Path(args.checksum).read_text().split()[0]
    write_csv(args.reviews, table, index=False)
    write_json(args.report, info)
    print(json.dumps(info, indent=2))


def cmd_tokenize(args: argparse.Namespace, params: dict[str, Any]) -> None:
    table = pd.read_csv(args.reviews, keep_default_na=False)
    tokens = [tokenize(text) for text in table["text"]]
    out = table[["key", "split", "label", "rating"]].copy()
    out["n_tokens"] = [len(t) for t in tokens]
    out["tokens"] = [" ".join(t) for t in tokens]
    write_csv(args.tokens, out, index=False)
    print(f"tokenized {len(out)} reviews, {int(out['n_tokens'].sum())} tokens")


def cmd_split(args: argparse.Namespace, params: dict[str, Any]) -> None:
    table = pd.read_csv(args.tokens, keep_default_na=False, usecols=["key", "split", "label"])
    table["part"] = stratified_validation(table, params["val_fraction"], params["split_seed"])
    check_parts(table)
    write_csv(args.splits, table[["key", "label", "part"]], index=False)
    print(table.groupby(["part", "label"]).size().to_string())


def check_parts(table: pd.DataFrame) -> None:
    """Every prepared part holds at least MIN_REVIEWS_PER_LABEL reviews of each label."""
    problems, fixes = [], []
    for part in SPLITS:
        labels = table.loc[table["part"] == part, "label"]
        pos, neg = int((labels == 1).sum()), int((labels == 0).sum())
        if min(pos, neg) < MIN_REVIEWS_PER_LABEL:
            problems.append(f"{part} has {pos} positive and {neg} negative reviews")
            fixes.append(PART_FIX[part])
    if problems:
        raise RnnlabError(
            f"the prepared IMDb split is too small: {'; '.join(problems)} (each part needs "
            f"at least {MIN_REVIEWS_PER_LABEL} of each label). Fix: {'; '.join(fixes)}."
        )


def check_vocab(itos: list[str], params: dict[str, Any]) -> None:
    if len(itos) - len(SPECIALS) < MIN_VOCAB_TOKENS:
        raise RnnlabError(
            f"the IMDb vocabulary has {len(itos)} ids: only {', '.join(SPECIALS[: len(itos)])}, "
            f"no word (min_freq {params.get('min_freq')}, max_size {params.get('max_size')}). "
            f"Lower `imdb.vocab_min_freq` or raise `imdb.vocab_max_size` above "
            f"{len(SPECIALS)}, or check that the train reviews are not empty (`imdb.archive`)."
        )


def _tokens_with_parts(tokens_csv: str, splits_csv: str) -> pd.DataFrame:
    tokens = _read_tokens(tokens_csv)
    parts = pd.read_csv(splits_csv)[["key", "part"]]
    table = tokens.merge(parts, on="key", how="inner", validate="one_to_one")
    if len(table) != len(tokens):
        raise RnnlabError("splits.csv does not cover every review; rerun the imdb_split rule.")
    return table


def cmd_vocab(args: argparse.Namespace, params: dict[str, Any]) -> None:
    table = _tokens_with_parts(args.tokens, args.splits)
    train = [s.split() for s in table.loc[table["part"] == "train", "tokens"]]
    itos = build_vocab(train, params["min_freq"], params["max_size"])
    check_vocab(itos, params)
    known = set(itos)
    total = sum(len(t) for t in train)
    covered = sum(tok in known for tokens in train for tok in tokens)
    write_json(
        args.vocab,
        {
            "itos": itos,
            "pad_id": PAD_ID,
            "unk_id": UNK_ID,
            "min_freq": params["min_freq"],
            "max_size": params["max_size"],
            "train_tokens": total,
            "train_coverage": covered / total if total else 0.0,
        },
    )
    print(f"vocabulary: {len(itos)} ids; covers {covered}/{total} train tokens")


def cmd_encode(args: argparse.Namespace, params: dict[str, Any]) -> None:
    import torch

    table = _tokens_with_parts(args.tokens, args.splits)
    check_parts(table)
    vocab = json.loads(Path(args.vocab).read_text(encoding="utf-8"))
    itos = vocab["itos"]
    check_vocab(itos, vocab)
    data: dict[str, Any] = {
        "vocab_size": len(itos),
        "pad_id": PAD_ID,
        "unk_id": UNK_ID,
        "max_length": params["max_length"],
        "truncation": params["truncation"],
    }
    for part in SPLITS:
        rows = table[table["part"] == part]
        ids, lengths = encode(
            [s.split() for s in rows["tokens"]], itos, params["max_length"], params["truncation"]
        )
        data[part] = {
            "ids": torch.from_numpy(ids),
            "lengths": torch.from_numpy(lengths),
            "labels": torch.from_numpy(rows["label"].to_numpy(dtype=np.int64)),
            "keys": rows["key"].tolist(),
        }
        print(f"{part}: {len(rows)} reviews encoded at {params['max_length']} ids")
    save_torch(args.encoded, data)


def load_encoded(path: str | Path) -> dict[str, Any]:
    """encoded.pt as `cmd_encode` wrote it; a clear error for a missing or older file."""
    import torch

    path = Path(path)
    if not path.exists():
        raise RnnlabError(f"encoded IMDb data {path} is missing; run the `imdb_encode` rule.")
    data = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(data, dict):
        raise RnnlabError(f"{path} is not an encoded IMDb file; rebuild it with `imdb_encode`.")
    missing = [k for k in (*SPLITS, "vocab_size", "pad_id", "max_length") if k not in data]
    if missing:
        raise RnnlabError(f"{path} lacks {missing}; rebuild it with the `imdb_encode` rule.")
    return data


def cmd_stats(args: argparse.Namespace, params: dict[str, Any]) -> None:
    table = _tokens_with_parts(args.tokens, args.splits)
    vocab = json.loads(Path(args.vocab).read_text())
    parse_info = json.loads(Path(args.parse_report).read_text())
    stats = length_stats(table, params["lengths"])
    write_csv(args.stats_csv, stats, index=False)
    known = set(vocab["itos"])
    unk_rate = {}
    for part in ("val", "test"):
        toks = [tok for s in table.loc[table["part"] == part, "tokens"] for tok in s.split()]
        unk_rate[part] = sum(tok not in known for tok in toks) / len(toks) if toks else 0.0
    summary = {
        "parse": parse_info,
        "parts": {p: int((table["part"] == p).sum()) for p in SPLITS},
        "positive": {p: int(table.loc[table["part"] == p, "label"].sum()) for p in SPLITS},
        "vocab_size": len(vocab["itos"]),
        "vocab_min_freq": vocab["min_freq"],
        "train_coverage": vocab["train_coverage"],
        "unk_rate": unk_rate,
        "lengths": params["lengths"],
        "length_stats": stats.to_dict(orient="records"),
        "val_fraction": params["val_fraction"],
        "truncation": params["truncation"],
    }
    write_json(args.summary, summary)
    print(stats.to_string(index=False))


COMMANDS = {
    "parse": (cmd_parse, ["archive", "checksum", "reviews", "report"]),
    "tokenize": (cmd_tokenize, ["reviews", "tokens"]),
    "split": (cmd_split, ["tokens", "splits"]),
    "vocab": (cmd_vocab, ["tokens", "splits", "vocab"]),
    "encode": (cmd_encode, ["tokens", "splits", "vocab", "encoded"]),
    "stats": (cmd_stats, ["tokens", "splits", "vocab", "parse_report", "stats_csv", "summary"]),
}


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.data.imdb", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, paths) in COMMANDS.items():
        cmd = sub.add_parser(name)
        for path in paths:
            cmd.add_argument(f"--{path.replace('_', '-')}", dest=path, required=True)
        cmd.add_argument("--params", default="{}", help="JSON of the rule's params")
    args = parser.parse_args(argv)
    COMMANDS[args.command][0](args, json.loads(args.params))
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
