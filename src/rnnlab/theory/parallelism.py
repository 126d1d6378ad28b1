"""Q2-i: why a classic RNN uses parallel hardware poorly, measured.

Three forward passes with exactly the same multiply-accumulate count on input (B, T, H):
- `rnn`: nn.RNN(H, H, tanh): T dependent steps, each a (B, 2H) x (2H, H) product; step t
  cannot start before step t-1 has finished;
- `conv`: a causal Conv1d(H, H, kernel 2) + tanh: every output position at once;
- `matmul`: one (B*T, 2H) x (2H, H) product + tanh: the same arithmetic as one call.
All three cost 2*B*T*2H*H FLOPs (checked with FlopCounterMode); only the RNN has to
run them as T sequential pieces. We time each as T grows and report milliseconds and
achieved GFLOP/s, with the hardware named. On CPU each thread count of `cpu_threads` is
measured separately, to see whether more cores help each op. Timings vary run to run
(the machine may be shared); the best of `repeats` runs is reported, the median too.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.runtime import cli, resolve_device, set_threads, write_json
from rnnlab.theory.common import parse_args, require

OPS = ("rnn", "conv", "matmul")


def cpu_model() -> str:
    """The CPU's marketing name from /proc/cpuinfo (Linux), else what platform knows."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def hardware(device: Any) -> dict[str, Any]:
    import torch

    info: dict[str, Any] = {
        "device": str(device),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
    }
    if device.type == "cuda":
        info["gpu_name"] = torch.cuda.get_device_name(device)
    return info


def build_ops(hidden: int, device: Any) -> dict[str, Callable[[Any], Any]]:
    """The three equal-FLOP forward passes, each a function of x (B, T, H)."""
    import torch
    from torch import nn
    from torch.nn import functional as F

    rnn = nn.RNN(hidden, hidden, nonlinearity="tanh", batch_first=True).to(device)
    conv = nn.Conv1d(hidden, hidden, kernel_size=2).to(device)
    # One matrix holding [W_ih; W_hh]: the RNN's whole weight, used in one product.
    weight = torch.randn(2 * hidden, hidden, device=device) / hidden**0.5
    bias = torch.zeros(hidden, device=device)

    def run_rnn(x: Any) -> Any:
        return rnn(x)[0]

    def run_conv(x: Any) -> Any:
        # Left-pad by one: a causal kernel-2 convolution with exactly T outputs.
        return torch.tanh(conv(F.pad(x.transpose(1, 2), (1, 0))))

    def run_matmul(x: Any) -> Any:
        # [x_t, x_{t-1}] pairs: the same operand width (2H) as the RNN's [x_t, h_{t-1}].
        shifted = F.pad(x, (0, 0, 1, 0))[:, :-1]
        pairs = torch.cat([x, shifted], dim=-1).reshape(-1, 2 * hidden)
        return torch.tanh(torch.addmm(bias, pairs, weight))

    return {"rnn": run_rnn, "conv": run_conv, "matmul": run_matmul}


def count_flops(op: Callable[[Any], Any], x: Any) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        op(x)
    return int(counter.get_total_flops())


def time_ops(
    ops: dict[str, Callable[[Any], Any]], x: Any, repeats: int, warmup: int
) -> dict[str, list[float]]:
    """Wall-clock milliseconds of `repeats` forward passes of each op, after `warmup`.

    The ops take turns within each repeat, so a burst of load from other processes
    hits all of them alike rather than one op's whole series.
    """
    import torch

    sync = torch.cuda.synchronize if x.device.type == "cuda" else (lambda: None)
    times: dict[str, list[float]] = {name: [] for name in ops}
    with torch.no_grad():
        for index in range(warmup + repeats):
            for name, op in ops.items():
                sync()
                start = time.perf_counter()
                op(x)
                sync()  # a GPU call returns before the kernel ends; wait for it
                if index >= warmup:
                    times[name].append((time.perf_counter() - start) * 1000.0)
    return times


def _config(params: dict[str, Any]) -> dict[str, Any]:
    where = "theory.parallelism"
    cfg = {
        key: require(params, key, where)
        for key in (
            "seed", "lengths", "batch_size", "hidden", "repeats", "warmup", "devices",
            "cpu_threads",
        )
    }  # fmt: skip
    if not cfg["lengths"] or any(not isinstance(t, int) or t < 1 for t in cfg["lengths"]):
        raise RnnlabError(f"config `{where}.lengths` must list positive sequence lengths.")
    for key in ("batch_size", "hidden", "repeats"):
        if not isinstance(cfg[key], int) or cfg[key] < 1:
            raise RnnlabError(f"config `{where}.{key}` must be a positive integer.")
    if not cfg["cpu_threads"] or any(not isinstance(t, int) or t < 1 for t in cfg["cpu_threads"]):
        raise RnnlabError(f"config `{where}.cpu_threads` must list positive thread counts.")
    if not cfg["devices"]:
        raise RnnlabError(f"config `{where}.devices` must name at least one device (cpu).")
    return cfg


