"""Exports: what each viewer may download, in which formats, with only their own rows; CSV
neutralises formulas, XLSX has Chinese headings, a frozen header row and real numbers."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from urllib.parse import urlencode

import openpyxl
import pytest
from django.urls import reverse
from django.utils.translation import override

from accounts import idnumbers
from reports.exports import REGISTRY, Export, exports_for, register
from reports.models import ExportLog
from reports.period import this_month
from reports.scope import viewer_scope
from tests.conftest import session_queries
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

TABLES = ("members", "needs", "services", "coins")


def url(name: str, fmt: str, **params) -> str:
    base = reverse("reports:export_download", args=[name, fmt])
    return f"{base}?{urlencode(params)}" if params else base


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[list[str]]:
    content = body(response)
    assert content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Chinese
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def xlsx_sheet(response):
    return openpyxl.load_workbook(io.BytesIO(body(response))).active


def xlsx_rows(response) -> list[list]:
    return [list(row) for row in xlsx_sheet(response).iter_rows(values_only=True)]


def rows_of(response, fmt: str) -> list[list]:
    assert response.status_code == 200, response.status_code
    return csv_rows(response) if fmt == "csv" else xlsx_rows(response)


# --- the list ---------------------------------------------------------------------------------


def test_it_lists_the_table_exports_to_street_staff_without_the_volunteer_hours(client, staff_a):
    client.force_login(staff_a)
    page = client.get(reverse("reports:exports"), {"month": "2026-10"}).content.decode()
    for name in TABLES:
        assert f'data-export="{name}"' in page
        for fmt in ("csv", "xlsx"):
            assert url(name, fmt, period="month", month="2026-10").replace("&", "&amp;") in page
    assert 'data-export="volunteer-hours"' not in page
    assert "导出" in page and "会员" in page


def test_it_offers_the_volunteer_hours_to_head_office_only(head_office, official, staff_a):
    def names(user):
        return [cls.name for cls in exports_for(user, viewer_scope(user))]

    assert "volunteer-hours" in names(head_office)
    assert "volunteer-hours" not in names(official)
    assert "volunteer-hours" not in names(staff_a)
    assert set(TABLES) <= set(names(official))


def test_the_list_keeps_the_period_and_the_narrowing_in_each_link(client, head_office, street_a):
    client.force_login(head_office)
    params = {"street": street_a.pk, "period": "month", "month": "2026-10"}
    page = client.get(reverse("reports:exports"), params).content.decode()
    link = url("services", "xlsx", street=street_a.pk, period="month", month="2026-10")
    assert link.replace("&", "&amp;") in page
    assert "天山" in page


def test_members_and_anonymous_get_no_list(client, volunteer):
    assert client.get(reverse("reports:exports")).status_code == 302
    client.force_login(volunteer)
    assert client.get(reverse("reports:exports")).status_code == 403


# --- CSV --------------------------------------------------------------------------------------


def test_it_neutralises_formulas_in_csv_cells(client, staff_a, street_a, volunteer):
    for name in ('=HYPERLINK("http://evil.example","点我")', "+1", "@SUM(A1:A9)", "-2+3"):
        MemberFactory(volunteer=True, street=street_a, user__full_name=name)
    client.force_login(staff_a)
    rows = csv_rows(client.get(url("members", "csv")))
    assert rows[0] == [
        "姓名",
        "身份证号码",
        "注册身份",
        "状态",
        "街道",
        "性别",
        "年龄",
        "注册时间",
        "审核时间",
    ]
    names = sorted(row[0] for row in rows[1:])
    assert names == sorted(
        [
            "王志愿",
            '\'=HYPERLINK("http://evil.example","点我")',
            "'+1",
            "'@SUM(A1:A9)",
            "'-2+3",
        ]
    )


def test_members_csv_shows_masked_id_numbers_and_labels(client, staff_a, volunteer):
    client.force_login(staff_a)
    rows = csv_rows(client.get(url("members", "csv")))
    member = volunteer.member
    number = idnumbers.decrypt(member.id_number_encrypted)
    assert len(rows) == 2
    name, masked, role, status, street, sex, age = rows[1][:7]
    assert (name, masked, status, street, sex, age) == (
        "王志愿",
        member.id_number_masked,
        "已验证",
        "天山",
        "男",
        "65",
    )
    assert masked == number[:4] + "*" * 10 + number[-4:]
    assert number not in body(client.get(url("members", "csv"))).decode("utf-8-sig")


def test_services_csv_writes_hours_as_plain_numbers(client, staff_b, world):
    client.force_login(staff_b)
    rows = csv_rows(client.get(url("services", "csv", **world.query())))
    assert len(rows) == 2
    header, row = rows
    assert header[9] == "确认时长（小时）"
    assert (row[1], row[3], row[4], row[5], row[9], row[10]) == (
        "虹桥陪伴",
        "虹桥",
        "虹桥日间照料中心",
        "赵虹桥",
        "2",
        "已完成",
    )


def test_a_csv_download_is_logged_with_its_scope_and_period(client, staff_a, street_a, world):
    client.force_login(staff_a)
    response = client.get(url("needs", "csv", **world.query()))
    assert len(csv_rows(response)) == 3
    log = ExportLog.objects.get()
    assert (log.user, log.export, log.fmt, log.rows, log.full_id_numbers, log.reason) == (
        staff_a,
        "needs",
        "csv",
        2,
        False,
        "",
    )
    assert log.params == {
        **world.query(),
        "district": str(street_a.parent_id),
        "street": str(street_a.pk),
    }
    assert response["Content-Disposition"].startswith("attachment; filename*=utf-8''")


# --- XLSX -------------------------------------------------------------------------------------


def test_services_xlsx_has_chinese_headings_a_frozen_row_and_numeric_hours(client, staff_a, world):
    client.force_login(staff_a)
    response = client.get(url("services", "xlsx", **world.query()))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = xlsx_sheet(response)
    assert sheet.freeze_panes == "A2"
    header = [cell.value for cell in sheet[1]]
    assert header == [
        "需求编号",
        "需求",
        "服务类别",
        "街道",
        "服务基地",
        "志愿者",
        "服务日期",
        "签到时间",
        "签出时间",
        "确认时长（小时）",
        "状态",
        "评分",
    ]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 2
    assert sorted(row[5].value for row in rows) == ["李志愿", "王志愿"]
    hours = rows[0][9]
    assert (hours.value, hours.number_format, hours.data_type) == (1, "0.0", "n")
    day = rows[0][6]
    assert isinstance(day.value, datetime) and day.number_format == "yyyy-mm-dd"
    assert day.value.date() == world.day
    signed_in = rows[0][7]
    assert signed_in.number_format == "yyyy-mm-dd hh:mm" and signed_in.value.tzinfo is None


def test_coin_movements_name_owners_and_system_accounts(client, staff_b, base_b, world):
    client.force_login(staff_b)
    rows = xlsx_rows(client.get(url("coins", "xlsx", **world.query())))
    assert rows[0] == ["时间", "类别", "转出方", "转入方", "小时数", "备注"]
    # The grant to the base, then the base's hold posted to escrow and escrow paying the
    # volunteer (the two posts are one instant: their order between them is not fixed).
    assert rows[1][1:5] == ["发放", "发放池（发行方）", "虹桥日间照料中心", 10]
    assert sorted(row[1:5] for row in rows[2:]) == [
        ["服务", "订单托管账户", "赵虹桥", 2],
        ["订单冻结", "虹桥日间照料中心", "订单托管账户", 2],
    ]


# --- scope ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("name", "mine", "whole"),
    [
        ("members", 2, 3),
        ("needs", 2, 3),
        ("services", 2, 3),
        ("coins", 5, 8),
    ],
)
def test_street_staff_get_only_their_streets_rows(
    client, staff_a, head_office, world, fmt, name, mine, whole
):
    client.force_login(staff_a)
    rows = rows_of(client.get(url(name, fmt, **world.query())), fmt)
    assert len(rows) - 1 == mine
    assert not any("虹桥" in str(cell) for row in rows for cell in row)
    client.force_login(head_office)
    rows = rows_of(client.get(url(name, fmt, **world.query())), fmt)
    assert len(rows) - 1 == whole
    assert any("虹桥" in str(cell) for row in rows for cell in row)


def test_head_office_narrows_to_one_street(client, head_office, street_a, world):
    client.force_login(head_office)
    rows = csv_rows(client.get(url("services", "csv", street=street_a.pk, **world.query())))
    assert sorted(row[5] for row in rows[1:]) == ["李志愿", "王志愿"]


def test_base_staff_get_their_bases_services_only(client, base_staff_a, world):
    client.force_login(base_staff_a)
    rows = csv_rows(client.get(url("services", "csv", **world.query())))
    assert sorted(row[4] for row in rows[1:]) == ["天山养老院", "天山养老院"]


@pytest.mark.parametrize("name", TABLES)
def test_asking_for_another_street_is_refused(client, staff_a, street_b, name):
    client.force_login(staff_a)
    for fmt in ("csv", "xlsx"):
        assert client.get(url(name, fmt, street=street_b.pk)).status_code == 403
    assert client.get(reverse("reports:exports"), {"street": street_b.pk}).status_code == 403
    assert not ExportLog.objects.exists()


def test_an_unknown_export_or_format_is_not_found(client, staff_a):
    client.force_login(staff_a)
    assert client.get(url("nothing", "csv")).status_code == 404
    assert client.get(url("members", "pdf")).status_code == 404
    assert client.get(url("members", "exe")).status_code == 404


def test_a_download_costs_a_fixed_number_of_queries(
    client, head_office, world, django_assert_max_num_queries
):
    client.force_login(head_office)
    # The user, their roles (scope), the district's streets, the count, the log, and the
    # rows: one cursor, however many rows (the session is in the cache).
    with django_assert_max_num_queries(6 + session_queries()):
        rows = csv_rows(client.get(url("services", "csv", **world.query())))
    assert len(rows) == 4


def test_every_registered_table_export_streams_from_an_iterator(staff_a, world):
    scope = viewer_scope(staff_a)
    for name in TABLES:
        export = REGISTRY[name](scope, world.period, staff_a)
        rows = export.rows()
        assert iter(rows) is rows  # a generator, never a list of every row
        assert len(list(rows)) == export.count()


# --- PDF and languages ---------------------------------------------------------------------------


@pytest.fixture
def tiny_pdf():
    """A PDF export registered for the test only (the real one, the assessment report, has
    its own tests)."""

    @register
    class TinyPdf(Export):
        name = "tiny-pdf-test"
        title = "小报告"
        formats = ("pdf",)
        reaches = ("street",)

        def write_pdf(self, out) -> None:
            out.write(b"%PDF-1.4 " + self.scope.label.encode())

    yield TinyPdf
    del REGISTRY["tiny-pdf-test"]


def test_a_pdf_export_is_written_at_once_and_logged(client, staff_a, head_office, tiny_pdf):
    client.force_login(staff_a)
    response = client.get(url("tiny-pdf-test", "pdf", month="2026-10"))
    assert response["Content-Type"] == "application/pdf"
    assert body(response) == "%PDF-1.4 天山".encode()
    assert "filename*=utf-8''" in response["Content-Disposition"]
    log = ExportLog.objects.get()
    assert (log.export, log.fmt, log.rows, log.full_id_numbers) == (
        "tiny-pdf-test", "pdf", None, False
    )  # fmt: skip
    client.force_login(head_office)  # its reaches leave the district out
    assert client.get(url("tiny-pdf-test", "pdf")).status_code == 403


def test_headings_follow_the_language(staff_a):
    export = REGISTRY["members"](viewer_scope(staff_a), this_month(), staff_a)
    with override("en"):
        assert [str(c.header) for c in export.columns()][:3] == [
            "Name", "ID number", "Registered as"
        ]  # fmt: skip
    with override("zh-hans"):
        assert [str(c.header) for c in export.columns()][:3] == ["姓名", "身份证号码", "注册身份"]


def test_a_wrong_period_sends_back_to_the_list_which_says_why(client, staff_a):
    client.force_login(staff_a)
    response = client.get(url("members", "csv", period="month", month="2026-13"))
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:exports") + "?period=month&month=2026-13"
    assert "请按 2026-11 的格式填写月份。" in client.get(response["Location"]).content.decode()
    assert not ExportLog.objects.exists()
