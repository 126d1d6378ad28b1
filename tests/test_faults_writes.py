"""Writes under faults: no half files, no stale temp files, one-line errors for OSError."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from rnnlab import runtime
from rnnlab.data import imdb
from rnnlab.errors import RnnlabError
from rnnlab.runtime import TMP_MARK, atomic_write, cli, save_torch, write_csv, write_json


def enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def run_cli(main, capsys):
    with pytest.raises(SystemExit) as stop:
        cli(main)()
    return stop.value.code, capsys.readouterr().err


def test_disk_full_is_one_line_naming_the_path(tmp_path, monkeypatch, capsys):
    out = tmp_path / "results" / "summary.json"
    monkeypatch.setattr(Path, "write_text", enospc)
    code, err = run_cli(lambda argv: write_json(out, {"a": 1}), capsys)
    assert code == 2
    assert err == (
        f"rnnlab error: cannot write {out}: disk full; "
        "free space on that disk (or move the project) and rerun.\n"
    )
    assert not out.exists() and list(out.parent.iterdir()) == []


def test_a_full_disk_while_saving_a_checkpoint_is_not_an_iostream_error(
    tmp_path, monkeypatch, capsys
):
    import torch

    out = tmp_path / "last.pt"
    monkeypatch.setattr(Path, "write_bytes", enospc)
    code, err = run_cli(lambda argv: save_torch(out, {"w": torch.zeros(3)}), capsys)
    assert code == 2 and f"cannot write {out}: disk full" in err
    assert "Traceback" not in err and "iostream" not in err


@pytest.mark.parametrize(
    ("number", "words"),
    [
        (errno.EACCES, "permission denied; make the folder and file writable"),
        (errno.EROFS, "read-only file system; run the project from a writable folder"),
        (errno.EDQUOT, "disk quota exceeded"),
    ],
)
def test_other_write_errors_name_the_fix(tmp_path, monkeypatch, capsys, number, words):
    def fail(*args, **kwargs):
        raise OSError(number, os.strerror(number))

    monkeypatch.setattr(Path, "write_text", fail)
    code, err = run_cli(lambda argv: write_json(tmp_path / "x.json", {}), capsys)
    assert code == 2 and f"cannot write {tmp_path / 'x.json'}: {words}" in err


def test_an_oserror_outside_the_helper_is_one_line_too(tmp_path, capsys):
    missing = tmp_path / "nowhere.csv"
    code, err = run_cli(lambda argv: pd.read_csv(missing), capsys)
    assert code == 2 and err.startswith("rnnlab error: cannot access ")
    assert str(missing) in err and "no such file" in err and err.count("\n") == 1


def test_every_entry_point_goes_through_cli():
    """Each `python -m rnnlab...` module's main is wrapped by runtime.cli."""
    src = Path(runtime.__file__).parent
    for module in src.rglob("*.py"):
        text = module.read_text(encoding="utf-8")
        if '__name__ == "__main__"' in text:
            assert "main = cli(_main)" in text, module


def test_a_real_read_only_folder_gives_one_line(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "rnnlab.data.sources", "verify", "--path", __file__,
             "--what", "test file", "--config-key", "x.sha256", "--out", str(folder / "x.sha")],
            capture_output=True, text=True,
        )  # fmt: skip
    finally:
        folder.chmod(0o700)
    assert proc.returncode == 2 and "permission denied" in proc.stderr
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------- atomic, no stale temps


def test_a_failed_csv_write_leaves_the_old_file_and_no_temp(tmp_path, monkeypatch):
    """tokens.csv was written in place: a kill left a partial file the next job read."""
    out = tmp_path / "tokens.csv"
    write_csv(out, pd.DataFrame({"key": ["a"], "tokens": ["x y"]}), index=False)
    before = out.read_bytes()

    def die_half_way(self, handle, *args, **kwargs):
        handle.write("key,tokens\nb,")
        raise KeyboardInterrupt  # the job is killed in the middle of the write

    monkeypatch.setattr(pd.DataFrame, "to_csv", die_half_way)
    with pytest.raises(KeyboardInterrupt):
        write_csv(out, pd.DataFrame({"key": ["b"], "tokens": ["z"]}), index=False)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["tokens.csv"]


def test_imdb_tokenize_writes_through_the_helper(tmp_path, monkeypatch):
    reviews = tmp_path / "reviews.csv"
    pd.DataFrame(
        {"key": ["k"], "split": ["train"], "label": [1], "rating": [9], "text": ["Good film."]}
    ).to_csv(reviews, index=False)
    written = []
    real = runtime.atomic_write
    monkeypatch.setattr(runtime, "atomic_write", lambda p, w: (written.append(p), real(p, w)))
    args = type("A", (), {"reviews": str(reviews), "tokens": str(tmp_path / "tokens.csv")})
    imdb.cmd_tokenize(args, {})
    assert [Path(p).name for p in written] == ["tokens.csv"]


def test_a_killed_writer_s_temp_file_is_removed_by_the_next_write(tmp_path):
    out = tmp_path / "series.npz"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    stale = tmp_path / f".series.npz{TMP_MARK}{dead}-abc123"
    legacy = tmp_path / "series.tmp.npz"
    old_mkstemp = tmp_path / ".series.npz.k2j_9x0a"
    alive = tmp_path / f".series.npz{TMP_MARK}{os.getpid()}-live"
    other = tmp_path / f".other.npz{TMP_MARK}{dead}-abc123"
    for path in (stale, legacy, old_mkstemp, alive, other):
        path.write_bytes(b"half")
    runtime.save_npz(out, x=[1, 2, 3])
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([out.name, alive.name, other.name])


def test_atomic_write_temp_is_hidden_and_the_file_gets_the_normal_mode(tmp_path):
    seen = []
    atomic_write(tmp_path / "a.json", lambda tmp: (seen.append(tmp.name), tmp.write_bytes(b"")))
    assert seen[0].startswith(f".a.json{TMP_MARK}{os.getpid()}-")
    assert not seen[0].endswith(".json")
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_errors_inside_the_library_are_rnnlab_errors(tmp_path, monkeypatch):
    monkeypatch.setattr(Path, "write_text", enospc)
    with pytest.raises(RnnlabError, match="disk full"):
        runtime.write_text(tmp_path / "x.txt", "x")


def test_an_output_under_a_file_is_one_line_from_the_command_line(tmp_path):
    blocker = tmp_path / "results"
    blocker.write_text("a file where a folder should be")
    proc = subprocess.run(
        [sys.executable, "-m", "rnnlab.data.sources", "verify", "--path", __file__,
         "--what", "test file", "--config-key", "x.sha256", "--out", str(blocker / "x.sha")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"rnnlab error: cannot write {blocker / 'x.sha'}")
