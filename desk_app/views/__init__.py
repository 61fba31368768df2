"""PySide6 widgets, dialogs, item models and the workers that run services off the UI thread."""
