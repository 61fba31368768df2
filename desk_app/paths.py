"""Every path Front Desk reads or writes comes from here.

By default the folders are the platform's standard per-user folders for the app
"FrontDesk" (via platformdirs), for example on Linux::

    data    ~/.local/share/FrontDesk
    config  ~/.config/FrontDesk
    logs    ~/.local/state/FrontDesk/log
    cache   ~/.cache/FrontDesk

All of them can be moved under one base folder (``<base>/data``, ``<base>/config``,
``<base>/logs``, ``<base>/cache``) with :func:`set_base_dir` (tests, ``--demo``) or with the
environment variable ``DESK_APP_HOME``. An explicit :func:`set_base_dir` wins over the
environment variable; ``set_base_dir(None)`` goes back to the environment or the defaults.

Each ``*_dir()`` function creates its folder on first use, readable only by the current
user where the platform supports it (the folders hold patient data and logs).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import platformdirs

APP_NAME = "FrontDesk"
HOME_ENV_VAR = "DESK_APP_HOME"

_DIR_MODE = 0o700

_base_dir: Path | None = None


def set_base_dir(path: Path | None) -> None:
    """Put every folder under ``path`` (``None``: back to ``DESK_APP_HOME`` or the defaults).

    The folder itself is created lazily, when one of the ``*_dir()`` functions is called.
    """
    global _base_dir
    _base_dir = None if path is None else Path(path).expanduser().absolute()


def base_dir() -> Path | None:
    """The folder everything is relocated under, or ``None`` for the platform defaults."""
    if _base_dir is not None:
        return _base_dir
    from_env = os.environ.get(HOME_ENV_VAR, "").strip()
    if from_env:
        return Path(from_env).expanduser().absolute()
    return None


def _platform_dirs() -> platformdirs.PlatformDirs:
    return platformdirs.PlatformDirs(APP_NAME, appauthor=False)


def _ensure(path: Path) -> Path:
    """Create ``path`` (and parents) if missing; a newly made folder gets mode 0o700."""
    if not path.is_dir():
        path.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        # mkdir's mode is filtered by the umask; set it explicitly. No-op on Windows.
        with contextlib.suppress(OSError):
            os.chmod(path, _DIR_MODE)
    return path


def _resolve(subfolder: str, default: Path) -> Path:
    base = base_dir()
    return _ensure(default if base is None else base / subfolder)


def data_dir() -> Path:
    """Where the embedded database and other user data live."""
    return _resolve("data", _platform_dirs().user_data_path)


def config_dir() -> Path:
    """Where config.toml lives."""
    return _resolve("config", _platform_dirs().user_config_path)


def log_dir() -> Path:
    """Where the rotating log and the crash log live."""
    return _resolve("logs", _platform_dirs().user_log_path)


def cache_dir() -> Path:
    """Disposable files (rendered previews and the like); safe to delete at any time."""
    return _resolve("cache", _platform_dirs().user_cache_path)


def config_file() -> Path:
    """The TOML configuration file."""
    return config_dir() / "config.toml"


def default_database_path() -> Path:
    """The embedded SQLite database used when no database URL is configured."""
    return data_dir() / "front-desk.sqlite3"


def crash_log_file() -> Path:
    """Where faulthandler writes native tracebacks if the process dies hard."""
    return log_dir() / "crash.log"
