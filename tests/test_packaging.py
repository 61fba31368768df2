"""The installable app: its desktop files, icons and version resource, and a real one-folder
build (PyInstaller) that passes its own self-test and upgrades an old clinic database."""

from __future__ import annotations

import configparser
import io
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from desk_app import __version__
from desk_app.services.db import HEAD_REVISION, make_engine
from tests.upgrade_support import missing_or_changed, snapshot, upgrade_sources

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
sys.path.insert(0, str(PACKAGING))

import build_app as bundle  # noqa: E402
import bundle_contents  # noqa: E402
import make_icons  # noqa: E402
from windows_version import version_info_text, version_numbers  # noqa: E402

DESKTOP = PACKAGING / "linux" / "front-desk.desktop"
METAINFO = PACKAGING / "linux" / "io.frontdesk.FrontDesk.metainfo.xml"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (./dev setup installs it)")
    return found


# -- Linux desktop integration -----------------------------------------------------------------


def test_the_desktop_file_is_valid_and_launches_desk_app() -> None:
    result = subprocess.run([_tool("desktop-file-validate"), str(DESKTOP)],
                            capture_output=True, text=True)
    errors = [line for line in result.stdout.splitlines() if "error:" in line]
    assert result.returncode == 0 and errors == [], result.stdout
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(DESKTOP, encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Exec"] == "desk-app"
    assert section["Icon"] == "front-desk"


def test_the_appstream_metadata_validates_and_matches_the_app() -> None:
    result = subprocess.run(
        [_tool("appstreamcli"), "validate", "--no-net", "--explain", str(METAINFO)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("launchable") == DESKTOP.name
    assert root.findtext("icon") == "front-desk"
    releases = root.findall("releases/release")
    assert releases[0].get("version") == __version__, "add a <release> for this version"


def test_the_linux_icon_sizes_are_the_app_icon() -> None:
    for size in make_icons.HICOLOR_SIZES:
        path = PACKAGING / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "front-desk.png"
        with Image.open(path) as image:
            assert image.size == (size, size)


# -- Windows and macOS -----------------------------------------------------------------------


def _difference(a: Image.Image, b: Image.Image) -> float:
    """Mean absolute difference of two RGBA images of one size, 0 to 255."""
    pa, pb = a.convert("RGBA").tobytes(), b.convert("RGBA").tobytes()
    return sum(abs(x - y) for x, y in zip(pa, pb, strict=True)) / len(pa)


def test_the_ico_and_icns_hold_every_size_drawn_from_the_svg() -> None:
    with Image.open(PACKAGING / "icons" / "front-desk.ico") as ico:
        assert {(s, s) for s in make_icons.ICO_SIZES} <= set(ico.info["sizes"])
        ico.size = (256, 256)
        ico.load()
        drawn = Image.open(io.BytesIO(make_icons.render_png(256)))
        assert _difference(ico, drawn) < 2.0, "run packaging/make_icons.py after an SVG change"
    with Image.open(PACKAGING / "icons" / "front-desk.icns") as icns:
        # Retina pairs from 16 to 512 pt: the 1024 px image is 512 pt at 2x.
        assert {(512, 512, 2), (256, 256, 1), (128, 128, 1), (32, 32, 2), (16, 16, 2)} <= set(
            icns.info["sizes"]
        )


def test_windows_version_info_is_read_by_pyinstaller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import PyInstaller.compat

    # PyInstaller's version-resource module imports win32api (used only to write a resource
    # into an .exe, on Windows); its parser is plain Python and runs anywhere.
    monkeypatch.setattr(PyInstaller.compat, "win32api", None, raising=False)
    from PyInstaller.utils.win32.versioninfo import load_version_info_from_text_file

    path = tmp_path / "version_info.txt"
    path.write_text(version_info_text(__version__, 2026), encoding="utf-8")
    info = load_version_info_from_text_file(str(path))
    assert info.ffi.fileVersionMS >> 16 == version_numbers(__version__)[0]
    text = str(info)
    assert f"StringStruct('ProductVersion', '{__version__}')" in text
    assert "StringStruct('OriginalFilename', 'front-desk.exe')" in text
    assert version_numbers("1.2.3rc1") == (1, 2, 3, 0)
    assert version_numbers("2.0") == (2, 0, 0, 0)


def test_the_bundle_leaves_out_translations_and_unused_plugins_only() -> None:
    keep_data, keep_binary = bundle_contents.keep_data, bundle_contents.keep_binary
    assert keep_data("PySide6/Qt/translations/qtwebengine_locales/en-US.pak")
    assert not keep_data("PySide6/Qt/translations/qtwebengine_locales/de.pak")
    assert not keep_data("PySide6/Qt/translations/qtbase_fr.qm")
    assert keep_data("PySide6/Qt/resources/qtwebengine_resources.pak")
    assert keep_data("desk_app/migrations/versions/0001_initial_schema.py")
    assert not keep_binary(
        "PySide6/Qt/plugins/platforminputcontexts/libqtvirtualkeyboardplugin.so"
    )
    assert keep_binary("PySide6/Qt/plugins/platforms/libqxcb.so")
    assert keep_binary("PySide6/Qt/lib/libQt6WebEngineCore.so.6")


# -- the real build ----------------------------------------------------------------------------


@pytest.mark.slow
def test_the_one_folder_build_passes_its_self_test_and_upgrades_an_old_clinic(
    tmp_path: Path, demo_template: Path
) -> None:
    pytest.importorskip("PyInstaller", reason="PyInstaller is in the dev extras: ./dev setup")
    dist = tmp_path / "dist"
    try:
        app = bundle.build(dist, tmp_path / "work")
        assert app.is_file() and os.access(app, os.X_OK)
        assert (app.parent / "_internal" / "desk_app" / "migrations" / "versions").is_dir()

        version = subprocess.run([str(app), "--version"], capture_output=True, text=True,
                                 timeout=60)
        assert version.stdout.strip() == f"Front Desk {__version__}"

        result = bundle.self_test(app, tmp_path / "home")
        assert result.returncode == 0, result.stdout + result.stderr[-3000:]
        assert result.stdout.splitlines()[-1] == "Self-test passed."

        # The frozen app finds its migration scripts and upgrades a clinic's data.
        revision = upgrade_sources()[0]
        old = tmp_path / "old" / "front-desk.sqlite3"
        old.parent.mkdir()
        shutil.copyfile(demo_template, old)
        engine = make_engine(f"sqlite:///{old}")
        from desk_app.services.db import downgrade

        downgrade(engine, revision)
        before = snapshot(engine)
        engine.dispose()
        migrated = subprocess.run([str(app), "migrate", "--url", f"sqlite:///{old}"],
                                  capture_output=True, text=True, timeout=120)
        assert migrated.returncode == 0, migrated.stderr
        assert f"Schema is at revision {HEAD_REVISION}" in migrated.stdout
        assert "A copy from before the upgrade is at " in migrated.stdout
        engine = make_engine(f"sqlite:///{old}")
        assert missing_or_changed(before, snapshot(engine)) == []
        engine.dispose()
    finally:
        shutil.rmtree(dist, ignore_errors=True)  # about 450 MB
        shutil.rmtree(tmp_path / "work", ignore_errors=True)
