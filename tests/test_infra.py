"""Tests for the infrastructure: paths, config, logging, crash handling, test fixtures."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest
import sqlalchemy as sa

from desk_app import logs, paths
from desk_app.config import Config, ConfigError, load_config, save_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# -- paths ---------------------------------------------------------------------------------


def test_every_path_is_under_the_test_home(desk_home: Path) -> None:
    assert paths.data_dir() == desk_home / "data"
    assert paths.config_dir() == desk_home / "config"
    assert paths.log_dir() == desk_home / "logs"
    assert paths.cache_dir() == desk_home / "cache"
    assert paths.config_file() == desk_home / "config" / "config.toml"
    assert paths.default_database_path() == desk_home / "data" / "front-desk.sqlite3"
    assert paths.crash_log_file() == desk_home / "logs" / "crash.log"
    for folder in ("data", "config", "logs", "cache"):
        assert (desk_home / folder).is_dir()


@pytest.mark.skipif(os.name != "posix", reason="folder modes are POSIX only")
def test_new_folders_are_private(desk_home: Path) -> None:
    assert stat.S_IMODE(paths.data_dir().stat().st_mode) == 0o700
    assert stat.S_IMODE(paths.log_dir().stat().st_mode) == 0o700


def test_desk_app_home_env_var_relocates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths.set_base_dir(None)
    monkeypatch.setenv("DESK_APP_HOME", str(tmp_path / "from-env"))
    assert paths.data_dir() == tmp_path / "from-env" / "data"
    assert paths.crash_log_file() == tmp_path / "from-env" / "logs" / "crash.log"
    # An explicit set_base_dir wins over the environment.
    paths.set_base_dir(tmp_path / "explicit")
    assert paths.config_file() == tmp_path / "explicit" / "config" / "config.toml"


def test_defaults_are_platformdirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    paths.set_base_dir(None)
    assert paths.base_dir() is None
    assert paths.data_dir() == platformdirs.user_data_path("FrontDesk", appauthor=False)
    assert paths.config_dir() == platformdirs.user_config_path("FrontDesk", appauthor=False)
    assert paths.log_dir() == platformdirs.user_log_path("FrontDesk", appauthor=False)
    assert paths.cache_dir() == platformdirs.user_cache_path("FrontDesk", appauthor=False)


# -- config --------------------------------------------------------------------------------


def test_config_round_trip() -> None:
    config = Config(
        database_url="postgresql+psycopg://frontdesk@db.clinic.lan:5432/frontdesk",
        workstation="front-2",
        log_level="debug",
        demo=True,
    )
    assert config.workstation == "FRONT-2"
    assert config.log_level == "DEBUG"
    written = save_config(config)
    assert written == paths.config_file()
    assert load_config() == config
    text = written.read_text(encoding="utf-8")
    assert "keyring" in text
    assert text.index("schema_version =") < text.index("workstation =")
    assert [p.name for p in written.parent.iterdir()] == ["config.toml"]  # no temp files left


def test_config_defaults_round_trip_without_database_url(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere" / "desk.toml"
    save_config(Config(), path)
    assert "database_url" not in path.read_text(encoding="utf-8")
    assert load_config(path) == Config()


def test_missing_config_file_is_none() -> None:
    assert load_config() is None


def test_save_replaces_existing_file() -> None:
    save_config(Config(workstation="A"))
    save_config(Config(workstation="B"))
    loaded = load_config()
    assert loaded is not None
    assert loaded.workstation == "B"


@pytest.mark.parametrize(
    ("line", "key", "hint"),
    [
        ('workstation = "front desk one"', "workstation", "1 to 16 letters"),
        ('workstation = "ABCDEFGHIJKLMNOPQ"', "workstation", "1 to 16 letters"),
        ('workstation = ""', "workstation", "1 to 16 letters"),
        ("workstation = 7", "workstation", "must be text"),
        ('log_level = "LOUD"', "log_level", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ('demo = "yes"', "demo", "true or false"),
        ("schema_version = 2", "schema_version", "newer Front Desk"),
        ("schema_version = true", "schema_version", "whole number"),
        ("schema_version = 0", "schema_version", "1 or higher"),
        ("database_url = 5432", "database_url", "must be text"),
        ('database_url = "not a url"', "database_url", "postgresql+psycopg://"),
    ],
)
def test_bad_config_value_names_file_and_key(line: str, key: str, hint: str) -> None:
    file = paths.config_file()
    file.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as excinfo:
        load_config()
    message = str(excinfo.value)
    assert str(file) in message
    assert key in message
    assert hint in message
    assert isinstance(excinfo.value, ValueError)


def test_invalid_toml_names_file() -> None:
    file = paths.config_file()
    file.write_text('workstation = "DESK1\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML") as excinfo:
        load_config()
    assert str(file) in str(excinfo.value)


def test_unknown_keys_are_ignored_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    paths.config_file().write_text('colour = "teal"\nworkstation = "desk9"\n', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="desk_app.config"):
        config = load_config()
    assert config == Config(workstation="DESK9")
    assert any("colour" in r.getMessage() for r in caplog.records)


def test_bad_value_in_code_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="workstation"):
        Config(workstation="no spaces please")


def test_password_in_url_is_not_saved() -> None:
    config = Config(database_url="postgresql+psycopg://fd:secret@db/fd")
    with pytest.raises(ConfigError, match="keyring"):
        save_config(config)
    assert not paths.config_file().exists()


def test_sqlalchemy_url_default_is_embedded_sqlite(desk_home: Path) -> None:
    assert Config().sqlalchemy_url() == f"sqlite:///{desk_home / 'data' / 'front-desk.sqlite3'}"
    url = "postgresql+psycopg://fd@db/fd"
    assert Config(database_url=url).sqlalchemy_url() == url


def test_env_database_url_wins_over_file(monkeypatch: pytest.MonkeyPatch) -> None:
    save_config(Config(database_url="postgresql+psycopg://fd@file-host/fd"))
    monkeypatch.setenv("DESK_APP_DATABASE_URL", "postgresql+psycopg://fd@env-host/fd")
    loaded = load_config()
    assert loaded is not None
    assert loaded.sqlalchemy_url() == "postgresql+psycopg://fd@env-host/fd"
    # ... but it is not written back into the file, and never used for a demo.
    assert loaded.database_url == "postgresql+psycopg://fd@file-host/fd"
    assert Config(demo=True).sqlalchemy_url().startswith("sqlite:///")


# -- logging -------------------------------------------------------------------------------


@pytest.fixture
def clean_logging() -> Iterator[None]:
    root = logging.getLogger()
    level = root.level
    try:
        yield
    finally:
        logs.reset_logging()
        root.setLevel(level)


def _our_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if getattr(h, "_desk_app_handler", False)]


@pytest.mark.usefixtures("clean_logging")
def test_setup_logging_writes_the_log_file_and_is_idempotent() -> None:
    log_file = logs.setup_logging("DEBUG")
    assert log_file == paths.log_dir() / "front-desk.log"
    assert logs.setup_logging("DEBUG") == log_file
    assert len(_our_handlers()) == 2
    logging.getLogger("desk_app.test").debug("hello from the test")
    for handler in _our_handlers():
        handler.flush()
    text = log_file.read_text(encoding="utf-8")
    assert "DEBUG" in text
    assert "[MainThread] desk_app.test: hello from the test" in text


@pytest.mark.usefixtures("clean_logging")
def test_log_file_rotates() -> None:
    log_file = logs.setup_logging("INFO")
    chunk = "x" * 200_000
    for _ in range(7):  # 1.4 MB: more than the 1 MiB limit
        logging.getLogger("desk_app.test").info(chunk)
    assert (log_file.parent / "front-desk.log.1").exists()
    assert log_file.stat().st_size <= 1024 * 1024


@pytest.mark.usefixtures("clean_logging")
def test_setup_logging_follows_a_moved_log_folder(tmp_path: Path) -> None:
    first = logs.setup_logging()
    paths.set_base_dir(tmp_path / "other-home")
    second = logs.setup_logging()
    assert second != first
    assert second.parent == tmp_path / "other-home" / "logs"
    assert len(_our_handlers()) == 2


# -- crash handling ------------------------------------------------------------------------


@pytest.fixture
def crash_handlers() -> Iterator[list[tuple[str, str]]]:
    shown: list[tuple[str, str]] = []
    logs.install_crash_handlers(lambda title, text: shown.append((title, text)))
    try:
        yield shown
    finally:
        logs.uninstall_crash_handlers()


def test_thread_exception_is_logged_and_shown(
    crash_handlers: list[tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    def work() -> None:
        raise RuntimeError("printer on fire")

    with caplog.at_level(logging.ERROR, logger="desk_app.crash"):
        thread = threading.Thread(target=work, name="print-worker")
        thread.start()
        thread.join()

    records = [r for r in caplog.records if r.name == "desk_app.crash"]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert "print-worker" in records[0].getMessage()
    assert records[0].exc_info is not None
    assert records[0].exc_info[0] is RuntimeError
    assert len(crash_handlers) == 1
    title, text = crash_handlers[0]
    assert title == logs.CRASH_TITLE
    assert "RuntimeError: printer on fire" in text


def test_main_thread_exception_is_logged_and_shown(
    crash_handlers: list[tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    try:
        raise ValueError("bad amount")
    except ValueError:
        exc_info = sys.exc_info()
    with caplog.at_level(logging.ERROR, logger="desk_app.crash"):
        sys.excepthook(*exc_info)
    assert any("main thread" in r.getMessage() for r in caplog.records)
    assert "ValueError: bad amount" in crash_handlers[0][1]


def test_keyboard_interrupt_goes_to_the_default_hook(
    crash_handlers: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[type[BaseException]] = []
    monkeypatch.setattr(sys, "__excepthook__", lambda t, v, tb: seen.append(t))
    sys.excepthook(KeyboardInterrupt, KeyboardInterrupt(), None)
    assert seen == [KeyboardInterrupt]
    assert crash_handlers == []


def test_failing_show_error_does_not_raise(caplog: pytest.LogCaptureFixture) -> None:
    def broken(title: str, text: str) -> None:
        raise RuntimeError("no dialog today")

    logs.install_crash_handlers(broken)
    try:
        with caplog.at_level(logging.ERROR, logger="desk_app.crash"):
            sys.excepthook(OSError, OSError("disk full"), None)
    finally:
        logs.uninstall_crash_handlers()
    assert any("error callback failed" in r.getMessage() for r in caplog.records)


def test_uninstall_restores_previous_hooks() -> None:
    before = (sys.excepthook, threading.excepthook)
    logs.install_crash_handlers(None)
    logs.install_crash_handlers(None)  # idempotent
    logs.uninstall_crash_handlers()
    assert (sys.excepthook, threading.excepthook) == before


def test_last_crash_report_returns_and_clears() -> None:
    assert logs.last_crash_report() is None
    crash_log = paths.crash_log_file()
    crash_log.write_text("", encoding="utf-8")
    assert logs.last_crash_report() is None
    crash_log.write_text("Fatal Python error: Segmentation fault\n", encoding="utf-8")
    assert logs.last_crash_report() == "Fatal Python error: Segmentation fault\n"
    assert crash_log.read_text(encoding="utf-8") == ""
    assert logs.last_crash_report() is None


def test_hard_crash_is_reported_on_next_start(desk_home: Path) -> None:
    script = textwrap.dedent(
        """
        import faulthandler
        from desk_app import logs
        logs.install_crash_handlers(None)
        faulthandler._sigsegv()
        """
    )
    env = {**os.environ, "DESK_APP_HOME": str(desk_home), "PYTHONPATH": str(PROJECT_ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    report = logs.last_crash_report()
    assert report is not None
    assert "Segmentation fault" in report
    assert logs.last_crash_report() is None


# -- the test fixtures themselves ----------------------------------------------------------


@pytest.mark.pg
def test_pg_cluster_answers(pg_database_url: str) -> None:
    assert pg_database_url.startswith("postgresql+psycopg://")
    engine = sa.create_engine(pg_database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar_one() == 1
            assert conn.execute(sa.text("show server_version")).scalar_one().startswith("15")
    finally:
        engine.dispose()


def _run_pytest_on(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import pytest_make_collect_report, pytest_runtest_makereport\n",
        encoding="utf-8",
    )
    (tmp_path / "test_sample.py").write_text(
        textwrap.dedent(
            """
            import pytest

            def test_skipped():
                pytest.skip("no printer here")

            @pytest.mark.xfail(reason="known bug", strict=True)
            def test_xfail():
                assert False

            def test_passes():
                pass
            """
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "CI" and not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # no xdist, pytest-qt, ...: faster
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rA"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_skips_are_failures_in_ci(tmp_path: Path) -> None:
    result = _run_pytest_on(tmp_path, ci="true")
    assert result.returncode == 1, result.stdout
    assert "skips are failures in CI: no printer here" in result.stdout
    assert "1 failed, 1 passed, 1 xfailed" in result.stdout


def test_skips_are_skips_outside_ci(tmp_path: Path) -> None:
    result = _run_pytest_on(tmp_path, ci=None)
    assert result.returncode == 0, result.stdout
    assert "1 passed, 1 skipped, 1 xfailed" in result.stdout
