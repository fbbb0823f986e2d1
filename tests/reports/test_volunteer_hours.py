"""The volunteer-hours export for 志愿北京 / the national platform: the one export with full
ID numbers, for head office only, after a reason, and logged."""

from __future__ import annotations

import csv
import io
from datetime import datetime, time

import openpyxl
import pytest
from django.urls import reverse

from accounts import idnumbers
from reports.models import ExportLog

pytestmark = pytest.mark.django_db

HEADER = ["姓名", "证件类型", "证件号码", "项目名称", "服务日期", "服务时长（小时）"]


def url(fmt: str, world, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in {**world.query(), **params}.items())
    return f"{reverse('reports:export_download', args=['volunteer-hours', fmt])}?{query}"


def full_number(user) -> str:
    return idnumbers.decrypt(user.member.id_number_encrypted)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.mark.parametrize("who", ["official", "staff_a", "base_staff_a", "advisor_a"])
def test_anyone_but_head_office_is_refused(client, world, who, request):
    client.force_login(request.getfixturevalue(who))
    assert client.get(url("xlsx", world)).status_code == 403
    response = client.post(url("xlsx", world), {"reason": "报送志愿北京"})
    assert response.status_code == 403
    assert not ExportLog.objects.exists()


def test_head_office_is_asked_the_purpose_first(client, head_office, world):
    client.force_login(head_office)
    response = client.get(url("xlsx", world))
    page = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "导出用途" in page and "完整身份证号码" in page
    assert 'method="post"' in page and "csrfmiddlewaretoken" in page
    assert not ExportLog.objects.exists()


@pytest.mark.parametrize(
    ("reason", "error"),
    [
        ("", "请说明本次导出的用途。"),
        ("   ", "请说明本次导出的用途。"),
        ("报送", "请用几个字说明本次导出的用途。"),
        ("报" * 201, "用途说明请不要超过 200 个字。"),
    ],
)
def test_a_missing_or_bad_reason_shows_the_form_again_and_logs_nothing(
    client, head_office, world, reason, error
):
    client.force_login(head_office)
    response = client.post(url("xlsx", world), {"reason": reason})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not ExportLog.objects.exists()


def test_with_a_reason_head_office_gets_full_id_numbers_and_the_download_is_logged(
    client, head_office, district, world, volunteer, volunteer2
):
    client.force_login(head_office)
    response = client.post(url("xlsx", world), {"reason": "  报送12月志愿服务时长\n到志愿北京 "})
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(body(response))).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == HEADER
    day = datetime.combine(world.day, time())  # a date cell reads back as midnight
    project = "长宁区时间银行·陪伴(机构)"
    assert sorted(rows[1:]) == sorted(
        [
            ["王志愿", "居民身份证", full_number(volunteer), project, day, 1],
            ["李志愿", "居民身份证", full_number(volunteer2), project, day, 1],
            ["赵虹桥", "居民身份证", full_number(world.hongqiao_volunteer), project, day, 2],
        ]
    )
    number_cell = sheet.cell(row=2, column=3)
    assert number_cell.data_type == "s" and len(number_cell.value) == 18
    assert sheet.cell(row=2, column=6).number_format == "0.0"
    log = ExportLog.objects.get()
    assert (log.user, log.export, log.fmt, log.rows, log.full_id_numbers) == (
        head_office,
        "volunteer-hours",
        "xlsx",
        3,
        True,
    )
    assert log.reason == "报送12月志愿服务时长 到志愿北京"
    assert log.params == {**world.query(), "district": str(district.pk)}


def test_the_csv_form_carries_the_full_numbers_as_text(
    client, head_office, street_a, world, volunteer, volunteer2
):
    client.force_login(head_office)
    response = client.post(url("csv", world, street=street_a.pk), {"reason": "报送志愿北京"})
    rows = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert rows[0] == HEADER
    assert sorted((row[0], row[2], row[5]) for row in rows[1:]) == sorted(
        [("王志愿", full_number(volunteer), "1"), ("李志愿", full_number(volunteer2), "1")]
    )
    log = ExportLog.objects.get()
    assert log.full_id_numbers and log.params["street"] == str(street_a.pk)


def test_only_completed_services_count(client, head_office, world):
    from orders.models import Assignment

    Assignment.objects.filter(pk=world.hongqiao[0].pk).update(status="cancelled")
    client.force_login(head_office)
    response = client.post(url("csv", world), {"reason": "报送志愿北京"})
    rows = list(csv.reader(io.StringIO(body(response).decode("utf-8-sig"))))
    assert sorted(row[0] for row in rows[1:]) == ["李志愿", "王志愿"]


def test_no_other_export_carries_a_full_id_number(client, head_office, world, volunteer):
    client.force_login(head_office)
    number = full_number(volunteer)
    for name in ("members", "needs", "services", "coins"):
        for fmt in ("csv", "xlsx"):
            link = reverse("reports:export_download", args=[name, fmt])
            response = client.get(link, world.query())
            content = body(response)
            if fmt == "xlsx":
                book = openpyxl.load_workbook(io.BytesIO(content))
                content = "".join(
                    str(v) for row in book.active.iter_rows(values_only=True) for v in row
                ).encode()
            assert number.encode() not in content
    assert not ExportLog.objects.filter(full_id_numbers=True).exists()
    assert ExportLog.objects.count() == 8
