"""The `desk-app` command: the desktop app by default, admin subcommands beside it."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from desk_app import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="desk-app", description="Front Desk for clinics.")
    parser.add_argument("--version", action="version", version=f"Front Desk {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the demo clinic (a local SQLite database made on first use)",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        metavar="PNG",
        help="start, sign in to the demo, open a patient, save a screenshot of "
        "the main window to PNG and exit (for headless machines)",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation offscreen on a temporary demo clinic (main window, "
        "a receipt, the card form's web engine); exits 0 if everything works",
    )
    sub = parser.add_subparsers(dest="command")
    seed = sub.add_parser("seed", help="build a clinic database of any size for benchmarks")
    seed.add_argument("--patients", type=int, default=300)
    seed.add_argument("--db", type=Path, required=True, help="path of the SQLite file to create")
    seed.add_argument("--seed", type=int, default=7, help="random seed")
    migrate = sub.add_parser("migrate", help="bring a database to the current schema")
    migrate.add_argument("--url", required=True, help="SQLAlchemy URL of the database")
    central = sub.add_parser(
        "central", help="the central database workstations sync with (docs/SYNC.md)")
    central.add_argument("action", choices=["init", "restored", "prune"],
                         help="init: migrate it and give it an epoch; restored: after "
                              "restoring it from a backup, a new epoch so every workstation "
                              "re-syncs; prune: delete the sync log every live workstation "
                              "has pulled and push receipts older than 30 days")
    central.add_argument("--url", required=True, help="postgresql+psycopg://user@host/db")
    return parser


def _seed(db_path: Path, patients: int, seed: int) -> int:
    from desk_app.services.db import Database
    from desk_app.services.demo import create_demo_clinic

    if db_path.exists():
        print(f"{db_path} already exists; choose a new path.", file=sys.stderr)
        return 2
    if patients < 1:
        print("--patients must be at least 1.", file=sys.stderr)
        return 2
    started = time.perf_counter()
    db = Database(f"sqlite:///{db_path}")
    create_demo_clinic(db, patients=patients, seed=seed)
    db.dispose()
    print(f"Seeded {patients:,} patients into {db_path} in {time.perf_counter() - started:.1f} s")
    return 0


def _migrate(url: str) -> int:
    from desk_app.services.db import Database
    from desk_app.services.schema_upgrade import SchemaUpgradeFailed

    try:
        db = Database(url)
    except SchemaUpgradeFailed as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"Schema is at revision {db.schema_revision()}")
    if db.upgrade_backup is not None:
        print(f"A copy from before the upgrade is at {db.upgrade_backup}")
    db.dispose()
    return 0


def _central(action: str, url: str) -> int:
    from desk_app.services.db import Database
    from desk_app.services.sync import central

    if not url.startswith("postgresql"):
        print("The central database is PostgreSQL: --url postgresql+psycopg://user@host/db",
              file=sys.stderr)
        return 2
    db = Database(url)
    if action == "prune":
        from desk_app.services.sync import pruning

        report = pruning.prune(db.engine)
        db.dispose()
        print(f"Pruned {report.change_log_deleted} change-log entries (up to "
              f"{report.horizon.text()}) and {report.receipts_deleted} push receipts.")
        if report.retired:
            print(f"Not synced for over {pruning.RETENTION.days} days (they will copy the "
                  f"central database again if they return): {', '.join(report.retired)}")
        return 0
    with db.engine.begin() as conn:
        epoch = central.ensure_epoch(conn) if action == "init" else central.new_epoch(conn)
    revision = db.schema_revision()
    db.dispose()
    print(f"Central database at schema {revision or '?'}, epoch {epoch}")
    if action == "restored":
        print("Every workstation will upload what the backup lacks and copy it again.")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "central":
        return _central(args.action, args.url)
    if args.command == "seed":
        return _seed(args.db, args.patients, args.seed)
    if args.command == "migrate":
        return _migrate(args.url)
    if args.self_test:
        from desk_app.views.self_test import run_self_test

        return run_self_test()
    from desk_app.views.application import run_gui

    return run_gui(demo=args.demo or args.screenshot is not None, screenshot=args.screenshot)


if __name__ == "__main__":
    sys.exit(main())
