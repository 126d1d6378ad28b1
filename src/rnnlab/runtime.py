"""Process-level set-up shared by every job: threads, seeds, determinism, atomic writes,
file hashes, JSON and the command-line wrapper."""

from __future__ import annotations

import contextlib
import glob
import hashlib
import io
import json
import math
import os
import random
import re
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rnnlab.errors import RnnlabError, describe_os_error


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


#: Marks the temp files of atomic writes: `.<name>.rnnlab-tmp-<pid>-<random>` (hidden,
#: and not ending in the output's suffix, so no `*.json` pattern picks one up).
TMP_MARK = ".rnnlab-tmp-"
_MKSTEMP_TAIL = re.compile(r"[a-z0-9_]{8}")


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def remove_stale_temps(path: Path) -> list[Path]:
    """Delete temp files that a killed writer of `path` left beside it; return them.

    A temp file names its writer's process id: one whose process is gone is stale.
    The names older code used (`x.tmp`, `x.tmp.npz`, `.x.tmp`) are removed too.
    """
    removed = []
    legacy = {
        path.with_suffix(".tmp"),
        path.with_suffix(".tmp.npz"),
        path.with_name(f".{path.name}.tmp"),
        path.with_name(f".{path.stem}.tmp{path.suffix}"),
    }
    # Older writers' mkstemp names: `.<name>.` and eight random characters.
    legacy |= {
        p
        for p in path.parent.glob(f".{glob.escape(path.name)}.????????")
        if _MKSTEMP_TAIL.fullmatch(p.name[len(path.name) + 2 :])
    }
    candidates = set(path.parent.glob(f".{glob.escape(path.name)}{TMP_MARK}*")) | legacy
    for tmp in sorted(candidates - {path}):
        if not tmp.is_file():
            continue
        if TMP_MARK in tmp.name:
            pid = tmp.name.split(TMP_MARK, 1)[1].split("-", 1)[0]
            if pid.isdigit() and _pid_alive(int(pid)):
                continue
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def atomic_write(path: str | Path, write: Callable[[Path], None]) -> None:
    """Write through `write(temp_path)` to a temp file beside `path`, then rename.

    The one way every rnnlab output is written: a killed job leaves no half file
    under the real name (a later write of the same path removes its temp file),
    and a full or read-only disk raises RnnlabError naming `path` and the fix.
    `write` must not choose a format from the temp file's name (pass it explicitly).
    """
    path = Path(path)
    tmp: Path | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}{TMP_MARK}{os.getpid()}-", dir=path.parent)
        os.close(fd)
        tmp = Path(name)
        write(tmp)
        # mkstemp creates 0600; give the file the mode a plain open() would have.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except OSError as err:
        raise RnnlabError(describe_os_error(err, "write", path)) from err
    finally:
        if tmp is not None and tmp.exists():
            with contextlib.suppress(OSError):
                tmp.unlink()


# The private name earlier modules import.
_atomic_write = atomic_write


def write_text(path: str | Path, text: str) -> None:
    """UTF-8 text, atomically."""
    atomic_write(Path(path), lambda p: p.write_text(text, encoding="utf-8"))


def write_bytes(path: str | Path, data: bytes) -> None:
    atomic_write(Path(path), lambda p: p.write_bytes(data))


def write_json(path: str | Path, obj: Any) -> None:
    """Stable JSON (sorted keys, fixed indent) written atomically."""
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    write_text(path, text)


def write_csv(path: str | Path, frame: Any, **to_csv: Any) -> None:
    """A pandas DataFrame as CSV (UTF-8), atomically; keyword arguments go to `to_csv`."""

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            frame.to_csv(handle, **to_csv)

    atomic_write(Path(path), write)


def write_rows(path: str | Path, header: list[str], rows: Any) -> None:
    """Rows (sequences) as CSV with `header` via the csv module, atomically."""
    import csv

    def write(tmp: Path) -> None:
        with open(tmp, "w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(header)
            out.writerows(rows)

    atomic_write(Path(path), write)


def save_npz(path: str | Path, **arrays: Any) -> None:
    """np.savez, atomically (through a handle: numpy would append `.npz` to a name)."""
    import numpy as np

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)

    atomic_write(Path(path), write)


def read_json(path: str | Path) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def sha256_file(path: str | Path) -> str:
    """The SHA-256 of a file's bytes, read a mebibyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def save_torch(path: str | Path, obj: Any) -> None:
    """torch.save, atomically."""
    import torch

    # Serialised in memory first: torch's own file writer reports a full disk as
    # "basic_ios::clear: iostream error"; Python's write raises a real OSError.
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    write_bytes(path, buffer.getvalue())


def non_finite_keys(config: Any, where: str = "") -> list[str]:
    """Dotted config keys whose value is a float that is not finite (.inf, .nan).

    JSON Schema's `type: number` accepts YAML's `.inf` and `.nan`; nothing in the
    config is meant to be infinite, so the workflow refuses them at start.
    """
    if isinstance(config, dict):
        return [
            key
            for name, value in config.items()
            for key in non_finite_keys(value, f"{where}.{name}" if where else str(name))
        ]
    if isinstance(config, list | tuple):
        return [
            key for i, value in enumerate(config) for key in non_finite_keys(value, f"{where}[{i}]")
        ]
    if isinstance(config, float) and not math.isfinite(config):
        return [f"{where} = {config}"]
    return []


def require_finite(config: Any, where: str = "") -> None:
    """RnnlabError naming every config key set to .inf or .nan."""
    bad = non_finite_keys(config, where)
    if bad:
        raise RnnlabError(
            f"config values must be finite numbers: {', '.join(bad)}; set a finite value "
            f"(e.g. `lr: 0.001`) in the config file."
        )


def named_paths(values: list[str], flag: str) -> dict[str, str]:
    """`name=path` command-line values as {name: path}, in order; a malformed or repeated
    name is an error naming the flag."""
    pairs: dict[str, str] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or not name or not path:
            raise RnnlabError(f"{flag} expects name=path, got {value!r}.")
        if name in pairs:
            raise RnnlabError(f"{flag} names {name!r} twice.")
        pairs[name] = path
    return pairs


def cli(main: Callable[[list[str] | None], int | None]) -> Callable[[], None]:
    """Wrap a module's `main(argv)` so user errors print one clear line, not a traceback.

    RnnlabError and OSError (disk full, permission denied, read-only file system,
    missing file, ...) print `rnnlab error: ...` on stderr and exit with status 2.
    """

    def run() -> None:
        try:
            code = main(None)
        except RnnlabError as err:
            print(f"rnnlab error: {err}", file=sys.stderr)
            sys.exit(2)
        except OSError as err:
            # A full disk, a read-only folder, a permission: the path and the fix, no traceback.
            print(f"rnnlab error: {describe_os_error(err)}", file=sys.stderr)
            sys.exit(2)
        sys.exit(code or 0)

    return run
