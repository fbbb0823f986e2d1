"""Honour in Django admin, one module per part."""

from honour import admin_awards, admin_certificates, admin_levels  # noqa: F401  (registers)
