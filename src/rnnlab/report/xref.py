"""Cross-reference claims: the Q2-Q4 prose quoting Q6/Q7 results, computed from results.json.

The theory chapters cite the experiments (Q2-b the Q6-C saturation share, Q2-d/Q3/Q4
the Q6-B gradient horizons, Q2-g/Q3 the Q7-a model comparisons, Q4 the Q6-A accuracy
at the longest length). Each such citation is an ``xref.*`` claim built here by
``report_collect`` after the parts are merged, so the number a theory sentence prints
is read from the same ``results.json`` field the cited chapter prints (``refs`` tie
them, and ``check_claims`` refuses a report where they differ). A comparison the
cited chapter already decided is quoted with that chapter's own verdict
(``claims.quote(verdict_of=...)``); only when the chapter has no such claim is it
decided here, from the per-seed numbers, by the same rules.

A claim whose sources are absent (a partial run) is left out; templates guard the
sentence with ``has_claim(id)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rnnlab import claims as cl

MODELS_Q6 = ("rnn", "lstm")
#: The results.json parts each cross-reference reads (docs/architecture.md's reads table).
SOURCES: dict[str, tuple[str, ...]] = {
    "xref.q6b.horizons": ("q6b",),
    "xref.q2b.saturation": ("q6c",),
    "xref.q2a.length_gain": ("q6a",),
    "xref.q2f.embedding": ("imdb", "q6a"),
    "xref.q6a.lstm_vs_rnn_longest": ("q6a",),
    "xref.q4.longest": ("q6a",),
    "xref.q2g.bilstm_vs_lstm": ("q7",),
    "xref.q3b.gru_vs_lstm": ("q7",),
}
#: Where a Q6-B curve summary lives, newest layout first (arithmetic = the batch
#: gradient itself, geometric = the typical example); the first that resolves is used.
Q6B_CURVES = {
    "arithmetic": (
        "/q6b/models/{m}/trained/curves/h/arithmetic",
        "/q6b/models/{m}/trained/curves/h/mean",
    ),
    "geometric": (
        "/q6b/models/{m}/trained/curves/h/geometric",
        "/q6b/models/{m}/trained/curves/h",
    ),
}
CURVE_FIELDS = ("horizon_steps", "horizon_censored", "ratio_first_last", "factor_per_step")
#: Q7-a comparisons quoted by the theory chapters: xref id -> (Q7 claim id, order, numbers).
Q7_QUOTES = {
    "xref.q2g.bilstm_vs_lstm": ("q7.a.bilstm_vs_lstm", ("bilstm", "lstm"), "bilstm_vs_lstm"),
    "xref.q3b.gru_vs_lstm": ("q7.a.gru_vs_lstm", ("gru", "lstm"), "gru_vs_lstm"),
}


def _has(results: Mapping[str, Any], pointer: str) -> bool:
    try:
        cl.resolve_pointer(results, pointer)
    except (KeyError, IndexError, ValueError, TypeError):
        return False
    return True


def _first(results: Mapping[str, Any], candidates: tuple[str, ...], model: str) -> str | None:
    for template in candidates:
        pointer = template.format(m=model)
        if _has(results, pointer + "/horizon_steps"):
            return pointer
    return None


def gradient_horizons(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """Q6-B horizons and first/last ratios of both models, both batch means (Q2-d, Q3, Q4)."""
    pointers = {"length": "/q6b/length", "threshold": "/q6b/horizon_threshold"}
    for model in MODELS_Q6:
        for measure, candidates in Q6B_CURVES.items():
            base = _first(results, candidates, model)
            if base is None:
                return None
            for field in CURVE_FIELDS:
                if _has(results, f"{base}/{field}"):
                    pointers[f"{model}_{measure}_{field}"] = f"{base}/{field}"
    if not all(_has(results, p) for p in pointers.values()):
        return None
    if _has(results, "/q6b/ranking/longer_memory"):
        pointers["verdict"] = "/q6b/ranking/longer_memory"
    return cl.quote("xref.q6b.horizons", results, pointers)


def saturation(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """The Q6-C saturation numbers Q2-b quotes: the same late-step fields Q6-C prints."""
    base = "/q6c/models/rnn/h"
    pointers = {
        "mean_over_bound": f"{base}/late_mean_over_bound",
        "saturated_share": f"{base}/late_saturated_share",
        "level": "/q6c/saturation_level",
    }
    if not all(_has(results, p) for p in pointers.values()):
        return None
    return cl.quote("xref.q2b.saturation", results, pointers)


def _per_seed(runs: list[dict[str, Any]], model: str, length: int) -> dict[int, float]:
    return {
        int(r.get("seed", 0)): float(r["test_acc"])
        for r in runs
        if r.get("model") == model and r.get("length") == length
    }


def length_gain(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """Q2-b: did the RNN gain less than the LSTM from longer input (Q6-A), over seeds.

    Each seed's gain is its test accuracy at the last length minus the first; Welch
    over seeds decides (one seed: indistinguishable, spread unknown). The printed
    changes are the Q6-A chapter's own ``trend`` fields.
    """
    if not (_has(results, "/q6a/runs") and _has(results, "/q6a/trend/rnn/change")):
        return None
    trend = results["q6a"]["trend"]
    first, last = trend["rnn"]["first_length"], trend["rnn"]["last_length"]
    gains = {}
    for model in MODELS_Q6:
        start = _per_seed(results["q6a"]["runs"], model, first)
        end = _per_seed(results["q6a"]["runs"], model, last)
        gains[model] = [end[s] - start[s] for s in sorted(set(start) & set(end))]
        if not gains[model] or model not in trend:
            return None
    claim = cl.compare_seeds(
        "xref.q2a.length_gain", gains["rnn"], gains["lstm"], higher_is_better=True,
        names=("rnn", "lstm"),
    )  # fmt: skip
    quoted = {
        "first_length": "/q6a/trend/rnn/first_length",
        "last_length": "/q6a/trend/rnn/last_length",
        "rnn_change": "/q6a/trend/rnn/change",
        "lstm_change": "/q6a/trend/lstm/change",
    }
    for name, pointer in quoted.items():
        claim["evidence"][name] = cl.resolve_pointer(results, pointer)
    claim["refs"] = quoted
    return claim


def embedding(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """Q2-f: the Q6 vocabulary, embedding width and the embedding table's size."""
    pointers = {"vocab_size": "/imdb/vocab_size", "embed_dim": "/q6a/hyper/embed_dim"}
    if not all(_has(results, p) for p in pointers.values()):
        return None
    claim = cl.quote("xref.q2f.embedding", results, pointers)
    claim["evidence"]["embedding_params"] = int(
        claim["evidence"]["vocab_size"] * claim["evidence"]["embed_dim"]
    )
    return claim


