"""Q7 convergence scan: validation curves of full-pass epochs under a few LR schedules.

Not part of the pipeline. One thread, real prepared series; each config trains for a
fixed number of full passes (fresh seeded order each pass), recording validation MSE
after every pass, so patience/cap rules can be evaluated afterwards on the curves.
Usage: python scripts/q7_convergence_scan.py SERIES PREP OUT.jsonl model:length:lr:decay ...
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import torch
from torch import nn

from rnnlab.data.power import load_series, window_targets, windows_for
from rnnlab.forecast.models import Forecaster


def run(
    series,
    model_name: str,
    length: int,
    lr: float,
    decay: float,
    passes: int,
    seed: int = 0,
    batch: int = 128,
) -> dict:
    torch.manual_seed(seed)
    x_tr, y_tr = windows_for(series, window_targets(series, "train", length), length)
    x_va, y_va = windows_for(series, window_targets(series, "val", length), length)
    pers = float(np.mean((x_va[:, -1, series.target_index] - y_va) ** 2))
    model = Forecaster(model_name, x_tr.shape[2], 64, 2)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=decay)
    curve, cpu = [], []
    xv = torch.from_numpy(x_va)
    for epoch in range(passes):
        tick = time.process_time()
        model.train()
        gen = torch.Generator().manual_seed(seed * 100_003 + epoch + 1)
        order = torch.randperm(len(x_tr), generator=gen).numpy()
        for s in range(0, len(order), batch):
            sel = order[s : s + batch]
            opt.zero_grad()
            loss = nn.functional.mse_loss(
                model(torch.from_numpy(x_tr[sel])), torch.from_numpy(y_tr[sel])
            )
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        sched.step()
        model.eval()
        with torch.no_grad():
            pred = torch.cat([model(xv[i : i + 1024]) for i in range(0, len(xv), 1024)]).numpy()
        curve.append(float(np.mean((pred - y_va) ** 2)))
        cpu.append(time.process_time() - tick)
        print(
            model_name,
            length,
            lr,
            decay,
            epoch + 1,
            round(curve[-1], 4),
            round(cpu[-1], 1),
            flush=True,
        )
    return {
        "model": model_name,
        "length": length,
        "lr": lr,
        "decay": decay,
        "seed": seed,
        "val_curve": curve,
        "cpu_per_pass": cpu,
        "persistence_val": pers,
    }


def main() -> None:
    torch.set_num_threads(1)
    series = load_series(sys.argv[1], sys.argv[2])
    out, specs = sys.argv[3], sys.argv[4:]
    for spec in specs:
        model, length, lr, decay, passes = spec.split(":")
        rec = run(series, model, int(length), float(lr), float(decay), int(passes))
        with open(out, "a") as fh:
            fh.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
