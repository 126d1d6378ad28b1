"""Font manifest: verified tarball reuse, checksum errors, the clear no-font error."""

from __future__ import annotations

import io
import json
import sys
import tarfile
from pathlib import Path

import matplotlib
import pytest
from conftest import run_snakemake

from rnnlab.errors import RnnlabError
from rnnlab.runtime import sha256_file
from rnnlab.style import fonts

TTF = Path(matplotlib.get_data_path()) / "fonts" / "ttf"


def fake_vazirmatn_tarball(path: Path) -> str:
    """An npm-pack-shaped tarball whose 'Vazirmatn' TTFs are DejaVu; returns its sha256."""
    path.parent.mkdir(parents=True, exist_ok=True)
    members = {
        "package/fonts/ttf/Vazirmatn-Regular.ttf": (TTF / "DejaVuSans.ttf").read_bytes(),
        "package/fonts/ttf/Vazirmatn-Bold.ttf": (TTF / "DejaVuSans-Bold.ttf").read_bytes(),
        "package/OFL.txt": b"SIL Open Font License 1.1\n",
    }
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return sha256_file(path)


def params(sha: str, prefer: str = "vazirmatn") -> dict[str, str]:
    return {"prefer": prefer, "vazirmatn_version": "9.9.9", "vazirmatn_sha256": sha}


@pytest.fixture
def no_noto(monkeypatch):
    """Pretend the pip fallback is not installed, whatever this machine has."""
    real = fonts.importlib.util.find_spec
    monkeypatch.setattr(
        fonts.importlib.util,
        "find_spec",
        lambda name, *a: None if name == fonts.NOTO_PACKAGE else real(name, *a),
    )


def test_verified_tarball_is_reused_without_npm(tmp_path, no_noto):
    sha = fake_vazirmatn_tarball(tmp_path / "cache" / "vazirmatn-9.9.9.tgz")
    out = tmp_path / "fonts" / "fonts.json"
    manifest = fonts.build_manifest(
        out, params(sha), npm="/nonexistent/npm", reuse=(tmp_path / "cache",)
    )
    assert manifest["family"] == "Vazirmatn" and manifest["source"].startswith("npm:vazirmatn@")
    written = json.loads(out.read_text())
    # Paths relative to the manifest: the folder can move.
    assert written["regular"] == "vazirmatn-9.9.9/Vazirmatn-Regular.ttf"
    fontset = fonts.load_manifest(out)
    assert fontset.regular.exists() and fontset.bold.exists() and not fontset.variable
    css = fonts.font_face_css(fontset)
    assert css.count("@font-face") == 2 and "font-weight: 700" in css and "file://" in css


def test_no_font_anywhere_is_one_clear_error(tmp_path, no_noto):
    with pytest.raises(RnnlabError) as err:
        fonts.build_manifest(tmp_path / "fonts.json", params("0" * 64), npm="/nonexistent/npm")
    message = str(err.value)
    assert "no Persian font available" in message
    assert "npm pack vazirmatn@9.9.9" in message
    assert "pip install fontpkg-noto-sans-arabic" in message
    assert not (tmp_path / "fonts.json").exists()


def test_wrong_checksum_tarball_is_not_used(tmp_path, no_noto):
    fake_vazirmatn_tarball(tmp_path / "cache" / "vazirmatn-9.9.9.tgz")
    with pytest.raises(RnnlabError, match="no Persian font"):
        fonts.build_manifest(
            tmp_path / "out" / "fonts.json",
            params("f" * 64),
            npm="/nonexistent/npm",
            reuse=(tmp_path / "cache",),
        )


def test_cli_prints_the_error_without_traceback(tmp_path, no_noto, capsys, monkeypatch):
    argv = ["fonts", "--out", str(tmp_path / "f.json"), "--npm", "/nonexistent/npm"]
    monkeypatch.setattr(sys, "argv", [*argv, "--params", json.dumps(params("0" * 64))])
    with pytest.raises(SystemExit) as exit_code:
        fonts.main()
    assert exit_code.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("rnnlab error: no Persian font available") and "Traceback" not in err


def test_noto_fallback_when_preferred(tmp_path, monkeypatch):
    package = tmp_path / "site" / fonts.NOTO_PACKAGE
    (package / "files").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "files" / fonts.NOTO_FILE).write_bytes((TTF / "DejaVuSans.ttf").read_bytes())
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    manifest = fonts.build_manifest(
        tmp_path / "fonts.json", params("0" * 64, prefer="noto"), npm="/nonexistent/npm"
    )
    assert manifest["family"] == "Noto Sans Arabic" and manifest["variable"] is True
    fontset = fonts.load_manifest(tmp_path / "fonts.json")
    assert "font-weight: 100 900" in fonts.font_face_css(fontset)


def test_load_manifest_detects_a_changed_font(tmp_path, no_noto):
    sha = fake_vazirmatn_tarball(tmp_path / "vazirmatn-9.9.9.tgz")
    out = tmp_path / "fonts.json"
    fonts.build_manifest(out, params(sha), npm="/nonexistent/npm")
    (tmp_path / "vazirmatn-9.9.9" / "Vazirmatn-Bold.ttf").write_bytes(b"not a font")
    with pytest.raises(RnnlabError, match="does not match the checksum"):
        fonts.load_manifest(out)
    (tmp_path / "vazirmatn-9.9.9" / "Vazirmatn-Bold.ttf").unlink()
    with pytest.raises(RnnlabError, match="is missing"):
        fonts.load_manifest(out)


def test_font_rule_in_another_directory_reuses_the_repo_tarball(tmp_path):
    """The report_fonts rule, run by Snakemake outside the repository (as tests do)."""
    repo = Path(__file__).resolve().parents[1]
    cached = repo / "resources" / "fonts" / "vazirmatn-33.0.3.tgz"
    if not cached.exists():
        pytest.skip("the repository has no fetched Vazirmatn tarball (run the font rule once)")
    config = repo / "config" / "config.yaml"
    done = run_snakemake(tmp_path, config, "resources/fonts/fonts.json", check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    fontset = fonts.load_manifest(tmp_path / "resources" / "fonts" / "fonts.json")
    assert fontset.family == "Vazirmatn" and fontset.bold.name == "Vazirmatn-Bold.ttf"
    assert (tmp_path / "logs" / "report_fonts.log").read_text().startswith("font: Vazirmatn")
