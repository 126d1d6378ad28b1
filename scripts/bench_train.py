"""Speed benchmark of the Q6-A training step against a naive baseline, on real IMDb batches.

    python scripts/bench_train.py --data results/data/imdb/encoded.pt --length 400

Both variants train the same model (same initial weights) on the same sample of
training reviews, cut to `--length` tokens, with the same batch size, in one
process; rounds alternate between them so machine load hits both alike:

* naive: random batches padded to the full length, dense embedding gradients, one
  dense Adam over every weight, `clip_grad_norm_`;
* ours (rnnlab.sentiment.train): batches bucketed by length and trimmed to their longest
  review, sparse embedding gradients with a lazy Adam, the same global-norm clip.

Speed is counted in real (non-pad) tokens per second, the work that matters:
both variants see exactly the same reviews per round. The median over rounds is
reported, and the speed-up as the median over rounds of the paired ratio naive
time / our time. Not a test: timings depend on the machine and its load.

Q7 (`--part forecast`): the process CPU seconds of one full training pass of the
engine (`rnnlab.training.train_epoch`) over every training window, and of one
validation pass, on the prepared power series:

    python scripts/bench_train.py --part forecast --series results/data/power/series.npz \
        --prep results/data/power/prep.json --cell lstm --length 60
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

from rnnlab.data.imdb import load_encoded
from rnnlab.runtime import seed_everything, set_threads, write_json
from rnnlab.sentiment.batching import bucketed_order, iterate
from rnnlab.sentiment.models import SentimentRNN
from rnnlab.sentiment.train import Hyper, Optimiser, Split, clip_split
from rnnlab.training import epoch_generator


def naive_pass(model: SentimentRNN, split: Split, batch_size: int, lr: float, seed: int) -> float:
    """One pass of the naive loop; returns seconds."""
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    order = bucketed_order(split.lengths, batch_size, 1, epoch_generator(seed, 1))
    started = time.perf_counter()
    for batch in iterate(split.ids, split.lengths, split.labels, order, trim=False):
        optimiser.zero_grad(set_to_none=True)
        loss = F.binary_cross_entropy_with_logits(model(batch.ids, batch.lengths), batch.labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
    return time.perf_counter() - started


def our_pass(model: SentimentRNN, split: Split, hyper: Hyper, seed: int) -> float:
    """One pass of the sentiment training loop (bucketing, trimming, sparse embedding); seconds."""
    optimiser = Optimiser(model, hyper)
    order = bucketed_order(
        split.lengths, hyper.batch_size, hyper.bucket_pool, epoch_generator(seed, 1)
    )
    started = time.perf_counter()
    for batch in iterate(split.ids, split.lengths, split.labels, order, trim=True):
        optimiser.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(batch.ids, batch.lengths), batch.labels)
        loss.backward()
        optimiser.clip()
        optimiser.step()
    model.embedding.sparse = False  # hand the model back in its default state
    return time.perf_counter() - started


def forecast_pass(args: argparse.Namespace) -> dict:
    """CPU seconds of one Q7 training pass and one validation pass (engine code paths)."""
    import numpy as np

    from rnnlab import training
    from rnnlab.data.power import load_series
    from rnnlab.forecast.models import Forecaster
    from rnnlab.forecast.train import build_windows, make_task, persistence_errors

    series = load_series(args.series, args.prep)
    windows = build_windows(series, args.length, args.length)
    persistence_val = float(np.mean(persistence_errors(series, windows, "val") ** 2))
    seed_everything(args.seed)
    model = Forecaster(args.cell, series.values.shape[1], 64, 2)
    cfg = {"batch_size": args.batch_size, "lr": 0.002, "grad_clip": 1.0}
    task = make_task("bench", model, windows, cfg, persistence_val, torch.device("cpu"))
    settings = training.Settings(lr=0.002, max_epochs=1, patience=1)
    tick = time.process_time()
    training.train_epoch(task, settings, args.seed, training.State(), print)
    train_cpu = time.process_time() - tick
    tick = time.process_time()
    task.validate()
    return {"cell": args.cell, "length": args.length, "batch_size": args.batch_size,
            "threads": args.threads, "train_windows": len(windows["train"][1]),
            "val_windows": len(windows["val"][1]), "train_pass_cpu_s": train_cpu,
            "val_pass_cpu_s": time.process_time() - tick, "torch": torch.__version__}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["sentiment", "forecast"], default="sentiment")
    parser.add_argument("--series", default="results/data/power/series.npz")
    parser.add_argument("--prep", default="results/data/power/prep.json")
    parser.add_argument("--data", default="results/data/imdb/encoded.pt")
    parser.add_argument("--length", type=int, default=400)
    parser.add_argument("--cell", default="lstm", help="rnn or lstm (Q7: any forecast model)")
    parser.add_argument("--reviews", type=int, default=1536, help="training reviews per pass")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--bucket-pool", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = parser.parse_args(argv)

    set_threads(args.threads)
    if args.part == "forecast":
        result = forecast_pass(args)
        print(result)
        if args.json:
            write_json(args.json, result)
        return 0
    data = load_encoded(args.data)
    full = clip_split(data, "train", args.length)
    pick = torch.randperm(len(full), generator=torch.Generator().manual_seed(args.seed))
    pick = pick[: args.reviews]
    split = Split(full.ids[pick], full.lengths[pick], full.labels[pick])
    real_tokens = int(split.lengths.sum())
    hyper = Hyper(batch_size=args.batch_size, bucket_pool=args.bucket_pool)

    def fresh_model() -> SentimentRNN:
        seed_everything(args.seed)
        return SentimentRNN(int(data["vocab_size"]), 128, 128, args.cell, int(data["pad_id"]))

    # One untimed warm-up pass each: allocator, kernels and page cache settle first.
    naive_pass(fresh_model(), split, args.batch_size, hyper.lr, args.seed)
    our_pass(fresh_model(), split, hyper, args.seed)
    naive_s: list[float] = []
    ours_s: list[float] = []
    for round_ in range(args.rounds):
        # Alternate which variant goes first, so a load change mid-round favours neither.
        if round_ % 2 == 0:
            naive_s.append(naive_pass(fresh_model(), split, args.batch_size, hyper.lr, args.seed))
            ours_s.append(our_pass(fresh_model(), split, hyper, args.seed))
        else:
            ours_s.append(our_pass(fresh_model(), split, hyper, args.seed))
            naive_s.append(naive_pass(fresh_model(), split, args.batch_size, hyper.lr, args.seed))
        print(
            f"round {round_ + 1}: naive {real_tokens / naive_s[-1]:,.0f} tokens/s, "
            f"ours {real_tokens / ours_s[-1]:,.0f} tokens/s, "
            f"ratio {naive_s[-1] / ours_s[-1]:.2f}",
            flush=True,
        )
    naive_rate = real_tokens / statistics.median(naive_s)
    ours_rate = real_tokens / statistics.median(ours_s)
    # The ratio of each round pairs two passes run back to back under the same load;
    # its median is steadier than the ratio of medians on a busy machine.
    speedup = statistics.median(n / o for n, o in zip(naive_s, ours_s, strict=True))
    result = {
        "cell": args.cell,
        "length": args.length,
        "reviews": len(split),
        "real_tokens": real_tokens,
        "padded_tokens_naive": len(split) * args.length,
        "batch_size": args.batch_size,
        "threads": args.threads,
        "rounds": args.rounds,
        "naive_tokens_per_s": naive_rate,
        "ours_tokens_per_s": ours_rate,
        "speedup": speedup,
        "round_ratios": [n / o for n, o in zip(naive_s, ours_s, strict=True)],
        "torch": torch.__version__,
    }
    print(
        f"{args.cell} L={args.length}, {len(split)} reviews, {real_tokens:,} real tokens, "
        f"{args.threads} thread(s): naive {naive_rate:,.0f} tokens/s, ours {ours_rate:,.0f} "
        f"tokens/s, speed-up {result['speedup']:.2f}x"
    )
    if args.json:
        write_json(args.json, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
