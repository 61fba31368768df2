"""The clinic's logo on its receipts: set and cleared by Full Access, checked for size and type."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from desk_app.models import AuditEvent
from desk_app.services.clinic_settings import LOGO_MAX_BYTES, check_logo
from desk_app.services.db import Database
from desk_app.services.errors import PermissionDenied, ValidationError
from tests.builders import small_clinic


def image_bytes(fmt: str, size: tuple[int, int] = (300, 100)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (21, 118, 122)).save(out, fmt)
    return out.getvalue()


def test_the_owner_sets_and_clears_the_logo_and_it_is_audited(sqlite_db: Database) -> None:
    c = small_clinic(sqlite_db)
    logo = image_bytes("PNG")
    c.services.clinic.set_logo(c.owner, logo)
    assert c.services.clinic.logo(c.owner) == logo
    c.services.clinic.set_logo(c.owner, None)
    assert c.services.clinic.logo(c.owner) is None
    with sqlite_db.reading() as s:
        summaries = list(
            s.scalars(select(AuditEvent.summary).where(AuditEvent.action == "clinic.logo"))
        )
    assert len(summaries) == 2 and summaries[0].startswith("Set the logo (PNG")


def test_only_full_access_may_change_the_logo(sqlite_db: Database) -> None:
    c = small_clinic(sqlite_db)
    with pytest.raises(PermissionDenied):
        c.services.clinic.set_logo(c.desk, image_bytes("PNG"))


def test_png_and_jpeg_are_accepted() -> None:
    assert check_logo(image_bytes("PNG")) == "PNG"
    assert check_logo(image_bytes("JPEG")) == "JPEG"


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"GIF89a" + b"\0" * 100, "PNG or JPEG"),
        (b"\x89PNG\r\n\x1a\n" + b"garbage" * 20, "not a readable PNG"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * (LOGO_MAX_BYTES + 1), "at most 512 KB"),
    ],
)
def test_a_file_that_is_not_a_small_png_or_jpeg_is_refused(data: bytes, why: str) -> None:
    with pytest.raises(ValidationError, match=why) as refused:
        check_logo(data)
    assert refused.value.field == "logo"


def test_a_huge_image_is_refused_by_its_pixels() -> None:
    with pytest.raises(ValidationError, match="pixels"):
        check_logo(image_bytes("PNG", (5000, 10)))
