"""The export tests' data (tests/reports/exports_data.py) as the ``world`` fixture; a module
that defines its own ``world`` (test_figures, test_dashboard) uses that one instead."""

from tests.reports.exports_data import world  # noqa: F401
