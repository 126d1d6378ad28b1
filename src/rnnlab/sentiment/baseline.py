"""Q6-A yardstick: TF-IDF (unigrams + bigrams) + logistic regression on the same reviews.

    python -m rnnlab.sentiment.baseline fit --encoded encoded.pt --tokens tokens.csv \\
        --splits splits.csv --vocab vocab.json --lengths 50 100 200 400 \\
        --out baseline.json --predictions predictions.npz

What it sees. At each length L the baseline reads exactly what the networks read:
the first (or last, as the data was encoded) L ids of `encoded.pt`, cut with
`rnnlab.data.imdb.clip_to_length`, unknown words as the one `<unk>` id. A last
variant, ``full``, reads every token of the review through the same vocabulary
(`tokens.csv`), the usual setting of the published bag-of-words numbers.

How it is fit. For each variant the vectoriser (TF-IDF over id unigrams and
bigrams, sublinear term frequency, terms seen in at least `min_df` training
reviews) is fit on the training part only; one logistic regression per C of
`c_grid` is fit on the training part and the C with the best validation
accuracy is kept (the smaller C on a tie: the stronger penalty). The test split
is scored once, with that C. liblinear with a fixed `random_state`: the same
data give the same numbers on any machine.

Outputs: `baseline.json` (per variant: chosen C, validation accuracy of every C,
test accuracy, feature count, CPU seconds) and `predictions.npz` in test-split
order, the contract of the networks' run directories: ``label`` (int8), and per
variant ``logit_<v>`` (float32, the decision function) and ``correct_<v>``
(bool), where ``<v>`` is ``L50``, ``L100``, ... or ``full``.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from rnnlab.data.imdb import SPLITS, load_encoded
from rnnlab.errors import RnnlabError
from rnnlab.runtime import _atomic_write, cli, write_json

#: Inverse regularisation strengths tried on the validation split.
C_GRID = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)
#: Word n-grams: unigrams and bigrams.
NGRAM_RANGE = (1, 2)
#: A term must occur in at least this many training reviews to become a feature.
MIN_DF = 2
#: Seed of liblinear's coordinate order (its only random choice).
RANDOM_STATE = 0
FULL = "full"


def variant_key(length: int | str) -> str:
    """``L200`` for a length, ``full`` for the whole review."""
    return FULL if length == FULL else f"L{int(length)}"


def id_documents(ids: Any, lengths: Any) -> list[str]:
    """Each row's first `lengths[i]` ids as one space-separated string (the vectoriser's input)."""
    ids = np.asarray(ids)
    lengths = np.asarray(lengths)
    return [" ".join(map(str, row[: int(n)])) for row, n in zip(ids, lengths, strict=True)]


def clipped_documents(data: dict[str, Any], split: str, length: int) -> list[str]:
    """The split's reviews as the length-L networks read them."""
    from rnnlab.data.imdb import clip_to_length

    if length > int(data["max_length"]):
        raise RnnlabError(
            f"baseline length {length} exceeds the stored imdb.max_length={data['max_length']}; "
            "raise imdb.max_length or drop the length."
        )
    part = data[split]
    ids, lengths = clip_to_length(part["ids"], part["lengths"], length, data["truncation"])
    return id_documents(ids.numpy(), lengths.numpy())


def full_documents(
    tokens_csv: str | Path, splits_csv: str | Path, vocab_json: str | Path, data: dict[str, Any]
) -> dict[str, list[str]]:
    """Every token of every review, through the same vocabulary, in encoded.pt's split order."""
    from rnnlab.data.imdb import UNK_ID, _tokens_with_parts

    table = _tokens_with_parts(str(tokens_csv), str(splits_csv))
    itos = json.loads(Path(vocab_json).read_text())["itos"]
    stoi = {tok: i for i, tok in enumerate(itos)}
    out = {}
    for split in SPLITS:
        rows = table[table["part"] == split]
        if rows["key"].tolist() != list(data[split]["keys"]):
            raise RnnlabError(
                f"tokens.csv/splits.csv list the {split} reviews in another order than "
                "encoded.pt; rebuild them together with the IMDb rules."
            )
        out[split] = [
            " ".join(str(stoi.get(tok, UNK_ID)) for tok in text.split()) for text in rows["tokens"]
        ]
    return out


