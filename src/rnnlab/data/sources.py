"""Where a data archive comes from: checksum verification and the download fallback.

The lookup order itself (configured path, else the offline copy, else a download
into resources/) is decided in workflow/rules/common.smk, because it chooses
which rule produces the archive; this module does the work once a path is known.
"""

from __future__ import annotations

import argparse
import urllib.error
import urllib.request
from pathlib import Path

from rnnlab.errors import RnnlabError
from rnnlab.runtime import atomic_write, cli, sha256_file, write_text

CHUNK = 1 << 20


def require_file(path: str | Path, what: str, config_key: str) -> Path:
    """A clear error for a configured path that does not exist."""
    path = Path(path)
    if not path.is_file():
        raise RnnlabError(
            f"{what} not found at {path}. Fix `{config_key}` in the config "
            f"(or set it to null to use the offline copy or the download)."
        )
    return path


def verify_sha256(path: str | Path, accepted: list[str], what: str, config_key: str) -> str:
    """Refuse a file whose checksum is not one of `accepted`; return the checksum."""
    found = sha256_file(path)
    if accepted and found not in accepted:
        raise RnnlabError(
            f"checksum mismatch for the {what} {path}: expected "
            f"{' or '.join(accepted)}, found {found}. The file is corrupt, truncated or "
            f"a different version: replace it with a good copy (delete it to re-download), "
            f"or, if you trust this copy, add its sha256 to `{config_key}`."
        )
    return found


def download(url: str, dest: str | Path, looked_up: list[str], what: str, config_key: str) -> None:
    """Fetch `url` into `dest` atomically, or fail naming every place looked at.

    A network failure names the places and the config key; a failure to write (a
    full disk) is reported as such by `atomic_write`.
    """
    dest = Path(dest)
    print(f"downloading {what} from {url} -> {dest}", flush=True)

    def network_error(err: BaseException) -> RnnlabError:
        places = "\n  ".join([*looked_up, url])
        return RnnlabError(
            f"the {what} is not available. Looked in:\n  {places}\n"
            f"and the download failed ({err}). Fix: put a copy at one of those paths, "
            f"or set `{config_key}` in the config to where your copy is."
        )

    def fetch(tmp: Path) -> None:
        try:
            response = urllib.request.urlopen(url, timeout=60)
        except (urllib.error.URLError, OSError, TimeoutError, ValueError) as err:
            raise network_error(err) from None
        with response, open(tmp, "wb") as out:
            while True:
                try:
                    chunk = response.read(CHUNK)
                except (OSError, TimeoutError) as err:
                    raise network_error(err) from None
                if not chunk:
                    break
                out.write(chunk)  # an OSError here is the disk's: atomic_write names it

    atomic_write(dest, fetch)


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.data.sources")
    sub = parser.add_subparsers(dest="command", required=True)
    dl = sub.add_parser("download", help="fetch an archive and verify its checksum")
    dl.add_argument("--url", required=True)
    dl.add_argument("--dest", required=True)
    dl.add_argument("--what", required=True)
    dl.add_argument("--config-key", required=True, help="config key that names the archive")
    dl.add_argument("--looked-up", action="append", default=[])
    dl.add_argument("--sha256", action="append", default=[])
    check = sub.add_parser("verify", help="verify a file's checksum and record it")
    check.add_argument("--path", required=True)
    check.add_argument("--what", required=True)
    check.add_argument("--config-key", required=True, help="config key of the accepted checksums")
    check.add_argument("--sha256", action="append", default=[])
    check.add_argument("--out", required=True, help="file to write the verified checksum to")
    args = parser.parse_args(argv)
    if args.command == "verify":
        require_file(args.path, args.what, args.config_key.rsplit(".", 1)[0] + ".archive")
        found = verify_sha256(args.path, args.sha256, args.what, args.config_key)
        write_text(args.out, f"{found}  {Path(args.path).name}\n")
        print(f"{args.what} {args.path}: sha256 {found} accepted")
        return 0
    download(args.url, args.dest, args.looked_up, args.what, args.config_key)
    try:
        verify_sha256(
            args.dest, args.sha256, args.what, args.config_key.rsplit(".", 1)[0] + ".sha256"
        )
    except RnnlabError:
        # Keep nothing that failed verification: a rerun must download again.
        Path(args.dest).unlink()
        raise
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
