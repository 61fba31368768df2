"""What the one-folder build leaves out: modules the app never imports, Qt files it never uses.

Kept small and separate so tests/test_packaging.py can check the rules without building.
"""

from __future__ import annotations

#: Python modules PyInstaller would otherwise follow into the bundle.
EXCLUDED_MODULES = [
    "tkinter",
    "_tkinter",
    "unittest",
    "pydoc",
    "pytest",
    "hypothesis",
    "localstripe",
    "aiohttp",
    "aiosmtpd",
    "IPython",
    "numpy",
    "PySide6.QtQml",
    "PySide6.QtQuick",
    "PySide6.QtQuickWidgets",
    "PySide6.QtMultimedia",
    "PySide6.Qt3DCore",
    "PySide6.QtCharts",
    "PySide6.QtDataVisualization",
    "PySide6.QtBluetooth",
    "PySide6.QtSql",
    "PySide6.QtTest",
    "PySide6.QtDesigner",
    "PySide6.QtHelp",
    "PySide6.QtOpenGLWidgets",
]


#: The app speaks English only: of Qt's translations, QtWebEngine's en-US pack is all it needs
#: (Chromium refuses to start its renderer without the pack of the current locale's fallback).
_TRANSLATIONS = "PySide6/Qt/translations/"
_KEPT_TRANSLATIONS = (
    "PySide6/Qt/translations/qtwebengine_locales/en-US.pak",
    "PySide6/Qt/translations/qtwebengine_locales/en-GB.pak",
)
#: Qt plugins for hardware this desk app never meets (on-screen keyboards, serial ports,
#: location services), which would also pull in their libraries.
_UNUSED_PLUGIN_PARTS = ("platforminputcontexts/libqtvirtualkeyboard", "position/", "serialport")


def _posix(path: str) -> str:
    return path.replace("\\", "/")


def keep_data(destination: str) -> bool:
    """Whether a data file (its path inside the bundle) ships."""
    path = _posix(destination)
    if path.startswith(_TRANSLATIONS):
        return path in _KEPT_TRANSLATIONS
    return True


def keep_binary(destination: str) -> bool:
    """Whether a library or plugin (its path inside the bundle) ships."""
    path = _posix(destination)
    return not any(part in path for part in _UNUSED_PLUGIN_PARTS)
