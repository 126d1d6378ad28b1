"""Process-level set-up shared by every job: threads, seeds, determinism, atomic writes."""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnnlab.errors import RnnlabError


def set_threads(threads: int) -> None:
    """Make torch use exactly the rule's `threads` (Snakemake counts on it)."""
    import torch

    threads = max(1, int(threads))
    os.environ["OMP_NUM_THREADS"] = str(threads)
    torch.set_num_threads(threads)
    # Inter-op pools can only be sized once per process; ignore a second call.
    with contextlib.suppress(RuntimeError):
        torch.set_num_interop_threads(1)


def seed_everything(seed: int) -> None:
    """Seed every RNG we use and ask torch for deterministic kernels."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if torch.backends.cudnn.is_available():
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False


def resolve_device(name: str = "cpu") -> Any:
    """Map the config value `auto|cpu|cuda` to a torch.device, with a clear error."""
    import torch

    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RnnlabError(
            "config asks for device 'cuda' but torch sees no CUDA GPU; "
            "set `device: auto` or `device: cpu` in the config."
        )
    if name not in {"cpu", "cuda"}:
        raise RnnlabError(f"unknown device {name!r}; use one of auto, cpu, cuda.")
    return torch.device(name)


def _atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write to a temp file in the same folder, then rename: a killed job leaves no half file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        # mkstemp creates 0600; give the file the mode a plain open() would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(path: str | Path, obj: Any) -> None:
    """Stable JSON (sorted keys, fixed indent) written atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    _atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def save_torch(path: str | Path, obj: Any) -> None:
    """torch.save, atomically."""
    import torch

    _atomic_write(Path(path), lambda p: torch.save(obj, p))


def cli(main: Callable[[list[str] | None], int | None]) -> Callable[[], None]:
    """Wrap a module's `main(argv)` so user errors print one clear line, not a traceback."""

    def run() -> None:
        try:
            code = main(None)
        except RnnlabError as err:
            print(f"rnnlab error: {err}", file=sys.stderr)
            sys.exit(2)
        sys.exit(code or 0)

    return run
