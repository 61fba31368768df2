"""Front Desk benchmarks: the measurements behind docs/PERFORMANCE.md.

Run them with `./dev bench [name ...]` (or `.venv/bin/python -m bench`). Each one builds what
it needs under bench/.data/ (reusing the 100,000-patient clinic once built), measures with
time.perf_counter over many repetitions next to a baseline, prints a table and writes
bench/results/<name>.json.

- search        patient search per keystroke on 100k patients vs the same SQL run raw
- profile_open  a profile with 5 years of history (500 invoices, 800 payments) vs raw SQL
- cold_start    process start to a painted main window vs a bare PySide6 window
- memory        peak RSS of a process searching and opening profiles on 100k patients
- seed          `desk-app seed --patients 100000` wall time and file size
- bundle        the PyInstaller one-folder app: size, and cold start next to python -m desk_app
- package_usage the usage report over 100k sold packages and 1M redemptions vs raw SQL
- sync          push 10,000 changes and pull 100,000 rows vs raw psycopg / sqlite3
- bootstrap     a new workstation copies the 100k-patient clinic from central (goal < 60 s)
"""

BENCHMARKS = (
    "search", "profile_open", "cold_start", "memory", "seed", "receipts", "bundle",
    "package_usage", "sync", "bootstrap",
)
