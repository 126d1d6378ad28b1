"""Claims: every comparison or trend the report states, decided in Python from the evidence.

A claim is data. It has an id (``q7.c.gru_vs_lstm_L120``), a ``kind`` naming the
rule that decides it, a ``verdict`` from the kind's closed set, the ``evidence``
(the numbers it rests on), the ``statistic`` used and the ``threshold`` (named
constants of this module, recorded with the claim). Templates only choose the
wording from the verdict and print the numbers; they never compare.

Kinds and their verdicts:

- ``seeds`` (``compare_seeds``): two sets of per-seed scores. Welch's t interval
  of the mean difference at ``CONFIDENCE``; a winner only when it excludes zero.
  With one seed per side the spread is unknown and the verdict is
  ``indistinguishable`` with ``reason: "single_seed"``.
- ``mcnemar`` (``compare_classifiers``): two classifiers' correctness on the same
  test examples, McNemar's exact test (binomial on the discordant pairs) at ``ALPHA``.
- ``paired_errors`` (``compare_forecasters``): two forecasters' errors on the same
  targets, a paired bootstrap interval of the mean squared-error difference, with
  the Diebold–Mariano statistic recorded beside it.
- ``trend`` (``trend``): a score along an ordered axis (lengths, windows): the
  least-squares slope with its t interval over the per-seed points:
  ``increases`` / ``decreases`` / ``flat``.
- ``threshold`` (``versus_threshold``): one number against a named constant
  (``above`` / ``below``), for statements such as "the gate stays within a narrow band".
- ``pick`` (``pick``): the best of several candidates (its name), or ``tie`` when
  the best is not distinguishable from the runner-up by the kind that compares them.
- ``proportions`` (``compare_proportions``): two success counts out of their totals
  when the per-example pairing is not stored: Fisher's exact test at ``ALPHA``.
- ``quote`` (``quote``): numbers one chapter quotes from another (the Q2-Q4 prose
  citing Q6/Q7). Its verdict is ``quoted``, or the verdict of the chapter's own claim
  it repeats; ``refs`` tie every quoted value to the field it came from, so a quote
  can never drift from the chapter it cites.

``compare_timings`` is ``compare_seeds`` over repeated timings (lower is better),
marked ``machine_dependent``; ``pick_fastest`` builds a pick on it: a pick made from
times says so, and is a ``tie`` when the times are within their own noise.

``recompute(claim)`` decides a stored claim again from its evidence alone;
``check_claims(results)`` walks ``results.json`` and lists every claim whose
stored verdict disagrees with its numbers, or whose ``refs`` (JSON pointers to the
same numbers elsewhere in results.json) point at other values. The renderer
refuses such a report.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

# ---------------------------------------------------------------- named constants
#: Two-sided confidence of every interval a claim rests on.
CONFIDENCE = 0.95
#: Significance level of the paired tests (McNemar, Diebold–Mariano).
ALPHA = 1 - CONFIDENCE
#: Resamples of the paired bootstrap; its generator is seeded from the claim id.
BOOTSTRAP_RESAMPLES = 2000

A_BETTER, B_BETTER, INDISTINGUISHABLE = "a_better", "b_better", "indistinguishable"
INCREASES, DECREASES, FLAT = "increases", "decreases", "flat"
ABOVE, BELOW = "above", "below"
TIE = "tie"
QUOTED = "quoted"
COMPARISON_VERDICTS = (A_BETTER, B_BETTER, INDISTINGUISHABLE)
TREND_VERDICTS = (INCREASES, DECREASES, FLAT)


class ClaimError(ValueError):
    """A claim that cannot be decided from what it was given."""


def _stable_seed(text: str) -> int:
    """A generator seed derived from a claim id (the same on every machine and run)."""
    value = 0
    for char in text.encode("utf-8"):
        value = (value * 131 + char) % (2**31 - 1)
    return value


def _rounded(x: float | None, digits: int = 12) -> float | None:
    if x is None or not math.isfinite(x):
        return x
    return float(round(x, digits))


def _claim(
    claim_id: str,
    kind: str,
    verdict: str,
    statistic: str,
    threshold: Mapping[str, Any],
    evidence: Mapping[str, Any],
    refs: Mapping[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    claim = {
        "id": claim_id,
        "kind": kind,
        "verdict": verdict,
        "statistic": statistic,
        "threshold": dict(threshold),
        "evidence": dict(evidence),
    }
    if refs:
        claim["refs"] = dict(refs)
    claim.update(extra)
    return claim


# ---------------------------------------------------------------- seeds: Welch


def mean_sd_ci(values: Sequence[float]) -> dict[str, Any]:
    """Mean, sample standard deviation and the t interval of the mean at CONFIDENCE.

    With a single value the spread is unknown: ``sd`` and the interval are None.
    """
    from scipy import stats

    x = np.asarray(values, dtype=float)
    if x.size == 0:
        raise ClaimError("no values to summarise")
    mean = float(x.mean())
    if x.size < 2:
        return {"n": 1, "mean": mean, "sd": None, "ci95": None}
    sd = float(x.std(ddof=1))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, x.size - 1)) * sd / math.sqrt(x.size)
    return {"n": int(x.size), "mean": mean, "sd": sd, "ci95": [mean - half, mean + half]}


def _welch(a: np.ndarray, b: np.ndarray) -> tuple[float, list[float] | None, float | None]:
    """Mean difference a − b, its Welch interval and two-sided p (None when undefined)."""
    from scipy import stats

    diff = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return diff, None, None
    va, vb = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
    se = math.sqrt(va + vb)
    if se == 0.0:
        # Identical seeds on each side: the difference is exact.
        return diff, [diff, diff], 0.0 if diff != 0 else 1.0
    dof = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, dof)) * se
    p = float(2 * stats.t.sf(abs(diff) / se, dof))
    return diff, [diff - half, diff + half], p


def _direction(diff_interval: list[float] | None, higher_is_better: bool) -> str:
    if diff_interval is None:
        return INDISTINGUISHABLE
    low, high = diff_interval
    if low > 0:
        return A_BETTER if higher_is_better else B_BETTER
    if high < 0:
        return B_BETTER if higher_is_better else A_BETTER
    return INDISTINGUISHABLE


def compare_seeds(
    claim_id: str,
    a: Sequence[float],
    b: Sequence[float],
    *,
    higher_is_better: bool,
    names: tuple[str, str] = ("a", "b"),
    refs: Mapping[str, str] | None = None,
    statistic: str = "Welch t interval of the mean difference over seeds",
    **extra: Any,
) -> dict[str, Any]:
    """``a`` vs ``b`` over seeds: a winner only if Welch's interval of a − b excludes zero."""
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if xa.size == 0 or xb.size == 0:
        raise ClaimError(f"{claim_id}: both sides need at least one seed")
    diff, interval, p = _welch(xa, xb)
    verdict = _direction(interval, higher_is_better)
    evidence = {
        "a": [float(v) for v in xa],
        "b": [float(v) for v in xb],
        "names": list(names),
        "higher_is_better": higher_is_better,
        "diff": _rounded(diff),
        "ci95": None if interval is None else [_rounded(v) for v in interval],
        "p": _rounded(p),
        "n_seeds": [int(xa.size), int(xb.size)],
    }
    extra.setdefault("reason", "single_seed" if interval is None else "welch")
    return _claim(
        claim_id,
        "seeds",
        verdict,
        statistic,
        {"confidence": CONFIDENCE},
        evidence,
        refs,
        **extra,
    )


