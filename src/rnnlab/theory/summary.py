"""Merge the four theory results into the one summary the report reads as `r.theory`.

Besides the full results, the summary carries short "headline" views (the numbers a
sentence of prose needs) so a template never has to search lists:
- addition.train_bits, addition.rnn/mlp = {params, accuracy: {bits: exact-sum accuracy}};
- parallelism.device (the hardware in words) and parallelism.longest (ms per op at the
  longest sequence, on the first device measured).
"""

from __future__ import annotations

import argparse
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.runtime import cli, read_json, write_json


def addition_headline(addition: dict[str, Any]) -> dict[str, Any]:
    view: dict[str, Any] = {"train_bits": addition["config"]["train_bits"]}
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
        "longest": {
            "length": first["longest"],
            **{f"{op}_ms": row["best_ms"] for op, row in at_longest.items()},
        },
    }


def merge(q1: Any, forward: Any, addition: Any, parallelism: Any) -> dict[str, Any]:
    for name, part in (("q1", q1), ("forward", forward), ("addition", addition)):
        if not isinstance(part, dict):
            raise RnnlabError(f"theory result {name} is not a JSON object; rerun its rule.")
    return {
        "q1": q1,
        "forward": forward,
        "addition": {**addition, **addition_headline(addition)},
        "parallelism": {**parallelism, **parallelism_headline(parallelism)},
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
