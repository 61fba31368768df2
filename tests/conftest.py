"""Shared test set-up: offscreen Qt, a private app home per test, throwaway PostgreSQL.

Fixtures:
- ``desk_home`` (autouse): every test gets its own folders under ``tmp_path / "home"``
  (``desk_app.paths.set_base_dir``); ``DESK_APP_HOME`` and ``DESK_APP_DATABASE_URL`` from the
  developer's shell are hidden from tests.
- ``pg_cluster`` (session): a running :class:`tests.pgcluster.PgCluster`. If PostgreSQL
  cannot start, tests that use it are skipped with the reason, except with ``CI=true``,
  where that is a failure.
- ``pg_database_url`` (session): one fresh database for the test session (per xdist worker),
  dropped at the end; its SQLAlchemy URL.
- Stripe (``tests/stripe_fixtures.py``): ``localstripe_server``, ``stripe_url``,
  ``memory_keyring``, ``card_clinic``, ``fault_proxy``, ``proxied_clinic``.

With ``CI=true`` every skip (except xfail) is turned into a failure.
"""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QtWebEngine (the card form) reads these when it starts: as root it needs the sandbox off.
os.environ.setdefault("QTWEBENGINE_DISABLE_SANDBOX", "1")
os.environ.setdefault("QTWEBENGINE_CHROMIUM_FLAGS", "--disable-gpu")

pytest_plugins = [
    "tests.db_fixtures", "tests.stripe_fixtures", "tests.notice_fixtures", "tests.sync_fixtures",
]

import uuid  # noqa: E402
from collections.abc import Generator, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from desk_app import paths  # noqa: E402
from tests.pgcluster import PgCluster, PgClusterError  # noqa: E402


def in_ci() -> bool:
    """True when running under CI (``CI=true``): skips are not allowed there."""
    return os.environ.get("CI", "").strip().lower() == "true"


@pytest.fixture(autouse=True)
def desk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Relocate every desk_app path under ``tmp_path / "home"`` for this test."""
    monkeypatch.delenv(paths.HOME_ENV_VAR, raising=False)
    monkeypatch.delenv("DESK_APP_DATABASE_URL", raising=False)
    home = tmp_path / "home"
    paths.set_base_dir(home)
    try:
        yield home
    finally:
        paths.set_base_dir(None)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """The throwaway PostgreSQL server for this session (skip, or fail in CI, if none)."""
    cluster = PgCluster()
    try:
        cluster.start()
    except PgClusterError as exc:
        reason = f"PostgreSQL tests NOT RUN: cannot start the throwaway cluster: {exc}"
        if in_ci():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_database_url(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh, empty database for this test session; its SQLAlchemy URL."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"desk_test_{worker}_{uuid.uuid4().hex[:8]}".lower()
    url = pg_cluster.create_database(name)
    try:
        yield url
    finally:
        pg_cluster.drop_database(name)


def _skip_reason(longrepr: object) -> str:
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """In CI a skipped test is a failed test (xfail excepted)."""
    report = yield
    if report.skipped and in_ci() and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skips are failures in CI: {_skip_reason(report.longrepr)}"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """In CI a module skipped at import (``pytest.importorskip``, ...) is a failure too."""
    report = yield
    if report.skipped and in_ci():
        report.outcome = "failed"
        report.longrepr = f"skips are failures in CI: {_skip_reason(report.longrepr)}"
    return report
