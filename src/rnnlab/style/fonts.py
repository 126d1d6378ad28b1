"""The Persian font: fetch it, verify it, describe it in a manifest, load it.

Lookup order (the first that works wins, unless the config prefers Noto):
1. Vazirmatn from npm: `npm pack vazirmatn@<version>` into resources/fonts/,
   the tarball's sha256 checked against the config, the Regular and Bold TTFs
   extracted. A tarball already there with the right checksum is reused, so a
   rerun needs no network.
2. Noto Sans Arabic from the pip package `fontpkg-noto-sans-arabic`.
3. Neither: one RnnlabError naming both fixes.

The manifest (`resources/fonts/fonts.json`, FONT_MANIFEST in style.smk) names
the family, the regular and bold files (relative to the manifest when they live
beside it) and their checksums; figures and the PDF read only the manifest.

    python -m rnnlab.style.fonts --out resources/fonts/fonts.json --params '<json>'
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rnnlab.errors import RnnlabError
from rnnlab.runtime import atomic_write, cli, read_json, sha256_file, write_bytes, write_json

NOTO_PACKAGE = "fontpkg_noto_sans_arabic"
NOTO_FILE = "NotoSansArabic[wdth,wght].ttf"
VAZIRMATN_MEMBERS = {
    "regular": "package/fonts/ttf/Vazirmatn-Regular.ttf",
    "bold": "package/fonts/ttf/Vazirmatn-Bold.ttf",
    "license": "package/OFL.txt",
}
FIX_HINT = (
    "fix: make `npm pack vazirmatn@{version}` work (npm on PATH and the npm registry "
    "reachable, or put vazirmatn-{version}.tgz into {folder}), "
    "or `pip install fontpkg-noto-sans-arabic` for the fallback font"
)


@dataclass(frozen=True)
class FontSet:
    """The font files a figure or the PDF uses, as absolute paths."""

    family: str
    regular: Path
    bold: Path
    # A variable font has every weight in one file (Noto); CSS then gives it a weight range.
    variable: bool
    source: str


def _npm_tarball(
    folder: Path, version: str, sha256: str, npm: str, reuse: tuple[Path, ...] = ()
) -> Path:
    """The verified vazirmatn tarball in `folder`, packing it with npm if needed.

    A tarball with the right checksum in `folder` or in one of the `reuse`
    folders (e.g. the repository's resources/fonts/ when the workflow runs in
    another directory) is used instead of the network.
    """
    tarball = folder / f"vazirmatn-{version}.tgz"
    if tarball.exists() and sha256_file(tarball) == sha256:
        return tarball
    for other in reuse:
        candidate = other / tarball.name
        is_other = candidate.exists() and candidate.resolve() != tarball.resolve()
        if is_other and sha256_file(candidate) == sha256:
            atomic_write(tarball, lambda tmp, src=candidate: shutil.copyfile(src, tmp))
            return tarball
    if shutil.which(npm) is None:
        raise RnnlabError(f"`{npm}` is not on PATH")
    folder.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [npm, "pack", f"vazirmatn@{version}", "--pack-destination", str(folder)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise RnnlabError("npm pack timed out after 300 s") from err
    if done.returncode != 0 or not tarball.exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RnnlabError(f"npm pack vazirmatn@{version} failed: {last}")
    actual = sha256_file(tarball)
    if actual != sha256:
        tarball.unlink()
        raise RnnlabError(
            f"vazirmatn-{version}.tgz has sha256 {actual}, expected {sha256} "
            "(report.font.vazirmatn_sha256); the download was removed"
        )
    return tarball


def fetch_vazirmatn(
    folder: Path, version: str, sha256: str, npm: str = "npm", reuse: tuple[Path, ...] = ()
) -> dict[str, Any]:
    """Vazirmatn TTFs extracted beside the manifest; returns the manifest fields."""
    tarball = _npm_tarball(folder, version, sha256, npm, reuse)
    target = folder / f"vazirmatn-{version}"
    target.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    with tarfile.open(tarball, "r:gz") as archive:
        for role, member in VAZIRMATN_MEMBERS.items():
            try:
                source = archive.extractfile(member)
            except KeyError as err:
                raise RnnlabError(f"{tarball.name} has no {member}") from err
            if source is None:
                raise RnnlabError(f"{tarball.name}: {member} is not a file")
            out = target / Path(member).name
            write_bytes(out, source.read())
            files[role] = str(out.relative_to(folder))
    return {
        "family": "Vazirmatn",
        "regular": files["regular"],
        "bold": files["bold"],
        "license": files["license"],
        "variable": False,
        "source": f"npm:vazirmatn@{version} sha256:{sha256}",
    }


def find_noto() -> dict[str, Any]:
    """Noto Sans Arabic from the pip package, located without importing it."""
    spec = importlib.util.find_spec(NOTO_PACKAGE)
    if spec is None or spec.origin is None:
        raise RnnlabError("the pip package fontpkg-noto-sans-arabic is not installed")
    path = Path(spec.origin).parent / "files" / NOTO_FILE
    if not path.exists():
        raise RnnlabError(f"fontpkg-noto-sans-arabic has no {NOTO_FILE}")
    return {
        "family": "Noto Sans Arabic",
        "regular": str(path),
        "bold": str(path),
        "license": str(path.parent.parent / "LICENSE"),
        "variable": True,
        "source": "pip:fontpkg-noto-sans-arabic",
    }


def build_manifest(
    out: Path, params: dict[str, Any], npm: str = "npm", reuse: tuple[Path, ...] = ()
) -> dict[str, Any]:
    """Find a Persian font (see the module doc) and write the manifest `out`."""
    folder = out.parent
    version = params["vazirmatn_version"]
    prefer = params.get("prefer", "vazirmatn")
    failures: list[str] = []
    sha256 = params["vazirmatn_sha256"]
    attempts = [
        ("vazirmatn", lambda: fetch_vazirmatn(folder, version, sha256, npm, reuse)),
        ("noto", find_noto),
    ]
    if prefer == "noto":
        attempts.reverse()
    for name, attempt in attempts:
        try:
            manifest = attempt()
        except RnnlabError as err:
            failures.append(f"{name}: {err}")
            continue
        base = folder.resolve()
        manifest["sha256"] = {
            role: sha256_file(base / manifest[role]) for role in ("regular", "bold")
        }
        write_json(out, manifest)
        return manifest
    raise RnnlabError(
        "no Persian font available ("
        + "; ".join(failures)
        + "); "
        + FIX_HINT.format(version=version, folder=folder)
    )


def load_manifest(path: str | Path, verify: bool = True) -> FontSet:
    """The fonts a manifest names, checked to exist (and match their checksums)."""
    path = Path(path)
    if not path.exists():
        raise RnnlabError(
            f"font manifest {path} does not exist; build it with "
            f"`snakemake {path}` (rule report_fonts)."
        )
    data = read_json(path)
    try:
        fontset = FontSet(
            family=data["family"],
            regular=(path.parent / data["regular"]).resolve(),
            bold=(path.parent / data["bold"]).resolve(),
            variable=bool(data.get("variable", False)),
            source=data.get("source", "unknown"),
        )
    except KeyError as err:
        raise RnnlabError(
            f"font manifest {path} lacks {err}; delete it and rerun the font rule"
        ) from err
    for role in ("regular", "bold"):
        file = getattr(fontset, role)
        if not file.exists():
            raise RnnlabError(
                f"font file {file} named by {path} is missing; delete {path} and rerun "
                "`snakemake resources/fonts/fonts.json`."
            )
        expected = data.get("sha256", {}).get(role)
        if verify and expected and sha256_file(file) != expected:
            raise RnnlabError(
                f"font file {file} does not match the checksum in {path}; "
                "delete the manifest and rerun the font rule."
            )
    return fontset


def font_face_css(fontset: FontSet) -> str:
    """@font-face rules loading the files by URI (a fontconfig name can pick another copy)."""
    if fontset.variable:
        return (
            f'@font-face {{ font-family: "{fontset.family}"; '
            f'src: url("{fontset.regular.as_uri()}"); font-weight: 100 900; }}\n'
        )
    return "".join(
        f'@font-face {{ font-family: "{fontset.family}"; src: url("{file.as_uri()}"); '
        f"font-weight: {weight}; }}\n"
        for file, weight in ((fontset.regular, 400), (fontset.bold, 700))
    )


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rnnlab.style.fonts", description=__doc__)
    parser.add_argument("--out", required=True, type=Path, help="manifest to write")
    parser.add_argument("--params", required=True, help="the config's report.font section as JSON")
    parser.add_argument("--npm", default="npm", help="npm executable")
    parser.add_argument(
        "--reuse", type=Path, action="append", default=[], help="folder with a verified tarball"
    )
    args = parser.parse_args(argv)
    manifest = build_manifest(
        args.out, json.loads(args.params), npm=args.npm, reuse=tuple(args.reuse)
    )
    print(f"font: {manifest['family']} from {manifest['source']}")
    return 0


main = cli(_main)

if __name__ == "__main__":
    main()
