"""Merge the four theory results into the one summary the report reads as `r.theory`.

Besides the full results, the summary carries short "headline" views (the numbers a
sentence of prose needs) so a template never has to search lists:
- addition.train_bits, addition.rnn/mlp = {params, accuracy: {bits: exact-sum accuracy}};
- parallelism.device (the hardware in words) and parallelism.longest (ms per op at the
  longest sequence, on the first device measured).

Every number a sentence prints that is not a measured field itself (a share, a
difference, a ratio, a 1-based label) is computed here too, so templates hold no
arithmetic; every comparison is a claim (rnnlab.theory.claims, the summary's
top-level ``claims``, hoisted by report_collect into ``results["claims"]["theory"]``).
"""

from __future__ import annotations

import argparse
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.runtime import cli, read_json, write_json
from rnnlab.theory.claims import theory_claims


def addition_headline(addition: dict[str, Any]) -> dict[str, Any]:
    bits = addition["config"]["train_bits"]
    at_train = [e for e in addition["by_length"] if e["bits"] == bits]
    view: dict[str, Any] = {
        "train_bits": bits,
        # The RNN reads one bit pair per step plus one step for the last carry.
        "steps_per_sum": bits + 1,
        "chance_exact": at_train[0]["chance_exact"] if at_train else 0.5 ** (bits + 1),
        "longest": max(addition["by_length"], key=lambda e: e["bits"]),
        # The MLP reads both n-bit numbers at once.
        "mlp_input_size": addition.get("mlp_input_size", 2 * bits),
    }
    for name in ("rnn", "mlp"):
        view[name] = {
            "params": addition["models"][name]["params"],
            # JSON keys are strings: accuracy["8"] is the exact-sum accuracy at 8 bits.
            "accuracy": {
                str(entry["bits"]): entry[name]["exact"]
                for entry in addition["by_length"]
                if entry[name] is not None
            },
        }
    return view


def parallelism_headline(parallelism: dict[str, Any]) -> dict[str, Any]:
    first = parallelism["by_device"][parallelism["devices"][0]]
    hw = first["hardware"]
    device = hw.get("gpu_name") or f"{hw['cpu_model']}, {hw['torch_threads']} torch threads"
    at_longest = {row["op"]: row for row in first["rows"] if row["length"] == first["longest"]}
    return {
        "device": device,
        "device_key": parallelism["devices"][0],
        "single_device": len(parallelism["devices"]) == 1,
        "longest": {
            "length": first["longest"],
            **{f"{op}_ms": row["best_ms"] for op, row in at_longest.items()},
            "rnn_slowdown_vs_conv": at_longest["rnn"]["best_ms"] / at_longest["conv"]["best_ms"],
        },
    }


def q1_derived(q1: dict[str, Any]) -> dict[str, Any]:
    """Q1 with the differences and shares its prose prints (base and each change)."""
    base = q1["base"]
    layers, totals = base["layers"], base["totals"]
    derived = {
        "textbook_saving": totals["params"] - totals["params_textbook"],
        "layer3_param_share": layers["layer3"]["params"] / totals["params"],
        "recurrent_params": layers["layer1"]["params"] + layers["layer2"]["params"],
        "flops_outside_matmul": totals["flops"] - totals["matmul_flops"],
        "layer3_flop_share": layers["layer3"]["flops"] / totals["flops"],
    }
    changes = {}
    for name, change in q1["changes"].items():
        compare = change["compare"]
        params, flops = compare["totals"]["params"], compare["totals"]["flops"]
        extra = {
            "params_change": params["ratio"] - 1,
            "flops_change": flops["ratio"] - 1,
            "params_saved": -params["delta"],
            "params_saved_share": 1 - params["ratio"],
            "flops_saved": -flops["delta"],
            "single_layer_changed": len(compare.get("changed_layers", [])) == 1,
        }
        changes[name] = {**change, "compare": {**compare, "derived": extra}}
    return {**q1, "base": {**base, "derived": derived}, "changes": changes}


def gated_counts(q1: dict[str, Any]) -> dict[str, Any]:
    """Q3-b: parameters of one RNN/GRU/LSTM layer the size of Q1's layer 1 (input 64, hidden 32).

    One block is a (hidden x (input + hidden)) weight plus one bias (textbook) or two
    (PyTorch); a GRU has three blocks, an LSTM four.
    """
    d_in, d_h = q1["base"]["spec"]["input_size"], q1["base"]["spec"]["hidden1"]
    book, torch = d_h * (d_in + d_h + 1), d_h * (d_in + d_h + 2)
    return {
        "d_in": d_in,
        "d_h": d_h,
        "blocks": {"rnn": 1, "gru": 3, "lstm": 4},
        "textbook": {"rnn": book, "gru": 3 * book, "lstm": 4 * book},
        "torch": {"rnn": torch, "gru": 3 * torch, "lstm": 4 * torch},
    }


