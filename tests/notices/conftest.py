import pytest


@pytest.fixture(autouse=True)
def _tasks_run_in_the_test(settings):
    """Tasks queued by these tests run at once, in the test (the worker tests use a real one)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
