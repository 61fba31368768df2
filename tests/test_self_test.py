"""`desk-app --self-test`: exit 0 when the app works end to end; a named failure otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

_BROKEN_RECEIPTS = """
import sys
from desk_app.services import self_check

def broken(services, actor):
    raise OSError("the receipt fonts are missing from this build")

self_check.first_payment_receipt = broken
from desk_app.__main__ import main
sys.exit(main(["--self-test"]))
"""


def _run(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DESK_APP_HOME": str(home)}
    env.pop("QT_QPA_PLATFORM", None)  # the self-test must go offscreen by itself
    env.pop("DESK_APP_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
        timeout=240,
    )


def test_self_test_passes_on_a_fresh_demo_and_touches_no_clinic_data(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = _run(["-m", "desk_app", "--self-test"], home)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Front Desk 0.1.0 self-test, in ")
    assert lines[1].startswith("ok: demo database opened (schema ")
    assert lines[2] == "ok: main window rendered with a patient open (1280x800)"
    assert lines[3].startswith("ok: receipt R-DEMO-") and lines[3].endswith("drawn by QtPdf")
    assert lines[4] == "ok: QtWebEngine (the card form's engine) loaded a page"
    assert lines[-1] == "Self-test passed."
    assert not home.exists() or not any(home.rglob("*.sqlite3"))
    temporary = Path(lines[0].rsplit(" in ", 1)[1])
    assert not temporary.exists()  # its demo clinic is gone with it


def test_a_failing_step_is_named_and_the_exit_code_is_not_zero(tmp_path: Path) -> None:
    result = _run(["-c", _BROKEN_RECEIPTS], tmp_path / "home")
    assert result.returncode == 1
    assert "ok: main window rendered" in result.stdout
    assert "FAILED: OSError: the receipt fonts are missing from this build" in result.stdout
    assert "Self-test passed." not in result.stdout