def forward_labels(forward: dict[str, Any]) -> dict[str, Any]:
    """Q2-c with 1-based unit and class labels (the prose counts units from one)."""
    steps = {}
    for act, step in forward["steps"].items():
        zeroed = step.get("zeroed_units", [])
        labels = {
            "zeroed_labels": [i + 1 for i in zeroed],
            "predicted_label": step["predicted_class"] + 1,
            "predicted_probability": step["softmax"][step["predicted_class"]],
        }
        if zeroed:
            labels["first_zeroed"] = {
                "label": zeroed[0] + 1,
                "preactivation": step["preactivation"][zeroed[0]],
            }
        steps[act] = {**step, **labels}
    view = {**forward, "steps": steps}
    relu, tanh = steps.get("relu"), steps.get("tanh")
    if relu and tanh and relu["zeroed_labels"]:
        # The unit ReLU zeroes, as tanh leaves it (why the two outputs differ).
        unit = relu["zeroed_units"][0]
        view["contrast"] = {"label": unit + 1, "tanh_hidden": tanh["hidden"][unit]}
    return view


def parallelism_derived(parallelism: dict[str, Any]) -> dict[str, Any]:
    """Q2-i ratios per device: RNN ÷ convolution per length, growth with length, speed-ups.

    Every key holding a time ratio or rate matches rnnlab.verify.TIMING_KEY, so a rerun
    is not compared on machine measurements.
    """
    shortest = min(parallelism["config"]["lengths"])
    by_device = {}
    for key, run in parallelism["by_device"].items():
        best = {(row["op"], row["length"]): row["best_ms"] for row in run["rows"]}
        longest = run["longest"]
        extra = {
            "shortest": shortest,
            "length_growth": longest / shortest,
            "rnn_time_ratio_longest_shortest": best[("rnn", longest)] / best[("rnn", shortest)],
            "rnn_us_per_step_at_longest": run["rnn_ms_per_step_at_longest"] * 1000,
            "rnn_speedup_at_longest": {
                op: 1 / ratio for op, ratio in run["rnn_slowdown_at_longest"].items()
            },
            "rnn_slowdown_vs_conv": {
                str(length): best[("rnn", length)] / best[("conv", length)]
                for length in parallelism["config"]["lengths"]
                if ("conv", length) in best and ("rnn", length) in best
            },
            "single_cpu_thread": run["hardware"].get("gpu_name") is None
            and run["hardware"].get("torch_threads") == 1,
            "gflops_per_s_at_longest": {
                row["op"]: row["gflops_per_s"] for row in run["rows"] if row["length"] == longest
            },
            # The timed rows at the longest length, by op, for the T = longest paragraph.
            "rows_at_longest": {
                row["op"]: {**row, "min_ms": min(row["times_ms"]), "max_ms": max(row["times_ms"])}
                for row in run["rows"]
                if row["length"] == longest
            },
            # Whether the one big matmul took longer than the RNN (best of the repeats);
            # whether that difference is real is the claim theory.q2i.<device>.rnn_vs_matmul.
            "matmul_slower_at_longest": best[("matmul", longest)] > best[("rnn", longest)],
        }
        by_device[key] = {**run, **extra}
    # The RNN step multiplies [h, x] (2H wide) by a (2H x H) matrix.
    config = {**parallelism["config"], "hidden_doubled": 2 * parallelism["config"]["hidden"]}
    return {**parallelism, "config": config, "by_device": by_device}


def merge(q1: Any, forward: Any, addition: Any, parallelism: Any) -> dict[str, Any]:
    for name, part in (("q1", q1), ("forward", forward), ("addition", addition)):
        if not isinstance(part, dict):
            raise RnnlabError(f"theory result {name} is not a JSON object; rerun its rule.")
    parallelism = parallelism_derived(parallelism)
    return {
        "q1": q1_derived(q1),
        "gated": gated_counts(q1),
        "forward": forward_labels(forward),
        "addition": {**addition, **addition_headline(addition)},
        "parallelism": {**parallelism, **parallelism_headline(parallelism)},
        "claims": theory_claims(addition, parallelism),
    }


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(description="merge the theory results for the report")
    for part in ("q1", "forward", "addition", "parallelism"):
        parser.add_argument(f"--{part}", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    parts = {}
    for part in ("q1", "forward", "addition", "parallelism"):
        try:
            parts[part] = read_json(getattr(args, part))
        except FileNotFoundError as err:
            raise RnnlabError(f"{err.filename} is missing; run its theory rule first.") from err
    write_json(args.out, merge(**parts))
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
