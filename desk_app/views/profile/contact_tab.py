"""The Contact info tab: edit the patient's details, save them or put them back."""

from __future__ import annotations

import uuid
from datetime import date

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from desk_app.services.errors import Conflict, ValidationError
from desk_app.services.patients import PatientDetails
from desk_app.services.permissions import Permission
from desk_app.views.profile.contact_form import ContactForm, Snapshot
from desk_app.views.profile.failures import field_of, message_for
from desk_app.views.profile.status_banner import StatusBanner
from desk_app.views.profile.tab_parts import action_button, allow
from desk_app.views.view_context import ViewContext


class ContactTab(QWidget):
    #: Saved: the profile shows the new details (and the new name in its title).
    saved = Signal(object)
    #: Someone else changed the patient first: the profile fetches their details again.
    stale = Signal()

    def __init__(
        self,
        ctx: ViewContext,
        patient_id: uuid.UUID,
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.patient_id = patient_id
        self.details: PatientDetails | None = None
        self._loaded: Snapshot | None = None
        self._saving = False
        self.may_edit = ctx.can(Permission.EDIT_PATIENTS)

        self.banner = StatusBanner(self)
        self.form = ContactForm(ctx.clinic.show_pronouns, today)
        self.form.edited.connect(self._update_actions)
        self.form.set_read_only(not self.may_edit)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.form)

        self.discard_button = action_button("Discard changes", self.discard)
        self.save_button = action_button("Save changes", self.save)
        self.save_button.setProperty("primary", True)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.discard_button)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addWidget(self.banner)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self._update_actions()

    @property
    def dirty(self) -> bool:
        return self._loaded is not None and self.form.snapshot() != self._loaded

    def set_details(self, details: PatientDetails, *, force: bool = False) -> None:
        """Show `details`, unless unsaved edits would be lost (then keep them, and the old
        version, so saving them is checked against what changed meanwhile)."""
        if self.dirty and not force:
            return
        self.details = details
        self.form.set_data(details.data)
        self._loaded = self.form.snapshot()
        self._update_actions()

    def save(self) -> None:
        if self.details is None or not self.dirty:
            return
        data = self.form.data()
        if data is None:
            return
        self.form.clear_errors()
        self.banner.clear_message()
        actor, pid, version = self.ctx.actor, self.patient_id, self.details.version
        self._saving = True
        self._update_actions()
        self.ctx.tasks.db(
            lambda: self.ctx.services.patients.update(actor, pid, data, version),
            self._saved,
            self._refused,
            owner=self,
        )

    def discard(self) -> None:
        if self.details is not None:
            self.form.set_data(self.details.data)
            self.banner.clear_message()
        self._update_actions()

    def _saved(self, details: PatientDetails) -> None:
        self._saving = False
        self.set_details(details, force=True)
        self.banner.show_success("Changes saved.")
        self.saved.emit(details)

    def _refused(self, error: BaseException) -> None:
        self._saving = False
        self._update_actions()
        field = field_of(error)
        if (
            isinstance(error, ValidationError)
            and field
            and self.form.show_field_error(field, message_for(error))
        ):
            self.banner.show_error("Not saved: check the highlighted field.")
            return
        self.banner.show_error(message_for(error))
        if isinstance(error, Conflict):
            # Their version wins on screen; this person's edits were not saved.
            self._loaded = None
            self.stale.emit()

    def _update_actions(self) -> None:
        dirty = self.dirty
        if not self.may_edit:
            reason = "You do not have permission to edit patients."
            allow(self.save_button, False, reason)
            allow(self.discard_button, False, reason)
            return
        allow(self.save_button, dirty and not self._saving, "Nothing has changed yet.")
        allow(self.discard_button, dirty and not self._saving, "Nothing has changed yet.")
