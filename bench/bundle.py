"""The built app: its size on disk, and its cold start next to `python -m desk_app`.

Builds the one-folder app (packaging/build_app.py, PyInstaller) into bench/.data/bundle/, then:

- size: every file of dist/front-desk/ added up (MiB), the file count, and the largest parts.
- cold start: `front-desk --screenshot PNG` (the built app) and `python -m desk_app
  --screenshot PNG` (the source install), each a fresh process, timed from spawn until the
  PNG is on disk. That is start-up to a usable main window *with the demo's first patient
  open*: it includes the demo sign-in (an argon2 check) and the screenshot's own settle time
  (6 quiet ticks of 50 ms), the same for both, so it overstates start-up for both alike.
  Both open the same demo database (built in the warm-up run, in one DESK_APP_HOME).

One warm-up run of each is not counted; then 5 runs of each, interleaved.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import DATA_DIR, ROOT, Result, Row

NAME = "bundle"
RUNS = 5
BUNDLE_DIR = DATA_DIR / "bundle"


def _build() -> Path:
    sys.path.insert(0, str(ROOT / "packaging"))
    import build_app as packaging_build

    started = time.perf_counter()
    app: Path = packaging_build.build(BUNDLE_DIR / "dist", BUNDLE_DIR / "work")
    print(f"bench: built {app} in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return app


def _sizes(folder: Path) -> tuple[int, int, list[tuple[str, int]]]:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    total = sum(p.stat().st_size for p in files)
    parts: dict[str, int] = {}
    for path in files:
        relative = path.relative_to(folder).parts
        key = "/".join(relative[:4]) if relative[:3] == ("_internal", "PySide6", "Qt") else (
            "/".join(relative[:2]))
        parts[key] = parts.get(key, 0) + path.stat().st_size
    largest = sorted(parts.items(), key=lambda kv: kv[1], reverse=True)[:8]
    return total, len(files), largest


def _time_to_png(command: list[str], png: Path, env: dict[str, str]) -> float:
    png.unlink(missing_ok=True)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
    written = None
    while process.poll() is None:
        if written is None and png.exists() and png.stat().st_size > 0:
            written = time.perf_counter() - started
        time.sleep(0.002)
    if written is None and png.exists():
        written = time.perf_counter() - started
    _, err = process.communicate()
    if process.returncode != 0 or written is None:
        raise RuntimeError(f"{command[0]} failed ({process.returncode}):\n{(err or '')[-2000:]}")
    return written


def run(runs: int = RUNS) -> Result:
    app = _build()
    total, count, largest = _sizes(app.parent)
    home = BUNDLE_DIR / "home"
    shutil.rmtree(home, ignore_errors=True)
    png = BUNDLE_DIR / "start.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DESK_APP_HOME=str(home))
    env.pop("DESK_APP_DATABASE_URL", None)
    built = [str(app), "--screenshot", str(png)]
    source = [sys.executable, "-m", "desk_app", "--screenshot", str(png)]
    for warm_up in (source, built):
        _time_to_png(warm_up, png, env)
    samples: dict[str, list[float]] = {"built": [], "source": []}
    for _ in range(runs):
        samples["built"].append(_time_to_png(built, png, env))
        samples["source"].append(_time_to_png(source, png, env))
    median = {k: statistics.median(v) for k, v in samples.items()}
    result = Result(NAME)
    result.rows = [
        Row("built app size (one folder)", f"{total / 2**20:.0f} MiB, {count:,} files", "", "",
            None),
        Row(
            "cold start to main window with a patient (built app)",
            f"{median['built']:.2f} s",
            f"python -m desk_app {median['source']:.2f} s",
            "",
            None,
        ),
    ]
    result.details = {
        "app": str(app),
        "size_bytes": total,
        "files": count,
        "largest_parts_mib": {k: round(v / 2**20, 1) for k, v in largest},
        "runs": runs,
        "seconds": {k: [round(x, 3) for x in v] for k, v in samples.items()},
        "median_seconds": {k: round(v, 3) for k, v in median.items()},
    }
    return result
