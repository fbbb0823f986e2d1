"""Exports: one class per export, one registry (see base.py). Importing the package imports
every export module, so each registers itself."""

from reports.exports import assessment, tabular, volunteer_hours  # noqa: F401
from reports.exports.base import REGISTRY, Column, Export, exports_for, register

__all__ = ["REGISTRY", "Column", "Export", "exports_for", "register"]
