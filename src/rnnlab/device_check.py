"""The workflow's first job when the config says `device: cuda`: is there a GPU here?

Run where the training jobs run (on a cluster it asks for the same GPU), before
them: a job that cannot get its device fails here, in a second, instead of after
Snakemake has deleted the outputs of the trainings it was about to rerun.

    python -m rnnlab.device_check --device cuda --out results/device.json
"""

from __future__ import annotations

import argparse
import platform

from rnnlab.runtime import cli, resolve_device, write_json


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.device_check")
    parser.add_argument("--device", required=True, help="the config's device: auto, cpu or cuda")
    parser.add_argument("--out", required=True, help="JSON naming the device found")
    args = parser.parse_args(argv)
    device = resolve_device(args.device)
    found = {"config": args.device, "device": str(device), "host": platform.node()}
    if device.type == "cuda":
        import torch

        found["gpu"] = torch.cuda.get_device_name(device)
    write_json(args.out, found)
    print(f"device {args.device}: using {found.get('gpu', device)} on {found['host']}")
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
