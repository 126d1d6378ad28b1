"""Command-line plumbing shared by the theory modules: a JSON `--params` and an `--out`."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from rnnlab.errors import RnnlabError


def parse_args(argv: list[str] | None, description: str, *extra: str) -> argparse.Namespace:
    """`--params JSON --out PATH` plus any `extra` path options (e.g. "--csv")."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--params", required=True, help="JSON of the config section")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the rule's)")
    for option in extra:
        parser.add_argument(option, required=True)
    args = parser.parse_args(argv)
    try:
        args.params = json.loads(args.params)
    except json.JSONDecodeError as err:
        raise RnnlabError(
            f"--params is not valid JSON ({err}); pass the config section as as_json(...)."
        ) from err
    if not isinstance(args.params, dict):
        raise RnnlabError("--params must be a JSON object (a config section).")
    return args


def require(section: Mapping[str, Any], key: str, where: str) -> Any:
    """A config value that must be present, with an error naming the config key."""
    if key not in section:
        raise RnnlabError(f"config `{where}.{key}` is missing; add it to config/config.yaml.")
    return section[key]


def tex_int(value: int) -> str:
    """An integer for LaTeX with thousands separators that do not add math spacing."""
    return f"{value:,}".replace(",", "{,}")


def tex_num(value: float, digits: int = 4) -> str:
    """A real number for LaTeX, trailing zeros removed, negatives in parentheses-free form."""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    if text in {"-0", ""}:
        text = "0"
    return text
