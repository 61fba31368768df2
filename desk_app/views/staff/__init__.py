"""Settings ▸ Staff (Full Access): the staff list, the add/edit form, password resets."""