def measure_device(cfg: dict[str, Any], device: Any) -> dict[str, Any]:
    import torch

    torch.manual_seed(cfg["seed"])
    ops = build_ops(cfg["hidden"], device)
    # FLOPs are counted on CPU copies: on a GPU nn.RNN runs one fused cuDNN kernel that
    # the counter cannot see into, and the count does not depend on the device.
    cpu_ops = build_ops(cfg["hidden"], torch.device("cpu"))
    rows = []
    for length in cfg["lengths"]:
        x = torch.randn(cfg["batch_size"], length, cfg["hidden"], device=device)
        expected = 2 * cfg["batch_size"] * length * 2 * cfg["hidden"] * cfg["hidden"]
        timings = time_ops(ops, x, cfg["repeats"], cfg["warmup"])
        for name in OPS:
            flops = count_flops(cpu_ops[name], x.cpu())
            if flops != expected:
                raise RuntimeError(f"{name} at T={length}: {flops} FLOPs, expected {expected}")
            times = timings[name]
            # Best of N is the least-disturbed run (the timeit convention); median beside it.
            best = min(times)
            rows.append(
                {
                    "op": name,
                    "length": length,
                    "sequential_steps": length if name == "rnn" else 1,
                    "flops": flops,
                    "best_ms": best,
                    "median_ms": statistics.median(times),
                    "times_ms": times,
                    "gflops_per_s": flops / (best / 1000.0) / 1e9,
                }
            )
    longest = max(cfg["lengths"])
    at_longest = {r["op"]: r for r in rows if r["length"] == longest}
    return {
        "hardware": hardware(device),
        "rows": rows,
        "longest": longest,
        # How many times slower the sequential RNN is than each parallel op, same FLOPs.
        "rnn_slowdown_at_longest": {
            name: at_longest["rnn"]["best_ms"] / at_longest[name]["best_ms"]
            for name in OPS
            if name != "rnn"
        },
        "rnn_ms_per_step_at_longest": at_longest["rnn"]["best_ms"] / longest,
        "fastest_at_longest": min(at_longest, key=lambda k: at_longest[k]["best_ms"]),
    }


def run(params: dict[str, Any], max_threads: int | None = None) -> dict[str, Any]:
    """Time the three ops on every configured device; on CPU once per thread count.

    `max_threads` is what the job was given (the rule's threads): a thread count above
    it is not measured, since it would use cores Snakemake did not hand to this job.
    """
    import torch

    cfg = _config(params)
    allowed = max_threads or max(cfg["cpu_threads"])
    results: dict[str, Any] = {}
    skipped = [t for t in cfg["cpu_threads"] if t > allowed]
    previous = torch.get_num_threads()
    try:
        for name in cfg["devices"]:
            device = resolve_device(name)
            if device.type != "cpu":
                if str(device) not in results:
                    results[str(device)] = measure_device(cfg, device)
                continue
            for threads in cfg["cpu_threads"]:
                key = f"cpu-{threads}t"
                if threads > allowed or key in results:  # e.g. [cpu, auto] without a GPU
                    continue
                torch.set_num_threads(threads)
                results[key] = measure_device(cfg, device)
    finally:
        torch.set_num_threads(previous)
    return {
        "config": cfg,
        "devices": list(results),
        "by_device": results,
        "skipped_cpu_threads": skipped,
        "thread_scaling": thread_scaling(results),
        "flops_per_step_per_sample": 2 * 2 * cfg["hidden"] * cfg["hidden"],
    }


def thread_scaling(results: dict[str, Any]) -> dict[str, Any] | None:
    """Speed-up of each op from the fewest to the most CPU threads, at the longest length.

    The point of Q2-i in one number per op: more parallel hardware speeds up the
    parallel ops, while the RNN's chain of small steps gains little or nothing.
    """
    cpu = {k: v for k, v in results.items() if k.startswith("cpu-")}
    if len(cpu) < 2:
        return None
    by_threads = sorted(cpu.values(), key=lambda r: r["hardware"]["torch_threads"])
    fewest, most = by_threads[0], by_threads[-1]
    best = {
        name: {r["op"]: r["best_ms"] for r in run["rows"] if r["length"] == run["longest"]}
        for name, run in (("fewest", fewest), ("most", most))
    }
    return {
        "threads_from": fewest["hardware"]["torch_threads"],
        "threads_to": most["hardware"]["torch_threads"],
        "length": fewest["longest"],
        "speedup": {op: best["fewest"][op] / best["most"][op] for op in OPS},
    }


def _main(argv: list[str] | None) -> int:
    args = parse_args(argv, "Q2-i: RNN vs equal-FLOP convolution and matmul timings")
    set_threads(args.threads)
    write_json(args.out, run(args.params, max_threads=args.threads))
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
