"""The layers stay apart: models and services never import Qt."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken" in result.stdout


def test_services_import_without_qt_installed() -> None:
    code = (
        "import sys; sys.modules['PySide6'] = None; sys.modules['shiboken6'] = None\n"
        "import desk_app.services.registry, desk_app.services.demo, desk_app.app\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_seed_command_builds_a_clinic(tmp_path: Path) -> None:
    target = tmp_path / "c.sqlite3"
    result = subprocess.run([sys.executable, "-m", "desk_app", "seed", "--patients", "25",
                             "--db", str(target)], cwd=ROOT, capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert "Seeded 25 patients" in result.stdout
    again = subprocess.run([sys.executable, "-m", "desk_app", "seed", "--db", str(target)],
                           cwd=ROOT, capture_output=True, text=True, check=False)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_start_up_leaves_slow_libraries_unimported(tmp_path: Path) -> None:
    """Opening a current database and building the main window's modules and the services
    imports none of the libraries only some actions need (each costs 40-200 ms of start-up)."""
    from desk_app.services.db import Database

    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    Database(url).dispose()  # created and migrated here, so the child finds it current
    code = (
        "import sys\n"
        "import desk_app.views.startup, desk_app.views.main_window\n"
        "from desk_app.services.db import Database\n"
        "from desk_app.services.registry import Services\n"
        "db = Database(sys.argv[1]); Services.build(db); db.schema_revision(); db.dispose()\n"
        "slow = {'alembic', 'stripe', 'keyring', 'reportlab', 'PIL', 'requests', 'aiohttp'}\n"
        "print(sorted(slow & {name.split('.')[0] for name in sys.modules}))\n"
        "print(sorted(set(sys.argv[2:]) & sys.modules.keys()))\n"
    )
    result = subprocess.run([sys.executable, "-c", code, url, *LOADED_AFTER_THE_MAIN_WINDOW],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "[]"]


#: Code the main window does not need to open: loaded once it is on screen (registry.warm_up).
LOADED_AFTER_THE_MAIN_WINDOW = [
    "desk_app.views.profile.profile_view",
    "desk_app.services.billing_notices",
    "desk_app.services.appointment_copies",
    "desk_app.services.package_reports",
    "desk_app.services.staff_admin",
    "desk_app.services.audit_trail",
    "desk_app.services.demo",
]


def test_the_sign_in_window_needs_no_database_layer() -> None:
    """What runs before the sign-in window is drawn imports neither SQLAlchemy nor the models
    nor the services: the database thread loads them while the person types (startup.py)."""
    code = (
        "import sys\n"
        "import desk_app.__main__, desk_app.views.application, desk_app.views.startup\n"
        "import desk_app.views.sign_in, desk_app.config\n"
        "heavy = ('sqlalchemy', 'desk_app.models', 'desk_app.services.registry', 'argon2',\n"
        "         'desk_app.views.main_window', 'desk_app.app')\n"
        "print(sorted(name for name in heavy if name in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_reading_a_config_with_database_urls_needs_no_database_layer(tmp_path: Path) -> None:
    """A workstation's config names its database and central server; reading it before the
    sign-in window is drawn must not load SQLAlchemy either."""
    config = tmp_path / "config.toml"
    config.write_text(
        'database_url = "sqlite:////var/lib/front-desk/clinic.sqlite3"\n'
        '[central]\nurl = "postgresql://frontdesk@db.clinic.lan:5432/frontdesk"\n',
        encoding="utf-8",
    )
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from desk_app.config import load_config\n"
        "config = load_config(Path(sys.argv[1]))\n"
        "print(config.central.url, 'sqlalchemy' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(config)], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "postgresql+psycopg://frontdesk@db.clinic.lan:5432/frontdesk", "False"
    ]
