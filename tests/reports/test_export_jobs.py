"""Big exports: past EXPORT_STREAM_MAX_ROWS a download becomes a job (Celery, eager here),
written with its progress, kept for EXPORT_KEEP_DAYS days, downloaded by its owner only and
logged when downloaded."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from branches.models import StaffRole
from reports.exports import REGISTRY, register
from reports.exports.base import Column, Export
from reports.exports.jobs import run_job, start_job
from reports.exports.writers import counted
from reports.models import ExportJob, ExportLog
from reports.scope import viewer_scope
from reports.tasks import delete_expired_exports

pytestmark = pytest.mark.django_db


@pytest.fixture
def big(settings, tmp_path):
    """Anything over one row is a job; tasks run at once; files go to a fresh folder."""
    settings.EXPORT_STREAM_MAX_ROWS = 1
    settings.EXPORT_KEEP_DAYS = 7
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path)


def url(name: str, fmt: str, world) -> tuple[str, dict]:
    return reverse("reports:export_download", args=[name, fmt]), world.query()


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def start(client, name, fmt, world, capture, **data):
    link, params = url(name, fmt, world)
    with capture(execute=True):
        if data:
            query = "&".join(f"{k}={v}" for k, v in params.items())
            return client.post(f"{link}?{query}", data)
        return client.get(link, params)


def test_a_big_export_becomes_a_job_that_its_owner_downloads(
    client, head_office, world, big, django_capture_on_commit_callbacks
):
    client.force_login(head_office)
    response = start(client, "services", "xlsx", world, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:export_job", args=[job.pk])
    assert (job.status, job.rows_done, job.rows_total, job.user) == ("done", 3, 3, head_office)
    assert job.file.name.startswith("exports/") and job.file.name.endswith(".xlsx")
    assert "服务记录" not in job.file.name  # a random name in storage
    assert job.filename == f"服务记录-长宁区-{world.period.label}.xlsx"
    kept = job.expires_at - job.finished_at
    assert kept == timedelta(days=7)
    assert not ExportLog.objects.exists()  # nothing handed out yet

    page = client.get(response["Location"]).content.decode()
    file_url = reverse("reports:export_job_file", args=[job.pk])
    assert file_url in page and "可以下载" in page and "已写入 3 / 3 行" in page
    assert "hx-trigger" not in page  # nothing to wait for

    download = client.get(file_url)
    assert download.status_code == 200
    assert {"private", "no-store"} <= set(download["Cache-Control"].split(", "))
    assert "filename*=utf-8''" in download["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(body(download))).active
    assert sheet.freeze_panes == "A2"
    assert sorted(row[5] for row in sheet.iter_rows(min_row=2, values_only=True)) == [
        "李志愿",
        "王志愿",
        "赵虹桥",
    ]
    log = ExportLog.objects.get()
    assert (log.user, log.export, log.fmt, log.rows, log.job) == (
        head_office,
        "services",
        "xlsx",
        3,
        job,
    )


def test_a_csv_job_writes_the_same_rows(
    client, staff_a, world, big, django_capture_on_commit_callbacks
):
    client.force_login(staff_a)
    start(client, "needs", "csv", world, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    assert (job.status, job.rows_done) == ("done", 2)
    content = body(client.get(reverse("reports:export_job_file", args=[job.pk])))
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert sorted(row[1] for row in rows[1:]) == ["天山陪伴一", "天山陪伴二"]


def test_only_the_owner_sees_the_job_and_its_file(
    client, head_office, official, staff_a, world, big, django_capture_on_commit_callbacks
):
    client.force_login(head_office)
    start(client, "members", "csv", world, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    for other in (official, staff_a):
        client.force_login(other)
        assert client.get(reverse("reports:export_job", args=[job.pk])).status_code == 404
        assert client.get(reverse("reports:export_job_file", args=[job.pk])).status_code == 404
    assert not ExportLog.objects.exists()


def test_a_job_of_the_volunteer_hours_keeps_its_reason_for_the_log(
    client, head_office, world, big, django_capture_on_commit_callbacks
):
    client.force_login(head_office)
    response = start(
        client,
        "volunteer-hours",
        "xlsx",
        world,
        django_capture_on_commit_callbacks,
        reason="报送志愿北京",
    )
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("reports:export_job", args=[job.pk])
    assert (job.status, job.rows_done, job.reason) == ("done", 3, "报送志愿北京")
    client.get(reverse("reports:export_job_file", args=[job.pk]))
    log = ExportLog.objects.get()
    assert (log.full_id_numbers, log.reason, log.job, log.rows) == (True, "报送志愿北京", job, 3)


def test_the_job_page_polls_while_the_job_waits(client, staff_a, world, big):
    # Not run yet: the on-commit callback that would queue it is not executed.
    client.force_login(staff_a)
    client.get(*url("services", "csv", world))
    job = ExportJob.objects.get()
    page = client.get(reverse("reports:export_job", args=[job.pk])).content.decode()
    assert job.status == "queued" and "排队等待生成" in page
    assert 'hx-trigger="every 3s"' in page and "<script>" not in page
    assert client.get(reverse("reports:export_job_file", args=[job.pk])).status_code == 404
    assert run_job(job.pk) == "done"
    assert run_job(job.pk) == "nothing to do"  # a second delivery of the task


def test_expired_jobs_and_their_files_are_deleted(
    client, staff_a, world, big, django_capture_on_commit_callbacks
):
    client.force_login(staff_a)
    start(client, "services", "xlsx", world, django_capture_on_commit_callbacks)
    job = ExportJob.objects.get()
    storage, name = job.file.storage, job.file.name
    assert storage.exists(name)
    ExportJob.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(reverse("reports:export_job_file", args=[job.pk])).status_code == 404
    assert (
        "已过保留期限" in client.get(reverse("reports:export_job", args=[job.pk])).content.decode()
    )
    assert delete_expired_exports() == 1
    assert not storage.exists(name) and not ExportJob.objects.exists()
    assert not ExportLog.objects.exists()


@pytest.fixture
def broken():
    """An export whose rows fail half-way (registered for the test only)."""

    @register
    class Broken(Export):
        name = "broken-test"
        title = "broken"
        formats = ("csv", "xlsx")

        def columns(self):
            return [Column("a", "int")]

        def count(self):
            return 5

        def rows(self):
            yield (1,)
            raise RuntimeError("the database went away")

    yield Broken
    del REGISTRY["broken-test"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_a_failing_export_marks_its_job_failed(
    client, staff_a, big, broken, fmt, django_capture_on_commit_callbacks
):
    client.force_login(staff_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(reverse("reports:export_download", args=["broken-test", fmt]))
    job = ExportJob.objects.get()
    assert response["Location"] == reverse("reports:export_job", args=[job.pk])
    assert (job.status, bool(job.file), job.expires_at) == ("failed", False, None)
    assert job.error == "文件生成失败，请稍后重试。"
    page = client.get(response["Location"]).content.decode()
    assert "文件生成失败" in page and "the database went away" not in page
    assert client.get(reverse("reports:export_job_file", args=[job.pk])).status_code == 404


def test_a_job_whose_owner_lost_the_reach_fails_with_a_plain_reason(
    staff_a, world, big, django_capture_on_commit_callbacks
):
    export = REGISTRY["members"](viewer_scope(staff_a), world.period, staff_a)
    with django_capture_on_commit_callbacks(execute=False):
        job = start_job(export=export, fmt="csv", user=staff_a)
    StaffRole.objects.filter(user=staff_a).delete()
    assert run_job(job.pk) == "failed"
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "您已无权获取该导出。")


def test_progress_is_told_once_per_chunk_and_at_the_end():
    told = []
    assert list(counted(iter([(n,) for n in range(5)]), told.append, 2)) == [
        (0,),
        (1,),
        (2,),
        (3,),
        (4,),
    ]
    assert told == [2, 4, 5]
    told.clear()
    list(counted(iter([(n,) for n in range(4)]), told.append, 2))
    assert told == [2, 4]


def test_a_job_updates_its_progress_once_per_chunk_not_per_row(
    head_office, world, big, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.exports import writers

    monkeypatch.setattr(writers, "PROGRESS_EVERY", 2)
    export = REGISTRY["services"](viewer_scope(head_office), world.period, head_office)
    with django_capture_on_commit_callbacks(execute=False):
        job = start_job(export=export, fmt="xlsx", user=head_office)
    with CaptureQueriesContext(connection) as queries:
        assert run_job(job.pk) == "done"
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "reports_exportjob"')]
    # The claim, the progress after rows 2 and 3 (the end), and the finish.
    assert len(updates) == 4
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_total) == ("done", 3, 3)
