"""Honour in Django admin, one module per part."""

from honour import (  # noqa: F401  (registers)
    admin_admission,
    admin_awards,
    admin_certificates,
    admin_levels,
)
