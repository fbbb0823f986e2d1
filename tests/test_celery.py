import pytest
from django.conf import settings

from timebank.celery import app


def test_the_celery_app_is_configured_from_settings():
    assert app.conf.task_acks_late is True
    assert app.conf.task_serializer == "json"
    assert app.conf.accept_content == ["json"]
    assert app.conf.task_time_limit == settings.CELERY_TASK_TIME_LIMIT
    assert app.conf.timezone == "Asia/Shanghai"


def test_every_scheduled_job_names_a_registered_task():
    app.loader.import_default_modules()
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert scheduled >= {"ledger.tasks.audit_ledger", "orders.tasks.expire_requests"}
    assert scheduled <= set(app.tasks), scheduled - set(app.tasks)


@pytest.mark.django_db
def test_the_scheduled_jobs_run_twice_without_error():
    app.loader.import_default_modules()
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        first = app.tasks[entry["task"]].apply()
        second = app.tasks[entry["task"]].apply()
        assert first.successful() and second.successful(), entry["task"]
