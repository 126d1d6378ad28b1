"""User-facing errors: a message that names the problem and the fix, never a stack trace."""

from __future__ import annotations

import errno
import os


class RnnlabError(Exception):
    """A problem with the user's input or environment that the user can fix.

    The message must say what is wrong and how to fix it; `cli.main` prints it
    without a traceback and exits with status 2.
    """


#: errno -> (what happened, how to fix it), for OSError messages.
_OS_FIXES: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("disk full", "free space on that disk (or move the project) and rerun"),
    errno.EDQUOT: ("disk quota exceeded", "free space within your quota and rerun"),
    errno.EACCES: (
        "permission denied",
        "make the folder and file writable for you (chmod/chown) or run from a folder you own",
    ),
    errno.EPERM: (
        "operation not permitted",
        "make the folder and file writable for you (chmod/chown) or run from a folder you own",
    ),
    errno.EROFS: (
        "read-only file system",
        "run the project from a writable folder or remount the disk read-write",
    ),
    errno.ENOENT: ("no such file or folder", "check the path (config or command line) and rerun"),
    errno.EISDIR: ("it is a folder", "remove or rename the folder, or pass a file path"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "fix the path"),
    errno.EMFILE: ("too many open files", "raise `ulimit -n` or run fewer jobs at once"),
    errno.EIO: ("input/output error", "check the disk (dmesg) and rerun"),
}


def describe_os_error(err: OSError, action: str | None = None, path: object = None) -> str:
    """One line for an OSError: `cannot <action> <path>: <what>; <fix>`."""
    where = path if path is not None else err.filename
    verb = action or "access"
    what, fix = _OS_FIXES.get(
        err.errno or -1,
        (err.strerror or str(err), "check the path, its permissions and the free space"),
    )
    if err.errno and err.errno not in _OS_FIXES:
        what = f"{what} ({errno.errorcode.get(err.errno, err.errno)})"
    target = f" {os.fspath(where)}" if isinstance(where, str | bytes | os.PathLike) else ""
    return f"cannot {verb}{target}: {what}; {fix}."
