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
