"""rnnlab.claims: every kind, verdict flips, single seed, ties, recompute, check_claims with refs.

Also the plumbing around it: report_collect hoists the summaries' claims (unique
ids across parts), and the renderer refuses a report whose claims disagree with
their numbers and names an unknown claim id with its template.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from rnnlab import claims as cl
from rnnlab.errors import RnnlabError
from rnnlab.report import collect, render

# ---------------------------------------------------------------- seeds (Welch)


def test_seeds_winner_only_when_the_interval_excludes_zero() -> None:
    clear = cl.compare_seeds("t.x", [0.90, 0.91, 0.92], [0.80, 0.81, 0.82], higher_is_better=True)
    assert clear["verdict"] == cl.A_BETTER
    assert clear["evidence"]["ci95"][0] > 0
    assert clear["kind"] == "seeds" and clear["reason"] == "welch"
    noisy = cl.compare_seeds("t.x", [0.90, 0.70, 0.95], [0.80, 0.85, 0.75], higher_is_better=True)
    assert noisy["verdict"] == cl.INDISTINGUISHABLE
    low, high = noisy["evidence"]["ci95"]
    assert low < 0 < high


def test_seeds_lower_is_better_flips_the_winner() -> None:
    a, b = [0.30, 0.31, 0.29], [0.40, 0.41, 0.39]
    assert cl.compare_seeds("t.x", a, b, higher_is_better=True)["verdict"] == cl.B_BETTER
    assert cl.compare_seeds("t.x", a, b, higher_is_better=False)["verdict"] == cl.A_BETTER
    assert cl.compare_seeds("t.x", b, a, higher_is_better=False)["verdict"] == cl.B_BETTER


def test_single_seed_is_never_a_winner() -> None:
    claim = cl.compare_seeds("t.x", [0.99], [0.10], higher_is_better=True)
    assert claim["verdict"] == cl.INDISTINGUISHABLE
    assert claim["reason"] == "single_seed"
    assert claim["evidence"]["ci95"] is None and claim["evidence"]["p"] is None
    # One side with seeds, the other with one: still no spread for the difference.
    claim = cl.compare_seeds("t.x", [0.9, 0.91], [0.1], higher_is_better=True)
    assert claim["verdict"] == cl.INDISTINGUISHABLE


def test_identical_seeds_give_an_exact_difference() -> None:
    assert cl.compare_seeds("t.x", [0.5, 0.5], [0.4, 0.4], higher_is_better=True)["verdict"] == (
        cl.A_BETTER
    )
    tied = cl.compare_seeds("t.x", [0.5, 0.5], [0.5, 0.5], higher_is_better=True)
    assert tied["verdict"] == cl.INDISTINGUISHABLE


def test_seeds_need_values() -> None:
    with pytest.raises(cl.ClaimError, match="at least one seed"):
        cl.compare_seeds("t.x", [], [0.1], higher_is_better=True)


def test_mean_sd_ci() -> None:
    one = cl.mean_sd_ci([0.7])
    assert one == {"n": 1, "mean": 0.7, "sd": None, "ci95": None}
    three = cl.mean_sd_ci([1.0, 2.0, 3.0])
    assert three["mean"] == 2.0 and three["sd"] == 1.0
    low, high = three["ci95"]
    assert low < 2.0 < high and high - 2.0 == pytest.approx(4.302653 / 3**0.5, rel=1e-5)
    with pytest.raises(cl.ClaimError):
        cl.mean_sd_ci([])


def test_timings_are_machine_dependent_and_tie_within_noise() -> None:
    fast = cl.compare_timings("t.t", [1.0, 1.1, 0.9, 1.05], [2.0, 2.1, 1.9, 2.05], names=("a", "b"))
    assert fast["verdict"] == cl.A_BETTER and fast["machine_dependent"] is True
    assert "repeats" in fast["statistic"] and fast["reason"] == "welch_over_repeats"
    noisy = cl.compare_timings("t.t", [1.0, 3.0, 0.5, 2.5], [1.5, 2.0, 1.2, 2.2])
    assert noisy["verdict"] == cl.INDISTINGUISHABLE
    assert cl.recompute(noisy) == noisy["verdict"]


# ---------------------------------------------------------------- McNemar


def test_mcnemar_counts_only_discordant_pairs() -> None:
    a = [True] * 80 + [True] * 15 + [False] * 5
    b = [True] * 80 + [False] * 15 + [True] * 5
    test = cl.mcnemar(a, b)
    assert (test["only_a"], test["only_b"], test["n"]) == (15, 5, 100)
    from scipy import stats

    assert test["p"] == pytest.approx(stats.binomtest(15, 20, 0.5).pvalue)


def test_mcnemar_verdicts_flip_with_the_discordant_counts() -> None:
    base = [True] * 100
    a_wins = [True] * 70 + [False] * 30
    assert cl.compare_classifiers("t.m", base, a_wins)["verdict"] == cl.A_BETTER
    assert cl.compare_classifiers("t.m", a_wins, base)["verdict"] == cl.B_BETTER
    few = [True] * 97 + [False] * 3
    assert cl.compare_classifiers("t.m", base, few)["verdict"] == cl.INDISTINGUISHABLE
    same = cl.compare_classifiers("t.m", base, base)
    assert same["verdict"] == cl.INDISTINGUISHABLE and same["evidence"]["p"] == 1.0


def test_mcnemar_refuses_unpaired_predictions() -> None:
    with pytest.raises(cl.ClaimError, match="differ in size"):
        cl.mcnemar([True, False], [True])


# ---------------------------------------------------------------- forecasters


def test_forecasters_paired_bootstrap_and_dm() -> None:
    rng = np.random.default_rng(0)
    truth_noise = rng.normal(size=600)
    good = truth_noise * 0.5
    bad = truth_noise * 0.5 + rng.normal(scale=0.8, size=600)
    claim = cl.compare_forecasters("t.f", good, bad, names=("good", "bad"), block=24)
    assert claim["verdict"] == cl.A_BETTER
    assert claim["evidence"]["dm"] < 0 and claim["evidence"]["dm_p"] < cl.ALPHA
    assert claim["evidence"]["mse_a"] < claim["evidence"]["mse_b"]
    flipped = cl.compare_forecasters("t.f", bad, good, block=24)
    assert flipped["verdict"] == cl.B_BETTER
    same = cl.compare_forecasters("t.f", good, good + rng.normal(scale=1e-3, size=600), block=24)
    assert same["verdict"] == cl.INDISTINGUISHABLE


def test_forecasters_bootstrap_is_seeded_by_the_claim_id() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=300), rng.normal(size=300)
    first = cl.compare_forecasters("q7.a.x", a, b)
    assert cl.compare_forecasters("q7.a.x", a, b)["evidence"]["ci95"] == first["evidence"]["ci95"]
    with pytest.raises(cl.ClaimError, match="differ in size"):
        cl.compare_forecasters("q7.a.x", a, b[:-1])


def test_block_bootstrap_interval_covers_the_mean() -> None:
    d = np.linspace(-1, 3, 400)
    low, high = cl.paired_bootstrap(d, seed=3, block=10)
    assert low < d.mean() < high
    with pytest.raises(cl.ClaimError):
        cl.paired_bootstrap(np.array([]), seed=0)


# ---------------------------------------------------------------- trends, thresholds


def test_trend_verdicts() -> None:
    xs = [50, 100, 200, 400]
    up = cl.trend("t.tr", xs, [[0.6, 0.61], [0.7, 0.69], [0.8, 0.8], [0.9, 0.91]])
    assert up["verdict"] == cl.INCREASES
    down = cl.trend("t.tr", xs, [[0.9], [0.8], [0.7], [0.6]])
    assert down["verdict"] == cl.DECREASES
    flat = cl.trend("t.tr", xs, [[0.7, 0.9], [0.9, 0.7], [0.7, 0.9], [0.9, 0.7]])
    assert flat["verdict"] == cl.FLAT
    few = cl.trend("t.tr", [1, 2], [[0.1], [0.9]])
    assert few["verdict"] == cl.FLAT and few["reason"] == "too_few_points"
    for claim in (up, down, flat, few):
        assert cl.recompute(claim) == claim["verdict"]


def test_threshold_is_strictly_above() -> None:
    assert cl.versus_threshold("t.th", 0.6, 0.5, "HALF")["verdict"] == cl.ABOVE
    at = cl.versus_threshold("t.th", 0.5, 0.5, "HALF")
    assert at["verdict"] == cl.BELOW and at["threshold"] == {"name": "HALF", "value": 0.5}


def test_proportions_fisher() -> None:
    clear = cl.compare_proportions("t.p", 990, 1000, 900, 1000, names=("rnn", "mlp"))
    assert clear["verdict"] == cl.A_BETTER and clear["kind"] == "proportions"
    assert cl.compare_proportions("t.p", 900, 1000, 990, 1000)["verdict"] == cl.B_BETTER
    close = cl.compare_proportions("t.p", 50, 100, 52, 100)
    assert close["verdict"] == cl.INDISTINGUISHABLE
    assert cl.compare_proportions("t.p", 7, 10, 7, 10)["verdict"] == cl.INDISTINGUISHABLE
    with pytest.raises(cl.ClaimError, match="out of range"):
        cl.compare_proportions("t.p", 11, 10, 1, 10)


# ---------------------------------------------------------------- picks and ties


def _runner_up(verdict: str) -> dict:
    if verdict == cl.A_BETTER:
        claim = cl.compare_seeds("t.r", [0.9, 0.91, 0.92], [0.8, 0.81, 0.82], higher_is_better=True)
    else:
        claim = cl.compare_seeds("t.r", [0.9, 0.7, 0.95], [0.8, 0.85, 0.75], higher_is_better=True)
    assert claim["verdict"] == verdict
    return claim


def test_pick_stands_only_when_it_beats_the_runner_up() -> None:
    scores = {"gru": 0.9, "lstm": 0.8, "rnn": 0.7}
    pick = cl.pick("t.pick", scores, _runner_up(cl.A_BETTER), higher_is_better=True)
    assert pick["verdict"] == "gru" and pick["kind"] == "pick"
    tie = cl.pick("t.pick", scores, _runner_up(cl.INDISTINGUISHABLE), higher_is_better=True)
    assert tie["verdict"] == cl.TIE
    lowest = cl.pick("t.pick", scores, _runner_up(cl.A_BETTER), higher_is_better=False)
    assert lowest["verdict"] == "rnn"
    for claim in (pick, tie, lowest):
        assert cl.recompute(claim) == claim["verdict"]
    with pytest.raises(cl.ClaimError, match="two candidates"):
        cl.pick("t.pick", {"a": 1.0}, _runner_up(cl.A_BETTER), higher_is_better=True)


def test_pick_with_a_tampered_runner_up_is_caught() -> None:
    pick = cl.pick("t.pick", {"a": 2.0, "b": 1.0}, _runner_up(cl.A_BETTER), higher_is_better=True)
    pick["evidence"]["runner_up"]["evidence"]["a"] = [0.80, 0.85, 0.75]
    assert cl.recompute(pick).startswith("<runner-up claim")


def test_pick_fastest_ties_within_timing_noise() -> None:
    clear = cl.pick_fastest("t.fast", {"gru": [3.1, 3.2, 3.3], "lstm": [3.9, 4.0, 4.1]})
    assert clear["verdict"] == "gru" and clear["machine_dependent"] is True
    assert clear["evidence"]["runner_up"]["kind"] == "seeds"
    noisy_times = {"gru": [3.0, 4.5, 3.2], "lstm": [3.9, 3.3, 4.4], "rnn": [9.0]}
    noisy = cl.pick_fastest("t.fast", noisy_times)
    assert noisy["verdict"] == cl.TIE
    single = cl.pick_fastest("t.fast", {"gru": [3.0], "lstm": [9.0]})
    assert single["verdict"] == cl.TIE  # one measurement each: the noise is unknown
    for claim in (clear, noisy, single):
        assert cl.recompute(claim) == claim["verdict"]
    with pytest.raises(cl.ClaimError, match="two candidates"):
        cl.pick_fastest("t.fast", {"gru": [1.0]})


# ---------------------------------------------------------------- quotes


def _results_with_source() -> dict:
    source = cl.compare_seeds(
        "q6a.lstm_vs_rnn", [0.9, 0.91, 0.92], [0.8, 0.81, 0.82], higher_is_better=True,
        names=("lstm", "rnn"),
    )  # fmt: skip
    return {"q6c": {"share": 0.727}, "claims": {"q6a": {source["id"]: source}}}


def test_quote_reads_pointers_and_keeps_refs() -> None:
    results = _results_with_source()
    quote = cl.quote("xref.share", results, {"share": "/q6c/share"})
    assert quote["verdict"] == cl.QUOTED and quote["evidence"]["share"] == 0.727
    assert quote["refs"] == {"share": "/q6c/share"}
    with pytest.raises(cl.ClaimError, match="not in results.json"):
        cl.quote("xref.share", results, {"share": "/q6c/missing"})


def test_quote_restates_a_verdict_in_the_requested_order() -> None:
    results = _results_with_source()
    same = cl.quote("xref.a", results, {}, verdict_of="q6a.lstm_vs_rnn", order=("lstm", "rnn"))
    assert same["verdict"] == cl.A_BETTER
    swapped = cl.quote("xref.b", results, {}, verdict_of="q6a.lstm_vs_rnn", order=("rnn", "lstm"))
    assert swapped["verdict"] == cl.B_BETTER
    plain = cl.quote("xref.c", results, {}, verdict_of="q6a.lstm_vs_rnn")
    assert plain["verdict"] == cl.A_BETTER
    for claim in (same, swapped, plain):
        assert cl.recompute(claim) == claim["verdict"]
    with pytest.raises(cl.ClaimError, match="does not exist"):
        cl.quote("xref.d", results, {}, verdict_of="q6a.nope")
    with pytest.raises(cl.ClaimError, match="not"):
        cl.quote("xref.e", results, {}, verdict_of="q6a.lstm_vs_rnn", order=("gru", "lstm"))


def test_quote_with_a_verdict_field() -> None:
    results = {"q6b": {"ranking": {"longer_memory": "lstm"}}}
    quote = cl.quote("xref.h", results, {"verdict": "/q6b/ranking/longer_memory"})
    assert quote["verdict"] == "lstm" and cl.recompute(quote) == "lstm"


# ---------------------------------------------------------------- recompute and check


def _every_kind() -> list[dict]:
    rng = np.random.default_rng(2)
    return [
        cl.compare_seeds("k.seeds", [0.9, 0.91, 0.92], [0.8, 0.81, 0.82], higher_is_better=True),
        cl.compare_classifiers("k.mcnemar", [True] * 60, [True] * 30 + [False] * 30),
        cl.compare_forecasters("k.paired", rng.normal(size=200), rng.normal(size=200) * 2),
        cl.trend("k.trend", [1, 2, 3], [[1.0], [2.0], [3.1]]),
        cl.versus_threshold("k.threshold", 0.7, 0.5, "HALF"),
        cl.pick("k.pick", {"a": 2.0, "b": 1.0}, _runner_up(cl.A_BETTER), higher_is_better=True),
        cl.compare_proportions("k.proportions", 99, 100, 50, 100),
        cl.compare_timings("k.timing", [1.0, 1.1, 0.9], [2.0, 2.1, 1.9]),
    ]


@pytest.mark.parametrize("claim", _every_kind(), ids=lambda c: c["kind"])
def test_recompute_agrees_with_every_kind(claim: dict) -> None:
    assert cl.recompute(claim) == claim["verdict"]
    json.dumps(claim)  # a claim is plain JSON


def test_recompute_refuses_an_unknown_kind() -> None:
    with pytest.raises(cl.ClaimError, match="unknown kind"):
        cl.recompute({"id": "x", "kind": "vibes", "evidence": {}})


def _results(*claims: dict) -> dict:
    return {"q6a": {"acc": {"lstm": 0.9}}, "claims": {"q6a": cl.collect(*claims)}}


def test_check_claims_passes_a_consistent_report() -> None:
    assert cl.check_claims(_results(*_every_kind())) == []
    assert cl.check_claims({}) == []


@pytest.mark.parametrize(
    ("kind_index", "edit"),
    [
        (0, lambda c: c["evidence"].update(b=[0.95, 0.96, 0.97])),  # seeds flip
        (1, lambda c: c["evidence"].update(only_a=0, only_b=30)),  # McNemar flip
        (2, lambda c: c["evidence"].update(ci95=[0.1, 0.2])),  # forecasters flip
        (3, lambda c: c["evidence"].update(ci95=[-2.0, -1.0])),  # trend flip
        (4, lambda c: c["evidence"].update(value=0.1)),  # threshold flip
        (5, lambda c: c["evidence"]["scores"].update(b=3.0)),  # pick names another
        (6, lambda c: c["evidence"].update(success_a=10)),  # proportions flip
    ],
)
def test_check_claims_names_a_claim_whose_numbers_changed(kind_index: int, edit) -> None:
    claim = copy.deepcopy(_every_kind()[kind_index])
    edit(claim)
    problems = cl.check_claims(_results(claim))
    assert len(problems) == 1 and claim["id"] in problems[0] and "numbers give" in problems[0]


def test_check_claims_follows_refs() -> None:
    claim = cl.versus_threshold("q6a.acc", 0.9, 0.5, "HALF", refs={"value": "/q6a/acc/lstm"})
    assert cl.check_claims(_results(claim)) == []
    drifted = _results(claim)
    drifted["q6a"]["acc"]["lstm"] = 0.91
    problems = cl.check_claims(drifted)
    assert len(problems) == 1
    assert "quotes value=0.9" in problems[0] and "/q6a/acc/lstm" in problems[0]
    claim["refs"] = {"value": "/q6a/acc/gru"}
    assert "does not resolve" in cl.check_claims(_results(claim))[0]


def test_check_claims_catches_a_quote_of_a_changed_verdict() -> None:
    results = _results_with_source()
    quote = cl.quote("xref.a", results, {}, verdict_of="q6a.lstm_vs_rnn", order=("lstm", "rnn"))
    results["claims"]["xref"] = {quote["id"]: quote}
    assert cl.check_claims(results) == []
    source = results["claims"]["q6a"]["q6a.lstm_vs_rnn"]
    source["evidence"]["a"] = [0.7, 0.71, 0.72]
    source["verdict"] = cl.B_BETTER
    problems = cl.check_claims(results)
    assert any("xref.a" in p and "source_verdict" in p for p in problems)


def test_check_claims_reports_an_unrecomputable_claim() -> None:
    broken = {"id": "q6a.b", "kind": "seeds", "verdict": "a_better", "evidence": {}}
    assert "cannot be recomputed" in cl.check_claims(_results(broken))[0]


def test_collect_refuses_repeated_ids_and_find_claim() -> None:
    one = cl.versus_threshold("q7.a.x", 1.0, 0.5, "HALF")
    with pytest.raises(cl.ClaimError, match="used twice"):
        cl.collect(one, one)
    results = {"claims": {"q7": cl.collect(one)}}
    assert cl.find_claim(results, "q7.a.x")["verdict"] == cl.ABOVE
    assert cl.find_claim(results, "q7.a.y") is None
    assert cl.resolve_pointer({"a": [{"b/c": 1}]}, "/a/0/b~1c") == 1


# ---------------------------------------------------------------- report_collect hoisting


def test_collect_hoists_claims_per_part(tmp_path: Path) -> None:
    q7 = {"mse": 0.3, "claims": cl.collect(cl.versus_threshold("q7.a.x", 0.3, 0.5, "HALF"))}
    q6 = {"acc": 0.9, "claims": cl.collect(cl.versus_threshold("q6a.y", 0.9, 0.5, "HALF"))}
    paths = {}
    for key, body in (("q7", q7), ("q6a", q6), ("imdb", {"n": 1})):
        paths[key] = str(tmp_path / f"{key}.json")
        Path(paths[key]).write_text(json.dumps(body))
    results = collect.collect(paths, {}, {}, tmp_path / "bench", tmp_path)
    assert "claims" not in results["q7"] and "claims" not in results["q6a"]
    assert set(results["claims"]) == {"q7", "q6a"}
    assert results["claims"]["q7"]["q7.a.x"]["verdict"] == cl.BELOW
    assert cl.check_claims(results) == []


def test_collect_refuses_an_id_used_by_two_parts() -> None:
    claim = cl.versus_threshold("q7.a.x", 0.3, 0.5, "HALF")
    twice = {"q6a": {"claims": {"q7.a.x": claim}}, "q7": {"claims": {"q7.a.x": claim}}}
    with pytest.raises(RnnlabError, match=r"'q7.a.x' is used by both summary 'q6a' and"):
        collect.hoist_claims(twice)
    with pytest.raises(RnnlabError, match="must be an object"):
        collect.hoist_claims({"q7": {"claims": [claim]}})
    with pytest.raises(RnnlabError, match="has id"):
        collect.hoist_claims({"q7": {"claims": {"q7.a.other": claim}}})


def test_collect_refuses_reserved_summary_keys() -> None:
    for key in ("claims", "xref", "meta"):
        with pytest.raises(RnnlabError, match="reserved"):
            collect.parse_pairs([f"{key}=x.json"], "summary")


# ---------------------------------------------------------------- render-time checks


def test_render_refuses_a_claim_that_disagrees_with_its_numbers() -> None:
    claim = cl.versus_threshold("q7.a.flat_gate", 0.3, 0.5, "NARROW")
    results = {"claims": {"q7": {claim["id"]: {**claim, "verdict": cl.ABOVE}}}}
    with pytest.raises(RnnlabError, match=r"claim q7.a.flat_gate: says 'above'"):
        render.check_results_claims(results)
    render.check_results_claims({"claims": {"q7": {claim["id"]: claim}}})


def test_claim_global_names_an_unknown_id() -> None:
    claims = render.Claims({"claims": {"q7": {"q7.a.x": {"id": "q7.a.x", "verdict": "tie"}}}})
    assert claims.claim("q7.a.x")["verdict"] == "tie"
    assert claims.has_claim("q7.a.x") and not claims.has_claim("q7.a.y")
    with pytest.raises(RnnlabError, match=r"unknown claim 'q7.a.y'.*\['q7.a.x'\]"):
        claims.claim("q7.a.y")


# ---------------------------------------------------------------- verify


def test_verify_compares_claims_with_their_part_tolerance() -> None:
    from rnnlab import verify

    timing = cl.compare_timings("theory.q2i.cpu.rnn_vs_conv", [5.0, 5.1, 5.2], [1.0, 1.1, 1.2])
    exact = cl.versus_threshold("theory.q2h.params", 58.9, 1.0, "EQUAL_SIZE")
    trained = cl.versus_threshold("q6a.x", 0.876, 0.5, "HALF")
    reference = {"claims": {"theory": cl.collect(timing, exact), "q6a": cl.collect(trained)}}
    candidate = copy.deepcopy(reference)
    # A rerun on another machine: other timings (even another verdict), trained noise.
    candidate["claims"]["theory"][timing["id"]]["evidence"]["a"] = [0.5, 0.6, 0.7]
    candidate["claims"]["theory"][timing["id"]]["verdict"] = cl.A_BETTER
    candidate["claims"]["q6a"]["q6a.x"]["evidence"]["value"] = 0.871
    assert verify.compare(reference, candidate) == []
    candidate["claims"]["theory"]["theory.q2h.params"]["evidence"]["value"] = 58.8
    assert len(verify.compare(reference, candidate)) == 1
