"""The assessment report (CN §7.5) as A4 PDF (reports.exports.assessment): a street's own
figures hand-counted, its charts drawn, nothing of another street, every font embedded."""

# The orders fixtures (a need, its category and its payer) are imported, then named as arguments.
# ruff: noqa: F811

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ledger import selectors as ledger_selectors
from orders import services as orders
from reports.exports import REGISTRY, assessment
from reports.exports.assessment import AssessmentReport
from reports.period import month_period
from reports.scope import viewer_scope
from tests.conftest import _staff
from tests.factories import MemberFactory
from tests.orders.conftest import HOUR, base_funds, category, give_coins, make_need  # noqa: F401
from tests.reports.test_statement_pdf import assert_fonts_embedded, read, text_of

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def serve(need, volunteer, confirmer, minutes: int) -> None:
    a = orders.grab_place(service_request=need, volunteer=volunteer)
    orders.sign_in(assignment=a, actor=volunteer, code=need.checkin_code)
    orders.sign_out(assignment=a, actor=volunteer)
    orders.complete_assignment(assignment=a, actor=confirmer, minutes=minutes)


@pytest.fixture
def street_b_service(base_b, category, district, street_b, staff_b, head_office):
    """钱志愿 of 虹桥 served 1 h at 虹桥日间照料中心 this month."""
    staff = _staff("base_staff", street_b, name="虹桥日间照料员工", base=base_b)
    give_coins(ledger_selectors.base_account(base_b), 10 * HOUR, district=district)
    need = orders.post_request(
        actor=staff,
        category=category,
        title="虹桥陪伴",
        base=base_b,
        starts_at=timezone.now() + timedelta(minutes=10),
        duration_minutes=HOUR,
        auto_confirm=True,
    )
    orders.approve_by_street(service_request=need, actor=staff_b)
    orders.approve_by_head_office(service_request=need, actor=head_office)
    need.refresh_from_db()
    volunteer = MemberFactory(volunteer=True, street=street_b, user__full_name="钱志愿").user
    serve(need, volunteer, staff, HOUR)


@pytest.fixture
def services(make_need, volunteer, volunteer2, base_staff_a, street_b_service):
    """天山: 王志愿 served 2 h and 李志愿 1 h at 天山养老院 this month (2 services, 3 h)."""
    for person, minutes in ((volunteer, 2 * HOUR), (volunteer2, HOUR)):
        need = make_need(starts_in=timedelta(minutes=10), auto_confirm=True, duration=minutes)
        serve(need, person, base_staff_a, minutes)


def report_text(user) -> str:
    scope = viewer_scope(user)
    export = AssessmentReport(scope, month_period(timezone.localdate()), user)
    out = io.BytesIO()
    export.write_pdf(out)
    return text_of(read(out.getvalue()))


def test_it_is_registered_as_a_pdf_export():
    assert REGISTRY["assessment"] is AssessmentReport
    assert AssessmentReport.formats == ("pdf",)


def test_a_streets_report_carries_its_own_hand_counted_figures(services, staff_a):
    text = report_text(staff_a)
    assert "长宁区养老服务时间银行考核报告" in text
    assert "天山" in text
    assert "完成的服务20" in text  # 2 services this month, none the month before
    assert "服务时长3小时0小时+3小时" in text
    assert "王志愿" in text and "李志愿" in text  # the most active volunteers


def test_a_streets_report_shows_nothing_of_another_street(services, staff_a):
    text = report_text(staff_a)
    assert "虹桥" not in text  # neither the street nor its base
    assert "钱志愿" not in text


def test_a_bases_report_is_the_bases_own(services, base_staff_a):
    text = report_text(base_staff_a)
    assert "天山养老院" in text
    assert "完成的服务20" in text and "服务时长3小时0小时+3小时" in text
    assert "虹桥" not in text and "钱志愿" not in text


def test_the_district_report_has_every_street(services, official):
    text = report_text(official)
    assert "天山" in text and "虹桥" in text
    assert "完成的服务30" in text
    assert "服务时长4小时0小时+4小时" in text


def test_the_charts_are_drawn_with_their_labels_as_text(services, official, monkeypatch):
    """WeasyPrint keeps an SVG's <text> as text: each base's name is printed twice, once
    in the table of hours by base and once beside its bar; without charts, once."""
    export = AssessmentReport(viewer_scope(official), month_period(timezone.localdate()), official)
    assert export.html().count("<svg") >= 4  # by street, age, category and base at least
    reader = read(_pdf(export))
    text = text_of(reader)
    assert text.count("天山养老院") == 2 and text.count("虹桥日间照料中心") == 2
    drawing = b"".join(page.get_contents().get_data() for page in reader.pages)
    assert drawing.count(b" re") + drawing.count(b" l") > 20  # bars and axes as vector paths

    monkeypatch.setattr(assessment, "bar_chart", lambda *args, **kwargs: "")
    text = text_of(read(_pdf(export)))
    assert text.count("天山养老院") == 1 and text.count("虹桥日间照料中心") == 1


def _pdf(export) -> bytes:
    out = io.BytesIO()
    export.write_pdf(out)
    return out.getvalue()


def test_fonts_are_embedded_and_the_pages_are_a4_and_numbered(services, staff_a):
    export = AssessmentReport(viewer_scope(staff_a), month_period(timezone.localdate()), staff_a)
    reader = read(_pdf(export))
    assert_fonts_embedded(reader)
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width), round(height)) == (595, 842)
    pages = len(reader.pages)
    assert pages >= 2
    assert f"1/{pages}" in "".join(reader.pages[0].extract_text().split())


def test_street_staff_download_it_from_the_exports(client, services, staff_a):
    client.force_login(staff_a)
    url = reverse("reports:export_download", args=["assessment", "pdf"])
    response = client.get(url, {"period": "month"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = text_of(read(b"".join(response.streaming_content)))
    assert "天山" in text and "虹桥" not in text