def _chapter_comparison(
    results: Mapping[str, Any], part: str, names: set[str], **match: Any
) -> str | None:
    """Id of a claim of ``part`` comparing exactly ``names`` (and matching ``match``)."""
    found = []
    for claim_id, claim in sorted(results.get("claims", {}).get(part, {}).items()):
        ev_names = claim.get("evidence", {}).get("names")
        if not ev_names or set(ev_names) != names:
            continue
        if all(claim.get(k, claim.get("evidence", {}).get(k)) == v for k, v in match.items()):
            found.append((claim.get("kind") != "mcnemar", claim_id))
    return min(found)[1] if found else None


def longest_length(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Q4: LSTM vs Simple RNN at the longest Q6-A length, as the Q6-A chapter decided it.

    The chapter's own claim for that length (McNemar preferred) is quoted; without
    one, the comparison is decided here over seeds and quoted from there.
    """
    if not _has(results, "/q6a/comparison/0/length"):
        return []
    rows = results["q6a"]["comparison"]
    row = len(rows) - 1
    longest = rows[row]["length"]
    pointers = {
        "length": f"/q6a/comparison/{row}/length",
        "lstm": f"/q6a/comparison/{row}/lstm",
        "rnn": f"/q6a/comparison/{row}/rnn",
    }
    out: list[dict[str, Any]] = []
    source = _chapter_comparison(results, "q6a", set(MODELS_Q6), length=longest)
    view = results
    if source is None:
        runs = results["q6a"].get("runs", [])
        lstm, rnn = _per_seed(runs, "lstm", longest), _per_seed(runs, "rnn", longest)
        if not lstm or not rnn:
            return []
        source = "xref.q6a.lstm_vs_rnn_longest"
        out.append(
            cl.compare_seeds(
                source,
                list(lstm.values()),
                list(rnn.values()),
                higher_is_better=True,
                names=("lstm", "rnn"),
                length=longest,
            )  # fmt: skip
        )
        view = {**results, "claims": {**results.get("claims", {}), "xref": {source: out[0]}}}
    out.append(
        cl.quote("xref.q4.longest", view, pointers, verdict_of=source, order=("lstm", "rnn"))
    )
    return out


def q7_comparisons(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Q2-g and Q3-b: the Q7-a verdicts (BiLSTM vs LSTM, GRU vs LSTM) and parameter ratios."""
    out = []
    for xref_id, (source, order, numbers) in Q7_QUOTES.items():
        claim_id = source if cl.find_claim(results, source) else None
        if claim_id is None:
            claim_id = _chapter_comparison(results, "q7", set(order))
        ratio = f"/q7/a/{numbers}/param_ratio"
        if claim_id is None or not _has(results, ratio):
            continue
        out.append(
            cl.quote(xref_id, results, {"param_ratio": ratio}, verdict_of=claim_id, order=order)
        )
    return out


BUILDERS: tuple[Callable[[Mapping[str, Any]], Any], ...] = (
    gradient_horizons,
    saturation,
    length_gain,
    embedding,
    longest_length,
    q7_comparisons,
)


def claims(results: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Every cross-reference claim the merged results support, keyed by id.

    ``results`` is the merged results.json with the parts' claims already hoisted
    into ``results["claims"]``.
    """
    found: list[dict[str, Any]] = []
    for build in BUILDERS:
        made = build(results)
        if made is None:
            continue
        found.extend(made if isinstance(made, list) else [made])
    unknown = sorted(c["id"] for c in found if c["id"] not in SOURCES)
    if unknown:
        raise cl.ClaimError(f"xref claims without an entry in xref.SOURCES: {unknown}")
    return cl.collect(*found)
