"""Exports: one class per export, one registry (see base.py)."""
