"""The patient profile: header, Billing, Appointments and Contact info."""

from desk_app.views.profile.profile_view import ProfileView

__all__ = ["ProfileView"]
