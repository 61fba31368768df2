"""Synchronising a workstation's SQLite cache with the central PostgreSQL (docs/SYNC.md).

No Qt here: views/sync_status.py runs :class:`SyncService` off the UI thread.
"""
