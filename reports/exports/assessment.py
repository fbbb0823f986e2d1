"""The assessment report (CN §7.5): one PDF per street or base."""
