"""The theory chapters' comparative sentences as claims (part ``theory``, ids ``theory.*``).

Q2-h (binary addition, RNN vs MLP) and Q2-i (RNN vs equal-FLOP parallel ops) state
comparisons and thresholds; they are decided here from the theory results, never
in the templates:

- accuracies are success counts on the same evaluation pairs (``compare_proportions``);
- "learned the rule" / "mostly carried over" are the RNN's exact-sum accuracy at the
  longest length against the named constants RULE_LEARNED and MOSTLY;
- timings are compared over their repeats (``compare_timings``): a time verdict is
  machine-dependent and a tie when the repeats overlap.
"""

from __future__ import annotations

from typing import Any

from rnnlab import claims as cl

#: Exact-sum accuracy at the longest length above which the RNN "learned the local rule".
RULE_LEARNED = 0.99
#: ... and above which the rule "mostly" carried over to longer numbers.
MOSTLY = 0.5
#: A parameter ratio above this means the first model is larger.
EQUAL_SIZE = 1.0
PARALLEL_OPS = ("conv", "matmul")


def _successes(entry: dict[str, Any]) -> tuple[int, int]:
    return round(entry["exact"] * entry["count"]), int(entry["count"])


def addition_claims(addition: dict[str, Any]) -> list[dict[str, Any]]:
    """Q2-h: generalisation at the trained length, fit, longer lengths, data need."""
    rnn, mlp = addition["models"]["rnn"], addition["models"]["mlp"]
    out = [
        cl.compare_proportions(
            "theory.q2h.rnn_vs_mlp",
            *_successes(rnn["test"]),
            *_successes(mlp["test"]),
            names=("rnn", "mlp"),
        ),  # fmt: skip
        cl.versus_threshold(
            "theory.q2h.params",
            addition["params_ratio_mlp_to_rnn"],
            EQUAL_SIZE,
            "EQUAL_SIZE (MLP parameters / RNN parameters)",
        ),
    ]
    worst_train = min(rnn["train"]["exact"], mlp["train"]["exact"])
    n_train = min(rnn["train"]["count"], mlp["train"]["count"])
    # Exact accuracy is k/n: it is above 1 - 1/(2n) only when every pair is right.
    out.append(
        cl.versus_threshold(
            "theory.q2h.train_fit", worst_train, 1 - 1 / (2 * n_train), "ALL_TRAIN_PAIRS"
        )
    )
    longest = max(addition["by_length"], key=lambda e: e["bits"])
    for claim_id, value, name in (
        ("theory.q2h.rnn_longest_rule", RULE_LEARNED, "RULE_LEARNED"),
        ("theory.q2h.rnn_longest_mostly", MOSTLY, "MOSTLY"),
    ):
        exact = longest["rnn"]["exact"]
        out.append(cl.versus_threshold(claim_id, exact, value, name, bits=longest["bits"]))
    sweep = addition.get("sweep") or []
    if sweep:
        fewest = min(sweep, key=lambda e: e["train_pairs"])
        out.append(
            cl.compare_proportions(
                "theory.q2h.fewest_pairs",
                *_successes(fewest["rnn"]),
                *_successes(fewest["mlp"]),
                names=("rnn", "mlp"),
                train_pairs=fewest["train_pairs"],
            )  # fmt: skip
        )
    return out


def _times_at(run: dict[str, Any], length: int) -> dict[str, list[float]]:
    return {
        row["op"]: [float(t) for t in row.get("times_ms") or [row["best_ms"]]]
        for row in run["rows"]
        if row["length"] == length
    }


def device_claims(key: str, run: dict[str, Any]) -> list[dict[str, Any]]:
    """Q2-i on one device: the RNN against each equal-FLOP parallel op at the longest length.

    ``theory.q2i.<device>.rnn_vs_<op>``: a_better = the RNN is faster. The fastest
    parallel op (by median time) against the RNN is ``...rnn_vs_best_parallel``: with
    equal FLOPs, a slower RNN is also the one with the lower GFLOP/s.
    """
    times = _times_at(run, run["longest"])
    out = [
        cl.compare_timings(
            f"theory.q2i.{key}.rnn_vs_{op}",
            times["rnn"],
            times[op],
            names=("rnn", op),
            length=run["longest"],
        )  # fmt: skip
        for op in PARALLEL_OPS
        if op in times
    ]
    present = [op for op in PARALLEL_OPS if op in times]
    if present:
        best = min(present, key=lambda op: sorted(times[op])[len(times[op]) // 2])
        out.append(
            cl.compare_timings(
                f"theory.q2i.{key}.rnn_vs_best_parallel",
                times["rnn"],
                times[best],
                names=("rnn", best),
                length=run["longest"],
            )  # fmt: skip
        )
    return out


def thread_claims(parallelism: dict[str, Any]) -> list[dict[str, Any]]:
    """Does each op get faster from the fewest to the most CPU threads (Q2-i)?

    ``theory.q2i.threads.<op>``: a_better = faster with more threads.
    """
    cpu = {
        k: v
        for k, v in parallelism["by_device"].items()
        if k.startswith("cpu-") and v["hardware"].get("torch_threads")
    }
    if len(cpu) < 2:
        return []
    ordered = sorted(cpu.values(), key=lambda run: run["hardware"]["torch_threads"])
    fewest, most = ordered[0], ordered[-1]
    few_t, most_t = _times_at(fewest, fewest["longest"]), _times_at(most, most["longest"])
    return [
        cl.compare_timings(
            f"theory.q2i.threads.{op}",
            most_t[op],
            few_t[op],
            names=("more_threads", "fewer_threads"),
            threads=[fewest["hardware"]["torch_threads"], most["hardware"]["torch_threads"]],
        )  # fmt: skip
        for op in ("rnn", *PARALLEL_OPS)
        if op in few_t and op in most_t
    ]


def parallelism_claims(parallelism: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for key in parallelism["devices"]:
        out.extend(device_claims(key, parallelism["by_device"][key]))
    return out + thread_claims(parallelism)


def theory_claims(addition: dict[str, Any], parallelism: dict[str, Any]) -> dict[str, Any]:
    """Every theory claim, keyed by id (the ``claims`` section of the theory summary)."""
    return cl.collect(*addition_claims(addition), *parallelism_claims(parallelism))
