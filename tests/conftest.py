import pytest
from django.db import connection


def pytest_collection_modifyitems(config, items):
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (set DATABASE_URL, as .ci/run does): "
        "row locks, triggers and CHECK constraints are not tested on SQLite"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def policy_name(settings):
    """Switch the active policy preset for one test: ``policy_name("beijing-2022")``."""

    def use(name: str) -> None:
        settings.TIMEBANK_POLICY = name

    return use