def compare_timings(
    claim_id: str,
    times_a: Sequence[float],
    times_b: Sequence[float],
    *,
    names: tuple[str, str] = ("a", "b"),
    refs: Mapping[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Which of two operations is faster, over repeated timings (or per-seed CPU times).

    Lower is better. A winner only when Welch's interval of the mean time difference
    excludes zero; otherwise ``indistinguishable`` (a tie within the timing noise).
    The claim is marked ``machine_dependent``: its text must say so.
    """
    extra.setdefault("reason", "welch_over_repeats")
    return compare_seeds(
        claim_id,
        times_a,
        times_b,
        higher_is_better=False,
        names=names,
        refs=refs,
        statistic="Welch t interval of the mean time difference over repeats",
        machine_dependent=True,
        **extra,
    )


# ---------------------------------------------------------------- McNemar


def mcnemar(correct_a: Sequence[bool], correct_b: Sequence[bool]) -> dict[str, Any]:
    """McNemar's exact test on paired correctness: discordant counts and two-sided p."""
    from scipy import stats

    ca = np.asarray(correct_a, dtype=bool)
    cb = np.asarray(correct_b, dtype=bool)
    if ca.shape != cb.shape:
        raise ClaimError(f"paired predictions differ in size: {ca.shape} vs {cb.shape}")
    only_a = int(np.sum(ca & ~cb))
    only_b = int(np.sum(~ca & cb))
    n = only_a + only_b
    p = 1.0 if n == 0 else float(stats.binomtest(only_a, n, 0.5).pvalue)
    return {"only_a": only_a, "only_b": only_b, "n": int(ca.size), "p": p}


def _mcnemar_verdict(only_a: int, only_b: int, p: float) -> str:
    if p >= ALPHA or only_a == only_b:
        return INDISTINGUISHABLE
    return A_BETTER if only_a > only_b else B_BETTER


def compare_classifiers(
    claim_id: str,
    correct_a: Sequence[bool],
    correct_b: Sequence[bool],
    *,
    names: tuple[str, str] = ("a", "b"),
    refs: Mapping[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Two classifiers on the same test examples: McNemar's exact test at ALPHA."""
    test = mcnemar(correct_a, correct_b)
    evidence = {
        **test,
        "names": list(names),
        "acc_a": float(np.mean(correct_a)) if len(correct_a) else None,
        "acc_b": float(np.mean(correct_b)) if len(correct_b) else None,
    }
    verdict = _mcnemar_verdict(test["only_a"], test["only_b"], test["p"])
    return _claim(
        claim_id,
        "mcnemar",
        verdict,
        "McNemar exact test on the same test examples",
        {"alpha": ALPHA},
        evidence,
        refs,
        **extra,
    )


# ---------------------------------------------------------------- proportions


def _fisher_p(success_a: int, n_a: int, success_b: int, n_b: int) -> float:
    from scipy import stats

    table = [[success_a, n_a - success_a], [success_b, n_b - success_b]]
    return float(stats.fisher_exact(table).pvalue)


def _proportions_verdict(ev: Mapping[str, Any], p: float) -> str:
    rate_a = ev["success_a"] / ev["n_a"]
    rate_b = ev["success_b"] / ev["n_b"]
    if p >= ALPHA or rate_a == rate_b:
        return INDISTINGUISHABLE
    return A_BETTER if rate_a > rate_b else B_BETTER


def compare_proportions(
    claim_id: str,
    success_a: int,
    n_a: int,
    success_b: int,
    n_b: int,
    *,
    names: tuple[str, str] = ("a", "b"),
    refs: Mapping[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Two success rates (higher is better) from counts: Fisher's exact test at ALPHA.

    For accuracies whose per-example correctness was not kept. Treating the two sets
    as independent ignores any pairing, which only makes the test more cautious.
    """
    if min(n_a, n_b) <= 0 or not (0 <= success_a <= n_a and 0 <= success_b <= n_b):
        raise ClaimError(f"{claim_id}: counts out of range ({success_a}/{n_a}, {success_b}/{n_b})")
    evidence = {
        "names": list(names),
        "success_a": int(success_a),
        "n_a": int(n_a),
        "success_b": int(success_b),
        "n_b": int(n_b),
        "rate_a": success_a / n_a,
        "rate_b": success_b / n_b,
    }
    p = _fisher_p(success_a, n_a, success_b, n_b)
    evidence["p"] = p
    return _claim(
        claim_id,
        "proportions",
        _proportions_verdict(evidence, p),
        "Fisher exact test on the two success counts",
        {"alpha": ALPHA},
        evidence,
        refs,
        **extra,
    )


# ---------------------------------------------------------------- quotes


def quote(
    claim_id: str,
    results: Mapping[str, Any],
    pointers: Mapping[str, str],
    *,
    verdict_of: str | None = None,
    order: tuple[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Numbers one chapter quotes from another, each read from its JSON pointer.

    ``pointers`` maps an evidence name to the pointer of the field in ``results``
    (``{"share": "/q6c/models/rnn/h/late_saturated_share"}``); the claim's ``refs``
    keep them tied. A pointer named ``verdict`` makes that field (a string such
    as ``"lstm"``) the quote's verdict.

    With ``verdict_of`` (a claim id in ``results["claims"]``) the quote repeats
    that claim's verdict (``source_verdict``, tied by ``refs``). With ``order``
    (two model names) a comparison verdict is restated for that order, whatever
    order the source claim used: ``a_better`` then means ``order[0]`` is better.
    """
    evidence: dict[str, Any] = {}
    refs: dict[str, str] = {}
    wanted = dict(pointers)
    if verdict_of is not None:
        part = next((k for k, v in results.get("claims", {}).items() if verdict_of in v), None)
        if part is None:
            raise ClaimError(f"{claim_id}: quotes claim {verdict_of!r}, which does not exist")
        wanted["source_verdict"] = f"/claims/{part}/{verdict_of}/verdict"
        if order is not None:
            wanted["names"] = f"/claims/{part}/{verdict_of}/evidence/names"
    for name, pointer in wanted.items():
        try:
            evidence[name] = resolve_pointer(results, pointer)
        except (KeyError, IndexError, ValueError) as err:
            raise ClaimError(f"{claim_id}: {pointer} is not in results.json") from err
        refs[name] = pointer
    if order is not None:
        evidence["order"] = list(order)
    statistic = "quoted from the chapter it cites"
    if verdict_of:
        statistic += f" (verdict of claim {verdict_of})"
    claim = _claim(claim_id, "quote", QUOTED, statistic, {}, evidence, refs, **extra)
    claim["verdict"] = _quote_verdict(claim_id, evidence)
    return claim


def _quote_verdict(claim_id: str, ev: Mapping[str, Any]) -> str:
    if "source_verdict" not in ev:
        return str(ev.get("verdict", QUOTED))
    verdict = str(ev["source_verdict"])
    order = ev.get("order")
    if order is None or verdict not in (A_BETTER, B_BETTER):
        return verdict
    names = list(ev.get("names") or [])
    if names == list(order):
        return verdict
    if names == list(reversed(order)):
        return B_BETTER if verdict == A_BETTER else A_BETTER
    raise ClaimError(f"{claim_id}: source compares {names}, not {list(order)}")


def find_claim(results: Mapping[str, Any], claim_id: str) -> dict[str, Any] | None:
    """The claim with this id in ``results["claims"]`` (any part), or None."""
    for part in results.get("claims", {}).values():
        if claim_id in part:
            return part[claim_id]
    return None


# ---------------------------------------------------------------- forecasters


def diebold_mariano(loss_a: np.ndarray, loss_b: np.ndarray, horizon: int = 1) -> dict[str, Any]:
    """Diebold–Mariano statistic of the loss difference a − b (normal reference).

    The long-run variance uses the autocovariances up to ``horizon − 1`` (one-step
    forecasts: the plain variance).
    """
    from scipy import stats

    d = np.asarray(loss_a, dtype=float) - np.asarray(loss_b, dtype=float)
    n = d.size
    if n < 2:
        return {"dm": None, "p": None}
    mean = d.mean()
    centred = d - mean
    gamma0 = float(np.dot(centred, centred) / n)
    var = gamma0
    for lag in range(1, horizon):
        var += 2 * float(np.dot(centred[lag:], centred[:-lag]) / n)
    if var <= 0:
        return {"dm": None, "p": None}
    dm = float(mean / math.sqrt(var / n))
    return {"dm": dm, "p": float(2 * stats.norm.sf(abs(dm)))}


def paired_bootstrap(
    values: np.ndarray, *, seed: int, resamples: int = BOOTSTRAP_RESAMPLES, block: int = 1
) -> list[float]:
    """Percentile interval of the mean of paired differences at CONFIDENCE.

    ``block`` > 1 resamples contiguous blocks (a moving-block bootstrap), for
    autocorrelated series such as consecutive hourly forecast errors.
    """
    d = np.asarray(values, dtype=float)
    n = d.size
    if n == 0:
        raise ClaimError("no paired differences to resample")
    rng = np.random.default_rng(seed)
    block = max(1, min(int(block), n))
    n_blocks = math.ceil(n / block)
    starts = rng.integers(0, n - block + 1, size=(resamples, n_blocks))
    index = (starts[:, :, None] + np.arange(block)[None, None, :]).reshape(resamples, -1)[:, :n]
    means = d[index].mean(axis=1)
    tail = (1 - CONFIDENCE) / 2
    return [float(np.quantile(means, tail)), float(np.quantile(means, 1 - tail))]


def compare_forecasters(
    claim_id: str,
    errors_a: Sequence[float],
    errors_b: Sequence[float],
    *,
    names: tuple[str, str] = ("a", "b"),
    block: int = 24,
    refs: Mapping[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Two forecasters on the same targets: paired block bootstrap of squared errors.

    Lower error is better. The verdict is decided by the bootstrap interval of
    mean(e_a² − e_b²); the Diebold–Mariano statistic is recorded beside it.
    """
    ea, eb = np.asarray(errors_a, dtype=float), np.asarray(errors_b, dtype=float)
    if ea.shape != eb.shape:
        raise ClaimError(f"{claim_id}: paired errors differ in size: {ea.shape} vs {eb.shape}")
    d = ea**2 - eb**2
    interval = paired_bootstrap(d, seed=_stable_seed(claim_id), block=block)
    dm = diebold_mariano(ea**2, eb**2)
    evidence = {
        "names": list(names),
        "mse_a": float(np.mean(ea**2)),
        "mse_b": float(np.mean(eb**2)),
        "diff": float(d.mean()),
        "ci95": [_rounded(v) for v in interval],
        "dm": dm["dm"],
        "dm_p": dm["p"],
        "n": int(d.size),
        "block": int(block),
    }
    verdict = _direction(interval, higher_is_better=False)
    return _claim(
        claim_id,
        "paired_errors",
        verdict,
        "paired moving-block bootstrap of the squared-error difference (Diebold–Mariano beside)",
        {"confidence": CONFIDENCE, "resamples": BOOTSTRAP_RESAMPLES},
        evidence,
        refs,
        **extra,
    )


# ---------------------------------------------------------------- trends


def trend(
    claim_id: str,
    xs: Sequence[float],
    ys: Sequence[Sequence[float]],
    *,
    refs: Mapping[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A score along an ordered axis: slope of the least-squares line through every seed's point.

    ``ys[i]`` holds the per-seed values at ``xs[i]``. The verdict is ``increases`` or
    ``decreases`` only when the slope's t interval excludes zero; with fewer than
    three points in all the slope has no interval and the verdict is ``flat``
    with ``reason: "too_few_points"``.
    """
    from scipy import stats

    points_x = [float(x) for x, group in zip(xs, ys, strict=True) for _ in group]
    points_y = [float(y) for group in ys for y in group]
    evidence: dict[str, Any] = {
        "x": [float(x) for x in xs],
        "y": [[float(v) for v in group] for group in ys],
    }
    if len(points_x) < 3 or len(set(points_x)) < 2:
        evidence |= {"slope": None, "ci95": None}
        return _claim(
            claim_id,
            "trend",
            FLAT,
            "least-squares slope over every seed's point, t interval",
            {"confidence": CONFIDENCE},
            evidence,
            refs,
            reason="too_few_points",
            **extra,
        )
    fit = stats.linregress(points_x, points_y)
    dof = len(points_x) - 2
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, dof)) * float(fit.stderr)
    slope = float(fit.slope)
    interval = [slope - half, slope + half]
    verdict = INCREASES if interval[0] > 0 else DECREASES if interval[1] < 0 else FLAT
    evidence |= {"slope": _rounded(slope), "ci95": [_rounded(v) for v in interval]}
    return _claim(
        claim_id,
        "trend",
        verdict,
        "least-squares slope over every seed's point, t interval",
        {"confidence": CONFIDENCE},
        evidence,
        refs,
        **extra,
    )


def versus_threshold(
    claim_id: str,
    value: float,
    threshold: float,
    threshold_name: str,
    *,
    refs: Mapping[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One number against a named constant: ``above`` (value > threshold) or ``below``."""
    verdict = ABOVE if value > threshold else BELOW
    return _claim(
        claim_id,
        "threshold",
        verdict,
        f"value against {threshold_name}",
        {"name": threshold_name, "value": threshold},
        {"value": float(value)},
        refs,
        **extra,
    )


def pick(
    claim_id: str,
    scores: Mapping[str, float],
    runner_up_claim: Mapping[str, Any],
    *,
    higher_is_better: bool,
    refs: Mapping[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The best of several candidates; a ``tie`` unless the best beats the runner-up.

    ``runner_up_claim`` is the comparison claim best-vs-runner-up (any kind above,
    with the best as ``a``); the pick stands only when its verdict is ``a_better``.
    """
    if len(scores) < 2:
        raise ClaimError(f"{claim_id}: a pick needs at least two candidates")
    ranked = sorted(scores, key=lambda k: scores[k], reverse=higher_is_better)
    verdict = ranked[0] if runner_up_claim["verdict"] == A_BETTER else TIE
    return _claim(
        claim_id,
        "pick",
        verdict,
        f"best score, standing only if it beats the runner-up ({runner_up_claim['kind']})",
        {"confidence": CONFIDENCE},
        {
            "scores": {k: float(v) for k, v in scores.items()},
            "ranking": ranked,
            "higher_is_better": higher_is_better,
            "runner_up": dict(runner_up_claim),
        },
        refs,
        **extra,
    )


def pick_fastest(
    claim_id: str,
    times: Mapping[str, Sequence[float]],
    *,
    refs: Mapping[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """The fastest of several candidates from their repeated times (or per-seed CPU seconds).

    The pattern for every pick made from time (fastest model, best trade-off): rank by
    mean time, compare the fastest with the runner-up over the repeats
    (``compare_timings``), and name a winner only when that comparison does; else
    ``tie``. The pick is marked ``machine_dependent`` (the text must say so). Feed it
    the job's own CPU time where the stage records one, not wall time.
    """
    if len(times) < 2:
        raise ClaimError(f"{claim_id}: a pick needs at least two candidates")
    means = {name: float(np.mean(values)) for name, values in times.items()}
    ranked = sorted(means, key=lambda k: means[k])
    runner_up = compare_timings(
        f"{claim_id}.runner_up", times[ranked[0]], times[ranked[1]], names=(ranked[0], ranked[1])
    )
    return pick(
        claim_id,
        means,
        runner_up,
        higher_is_better=False,
        refs=refs,
        machine_dependent=True,
        **extra,
    )


# ---------------------------------------------------------------- checking


def recompute(claim: Mapping[str, Any]) -> str:
    """The verdict a stored claim's own evidence gives (without its stored verdict)."""
    kind = claim.get("kind")
    ev = claim.get("evidence", {})
    if kind == "seeds":
        a, b = np.asarray(ev["a"], dtype=float), np.asarray(ev["b"], dtype=float)
        return _direction(_welch(a, b)[1], bool(ev["higher_is_better"]))
    if kind == "mcnemar":
        return _mcnemar_verdict(int(ev["only_a"]), int(ev["only_b"]), float(ev["p"]))
    if kind == "paired_errors":
        return _direction(ev["ci95"], higher_is_better=False)
    if kind == "trend":
        if ev.get("ci95") is None:
            return FLAT
        low, high = ev["ci95"]
        return INCREASES if low > 0 else DECREASES if high < 0 else FLAT
    if kind == "threshold":
        return ABOVE if float(ev["value"]) > float(claim["threshold"]["value"]) else BELOW
    if kind == "proportions":
        p = _fisher_p(int(ev["success_a"]), int(ev["n_a"]), int(ev["success_b"]), int(ev["n_b"]))
        return _proportions_verdict(ev, p)
    if kind == "quote":
        return _quote_verdict(str(claim.get("id")), ev)
    if kind == "pick":
        inner = ev["runner_up"]
        if recompute(inner) != inner["verdict"]:
            return f"<runner-up claim {inner['id']} disagrees>"
        ranked = sorted(ev["scores"], key=lambda k: ev["scores"][k], reverse=ev["higher_is_better"])
        return ranked[0] if inner["verdict"] == A_BETTER else TIE
    raise ClaimError(f"claim {claim.get('id')!r} has an unknown kind {kind!r}")


def resolve_pointer(doc: Any, pointer: str) -> Any:
    """The value at a JSON pointer (RFC 6901) inside ``doc``."""
    if pointer in ("", "/"):
        return doc
    node = doc
    for raw in pointer.lstrip("/").split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(key)]
        elif isinstance(node, Mapping) and key in node:
            node = node[key]
        else:
            raise KeyError(pointer)
    return node


def _evidence_value(evidence: Mapping[str, Any], path: str) -> Any:
    return resolve_pointer(evidence, "/" + path.replace(".", "/"))


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def iter_claims(results: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    """Every claim of results.json: ``results["claims"][part][id]``."""
    for part in results.get("claims", {}).values():
        yield from part.values()


def check_claims(results: Mapping[str, Any]) -> list[str]:
    """Problems with the claims of a results.json; empty when every claim holds.

    A claim fails when its stored verdict differs from the one its evidence gives,
    or when one of its ``refs`` (``{"evidence.path": "/json/pointer"}``) points at a
    value other than the evidence it quotes.
    """
    problems = []
    for claim in iter_claims(results):
        cid = claim.get("id", "?")
        try:
            verdict = recompute(claim)
        except (KeyError, TypeError, ValueError, ClaimError) as err:
            problems.append(f"claim {cid}: cannot be recomputed ({err})")
            continue
        if verdict != claim.get("verdict"):
            problems.append(
                f"claim {cid}: says {claim.get('verdict')!r} but its numbers give {verdict!r}"
            )
        for path, pointer in claim.get("refs", {}).items():
            try:
                quoted = _evidence_value(claim["evidence"], path)
                actual = resolve_pointer(results, pointer)
            except (KeyError, IndexError, ValueError):
                problems.append(f"claim {cid}: reference {path} -> {pointer} does not resolve")
                continue
            if not _same(quoted, actual):
                problems.append(
                    f"claim {cid}: quotes {path}={quoted!r} but results.json has "
                    f"{pointer}={actual!r}"
                )
    return problems


def collect(*claims: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Claims keyed by id (one part's ``claims`` section); ids must be unique."""
    out: dict[str, dict[str, Any]] = {}
    for claim in claims:
        if claim["id"] in out:
            raise ClaimError(f"claim id {claim['id']!r} is used twice")
        out[claim["id"]] = dict(claim)
    return out