def fit_variant(
    docs: dict[str, list[str]],
    labels: dict[str, np.ndarray],
    c_grid: tuple[float, ...] = C_GRID,
    min_df: int = MIN_DF,
) -> tuple[dict[str, Any], np.ndarray]:
    """Fit on train, choose C on val, score test once: (numbers, test decision values)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    started = time.process_time()
    vectoriser = TfidfVectorizer(
        token_pattern=r"\S+",
        lowercase=False,
        ngram_range=NGRAM_RANGE,
        min_df=min_df,
        sublinear_tf=True,
        dtype=np.float32,
    )
    x_train = vectoriser.fit_transform(docs["train"])
    x_val = vectoriser.transform(docs["val"])
    val_acc: dict[str, float] = {}
    best: tuple[float, float, Any] | None = None
    for c in sorted(c_grid):
        model = LogisticRegression(
            C=c, solver="liblinear", max_iter=1000, random_state=RANDOM_STATE
        )
        model.fit(x_train, labels["train"])
        acc = float((model.predict(x_val) == labels["val"]).mean())
        val_acc[repr(float(c))] = acc
        if best is None or acc > best[1]:  # strict: the smaller C wins a tie
            best = (float(c), acc, model)
    assert best is not None
    chosen_c, best_val, model = best
    logits = model.decision_function(vectoriser.transform(docs["test"])).astype(np.float32)
    correct = (logits > 0).astype(int) == labels["test"]
    numbers = {
        "C": chosen_c,
        "val_acc": best_val,
        "val_acc_by_C": val_acc,
        "test_acc": float(correct.mean()),
        "n_features": int(x_train.shape[1]),
        "cpu_seconds": time.process_time() - started,
    }
    return numbers, logits


def run_baseline(
    encoded: str | Path,
    lengths: list[int],
    full: dict[str, list[str]] | None,
    c_grid: tuple[float, ...] = C_GRID,
    min_df: int = MIN_DF,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Every variant's numbers and the predictions arrays (see the module doc)."""
    started = time.process_time()
    data = load_encoded(encoded)
    labels = {s: np.asarray(data[s]["labels"]).astype(int) for s in SPLITS}
    arrays: dict[str, np.ndarray] = {"label": labels["test"].astype(np.int8)}
    variants: dict[str, Any] = {}
    plan: list[tuple[str, Any]] = [(variant_key(n), n) for n in sorted(lengths)]
    if full is not None:
        plan.append((FULL, None))
    for key, length in plan:
        docs = (
            full if length is None else {s: clipped_documents(data, s, int(length)) for s in SPLITS}
        )
        numbers, logits = fit_variant(docs, labels, c_grid, min_df)  # type: ignore[arg-type]
        numbers["length"] = FULL if length is None else int(length)
        variants[key] = numbers
        arrays[f"logit_{key}"] = logits
        arrays[f"correct_{key}"] = (logits > 0).astype(int) == labels["test"]
        print(
            f"baseline {key}: C={numbers['C']} val {numbers['val_acc']:.4f} "
            f"test {numbers['test_acc']:.4f} ({numbers['n_features']} features, "
            f"{numbers['cpu_seconds']:.1f} CPU-s)",
            flush=True,
        )
    summary = {
        "method": "TF-IDF (unigrams + bigrams of vocabulary ids, sublinear tf) + "
        "logistic regression (liblinear), C chosen on validation",
        "ngram_range": list(NGRAM_RANGE),
        "min_df": min_df,
        "c_grid": [float(c) for c in c_grid],
        "truncation": data["truncation"],
        "n_train": len(labels["train"]),
        "n_val": len(labels["val"]),
        "n_test": len(labels["test"]),
        "variants": variants,
        "cpu_seconds": time.process_time() - started,
    }
    return summary, arrays


def write_predictions(path: str | Path, arrays: dict[str, np.ndarray]) -> None:
    """The arrays as one .npz, atomically."""

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)

    _atomic_write(Path(path), write)


def cmd_fit(args: argparse.Namespace) -> None:
    from rnnlab.runtime import set_threads

    started = time.process_time()
    set_threads(args.threads)
    params = json.loads(args.params)
    c_grid = tuple(float(c) for c in params.get("c_grid", C_GRID))
    min_df = int(params.get("min_df", MIN_DF))
    if not c_grid or min(c_grid) <= 0:
        raise RnnlabError(f"baseline c_grid must hold positive numbers, got {list(c_grid)}.")
    full = None
    if args.tokens or args.splits or args.vocab:
        if not (args.tokens and args.splits and args.vocab):
            raise RnnlabError(
                "the full-text baseline needs --tokens, --splits and --vocab together."
            )
        full = full_documents(args.tokens, args.splits, args.vocab, load_encoded(args.encoded))
    summary, arrays = run_baseline(args.encoded, args.lengths, full, c_grid, min_df)
    # The whole job's CPU time, reading and mapping the full text included.
    summary["cpu_seconds_total"] = time.process_time() - started
    write_predictions(args.predictions, arrays)
    write_json(args.out, summary)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnlab.sentiment.baseline", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    fit = sub.add_parser("fit", help="fit and score the baseline at every length")
    fit.add_argument("--encoded", required=True, help="encoded.pt from the imdb_encode rule")
    fit.add_argument("--lengths", nargs="+", type=int, required=True)
    fit.add_argument("--tokens", help="tokens.csv (for the full-text variant)")
    fit.add_argument("--splits", help="splits.csv (for the full-text variant)")
    fit.add_argument("--vocab", help="vocab.json (for the full-text variant)")
    fit.add_argument("--out", required=True, help="baseline.json")
    fit.add_argument("--predictions", required=True, help="predictions.npz")
    fit.add_argument("--threads", type=int, default=1)
    fit.add_argument("--params", default="{}", help="JSON: c_grid, min_df")
    fit.set_defaults(func=cmd_fit)
    args = parser.parse_args(argv)
    args.func(args)
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
