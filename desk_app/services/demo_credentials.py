"""The demo clinic's shared names, kept apart from services.demo so the sign-in window can
show them before the database layer has loaded."""

from __future__ import annotations

DEMO_USERNAME = "frontdesk"
DEMO_PASSWORD = "demo-password"
DEMO_WORKSTATION = "DEMO"
