"""The Contact info tab: edit and save a patient's details, refusals shown by the field."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date

import pytest
from PySide6.QtWidgets import QCheckBox, QLabel, QLineEdit, QPushButton
from pytestqt.qtbot import QtBot

from desk_app.services.actor import Actor
from desk_app.services.registry import Services
from desk_app.views.a11y import unnamed_controls
from desk_app.views.profile.birth_date import BirthDateError, parse_birth_date
from desk_app.views.profile.profile_view import ProfileView
from desk_app.views.view_context import ViewContext
from tests.gui.conftest import wait_idle
from tests.gui.helpers_profile import click, named, open_profile, type_into

pytestmark = pytest.mark.gui


def visible_errors(view: ProfileView) -> list[str]:
    return [w.text() for w in view.contact.findChildren(QLabel, "fieldError") if w.isVisible()]


def test_edits_are_saved_and_the_profile_shows_the_new_name(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    view = open_profile(qtbot, view_ctx, maddy_id, tab="Contact info")
    save = named(view, QPushButton, "Save changes")
    assert not save.isEnabled()  # nothing changed yet

    type_into(qtbot, view, "Preferred name", "Mads")
    type_into(qtbot, view, "Mobile phone", "647-555-0199")
    type_into(qtbot, view, "Date of birth", "1946-03-01")
    type_into(qtbot, view, "Bill-to name", "Ødegård Family Trust")
    click(qtbot, view, "Consents to emails")
    assert save.isEnabled()
    with qtbot.waitSignal(view.title_changed, timeout=5_000) as title:
        click(qtbot, view, "Save changes")
    wait_idle(qtbot, view_ctx)

    saved = demo_services.patients.get(front_desk, maddy_id)
    assert saved.data.preferred_name == "Mads"
    assert saved.data.mobile_phone == "647-555-0199"
    assert saved.data.date_of_birth == date(1946, 3, 1)
    assert saved.data.bill_to_name == "Ødegård Family Trust"
    assert saved.data.consent_emails is True
    assert title.args == ["Mads Ødegård-Nguyễn"]
    assert view.header.name.text() == "Mads Ødegård-Nguyễn"
    assert view.contact.banner.text() == "Changes saved."
    assert not save.isEnabled()


def test_a_bad_email_is_refused_next_to_the_field_and_nothing_is_saved(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    before = demo_services.patients.get(front_desk, maddy_id)
    view = open_profile(qtbot, view_ctx, maddy_id, tab="Contact info")
    type_into(qtbot, view, "Preferred name", "Mads")
    email = type_into(qtbot, view, "Email", "maddy@example")
    click(qtbot, view, "Save changes")
    wait_idle(qtbot, view_ctx)

    errors = visible_errors(view)
    assert len(errors) == 1 and "is not an email address" in errors[0]
    # The message sits with the Email field: it shares the field's holder.
    holder = email.parentWidget()
    assert holder is not None
    assert [w.text() for w in holder.findChildren(QLabel, "fieldError")] == errors
    assert email.property("invalid") is True
    after = demo_services.patients.get(front_desk, maddy_id)
    assert after.version == before.version and after.data == before.data
    assert named(view, QPushButton, "Save changes").isEnabled()  # fix it and try again


def test_an_unreadable_birth_date_is_refused_before_saving(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    before = demo_services.patients.get(front_desk, maddy_id)
    view = open_profile(qtbot, view_ctx, maddy_id, tab="Contact info")
    type_into(qtbot, view, "Date of birth", "27/02/1946")
    click(qtbot, view, "Save changes")
    wait_idle(qtbot, view_ctx)
    assert any("year-month-day" in e for e in visible_errors(view))
    assert demo_services.patients.get(front_desk, maddy_id).version == before.version


@pytest.mark.parametrize(
    ("typed", "born"),
    [
        ("1984-07-31", date(1984, 7, 31)),
        (" 1984-07-31 ", date(1984, 7, 31)),
        ("", None),
        ("1984-02-30", "calendar"),
        ("31/07/1984", "year-month-day"),
        ("1984-7-31", "year-month-day"),
    ],
)
def test_birth_dates_are_read_as_year_month_day(typed: str, born: object) -> None:
    if isinstance(born, str):
        with pytest.raises(BirthDateError, match=born):
            parse_birth_date(typed)
    else:
        assert parse_birth_date(typed) == born


def test_blank_birth_date_saves_as_not_known(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    view = open_profile(qtbot, view_ctx, maddy_id, tab="Contact info")
    named(view, QLineEdit, "Date of birth").clear()
    click(qtbot, view, "Save changes")
    wait_idle(qtbot, view_ctx)
    assert demo_services.patients.get(front_desk, maddy_id).data.date_of_birth is None
    assert view.contact.form.age.text() == "Unknown"


def test_discard_changes_puts_the_saved_details_back(
    qtbot: QtBot, view_ctx: ViewContext, maddy_id: uuid.UUID
) -> None:
    view = open_profile(qtbot, view_ctx, maddy_id, tab="Contact info")
    first = named(view, QLineEdit, "Legal first name")
    type_into(qtbot, view, "Legal first name", "Magdalena")
    click(qtbot, view, "Discard changes")
    assert first.text() == "Madeleine"
    assert not named(view, QPushButton, "Save changes").isEnabled()


def test_someone_elses_change_is_reported_and_the_form_reloaded(
    qtbot: QtBot,
    view_ctx: ViewContext,
    demo_services: Services,
    front_desk: Actor,
    maddy_id: uuid.UUID,
) -> None:
    view = open_profile(qtbot, view_ctx, maddy_id, tab="Contact info")
    type_into(qtbot, view, "Home phone", "416-555-7777")
    # Meanwhile, at the other desk:
    theirs = demo_services.patients.get(front_desk, maddy_id)
    demo_services.patients.update(
        front_desk,
        maddy_id,
        dataclasses.replace(theirs.data, preferred_name="Lena"),
        theirs.version,
    )
    click(qtbot, view, "Save changes")
    wait_idle(qtbot, view_ctx)

    assert "changed by someone else" in view.contact.banner.text()
    assert named(view, QLineEdit, "Preferred name").text() == "Lena"
    assert named(view, QLineEdit, "Home phone").text() == ""
    saved = demo_services.patients.get(front_desk, maddy_id)
    assert (saved.data.preferred_name, saved.data.home_phone) == ("Lena", "")


def test_pronouns_are_hidden_when_the_clinic_does_not_show_them(
    qtbot: QtBot, view_ctx: ViewContext, maddy_id: uuid.UUID
) -> None:
    clinic = dataclasses.replace(view_ctx.clinic, show_pronouns=False)
    view = open_profile(
        qtbot, dataclasses.replace(view_ctx, clinic=clinic), maddy_id, tab="Contact info"
    )
    pronouns = view.contact.form.edits["pronouns"]
    assert pronouns.text() == "they/them"  # kept, and saved back unchanged
    assert not pronouns.isVisibleTo(view)
    with pytest.raises(LookupError):
        named(view, QLineEdit, "Pronouns")
    assert not view.header.pronouns.isVisibleTo(view)


def test_pronouns_show_when_the_clinic_shows_them(
    qtbot: QtBot, view_ctx: ViewContext, maddy_id: uuid.UUID
) -> None:
    assert view_ctx.clinic.show_pronouns
    view = open_profile(qtbot, view_ctx, maddy_id, tab="Contact info")
    assert named(view, QLineEdit, "Pronouns").text() == "they/them"
    assert view.header.pronouns.isVisibleTo(view)
    assert view.header.pronouns.text() == "they/them"


def test_every_contact_control_is_named(
    qtbot: QtBot, view_ctx: ViewContext, maddy_id: uuid.UUID
) -> None:
    view = open_profile(qtbot, view_ctx, maddy_id, tab="Contact info")
    assert unnamed_controls(view.contact) == []
    labels = {
        named(view, QCheckBox, n).text()
        for n in ("Consents to texts", "Consents to emails", "Marketing opt-in")
    }
    assert labels == {"Consents to texts", "Consents to emails", "Marketing opt-in"}
