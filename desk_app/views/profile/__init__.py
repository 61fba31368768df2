"""The patient profile: header, Billing, Appointments and Contact info.

The view is `desk_app.views.profile.profile_view.ProfileView`. This package imports nothing
itself: the main window needs a few small modules from it (formats) before a patient is
opened, and the profile's tabs are loaded after the main window is on screen.
"""
