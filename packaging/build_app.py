"""Build the one-folder app with PyInstaller and check it: `./dev build` runs this.

    .venv/bin/python packaging/build_app.py [--dist DIR] [--work DIR] [--no-self-test]

The app lands in DIR/front-desk/ (default dist/front-desk/); then its own `--self-test` runs.
tests/test_packaging.py and bench/bundle.py call `build()`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "front-desk.spec"
APP_NAME = "front-desk"


def executable(dist: Path) -> Path:
    folder = dist / APP_NAME
    return folder / (f"{APP_NAME}.exe" if sys.platform == "win32" else APP_NAME)


def build(dist: Path, work: Path) -> Path:
    """Run PyInstaller on the spec; returns the built executable."""
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
         "--distpath", str(dist), "--workpath", str(work), str(SPEC)],
        cwd=ROOT,
        check=True,
    )
    return executable(dist)


def self_test(app: Path, home: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DESK_APP_HOME=str(home))
    env.pop("DESK_APP_DATABASE_URL", None)
    return subprocess.run([str(app), "--self-test"], env=env, capture_output=True, text=True,
                          timeout=300)


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller")
    parser.add_argument("--no-self-test", action="store_true")
    args = parser.parse_args()
    app = build(args.dist, args.work)
    size = folder_size(app.parent)
    print(f"built {app} ({size / 2**20:.0f} MiB)")
    if args.no_self_test:
        return 0
    result = self_test(app, args.work / "self-test-home")
    print(result.stdout, end="")
    if result.returncode != 0:
        print(result.stderr[-4000:], file=sys.stderr)
        print(f"the built app's self-test FAILED (exit {result.returncode})", file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
