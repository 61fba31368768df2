"""Packages & Memberships settings, package reports and "My day"."""
