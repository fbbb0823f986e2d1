"""The guarantee fund in Django admin: head office registers and updates its own district's
fund (every change kept with who made it), officials read it, street staff see nothing, and
another district's fund is a 404. The export logs are head office's to read, never to edit."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from reports.models import ExportJob, ExportLog, GuaranteeFund
from tests.factories import BranchFactory, StaffRoleFactory, UserFactory

pytestmark = pytest.mark.django_db

FUNDS = reverse("admin:reports_guaranteefund_changelist")
ADD = reverse("admin:reports_guaranteefund_add")
LOGS = reverse("admin:reports_exportlog_changelist")
JOBS = reverse("admin:reports_exportjob_changelist")


def change_url(fund: GuaranteeFund) -> str:
    return reverse("admin:reports_guaranteefund_change", args=[fund.pk])


@pytest.fixture
def other_district(city):
    return BranchFactory(name="徐汇区", code="xuhui", kind="district", parent=city)


@pytest.fixture
def other_fund(other_district):
    return GuaranteeFund.objects.create(
        district=other_district, fund_yuan=Decimal("5000"), market_price_per_hour_yuan=Decimal("50")
    )


@pytest.fixture
def fund(district):
    return GuaranteeFund.objects.create(
        district=district, fund_yuan=Decimal("1000"), market_price_per_hour_yuan=Decimal("40")
    )


def form(**fields) -> dict:
    return {"fund_yuan": "1000", "market_price_per_hour_yuan": "40", "note": "", **fields}


def test_head_office_registers_its_districts_fund_and_it_is_kept_in_history(
    client, head_office, district, other_district
):
    client.force_login(head_office)
    page = client.get(ADD)
    assert page.status_code == 200
    field = page.context["adminform"].form.fields["district"]
    choices = [value.value for value, _label in field.choices if value]
    assert choices == [district.pk]  # never another district's

    refused = client.post(ADD, form(district=other_district.pk))
    assert refused.status_code == 200 and not GuaranteeFund.objects.exists()

    assert client.post(ADD, form(district=district.pk)).status_code == 302
    fund = GuaranteeFund.objects.get(district=district)
    assert (fund.fund_yuan, fund.market_price_per_hour_yuan) == (Decimal("1000"), Decimal("40"))

    answer = client.post(change_url(fund), form(fund_yuan="1500.50", note="区财政追加"))
    assert answer.status_code == 302
    fund.refresh_from_db()
    assert fund.fund_yuan == Decimal("1500.50") and fund.district == district
    versions = list(fund.history.order_by("history_date"))
    assert [(v.fund_yuan, v.history_user) for v in versions] == [
        (Decimal("1000.00"), head_office),
        (Decimal("1500.50"), head_office),
    ]
    assert (
        client.get(reverse("admin:reports_guaranteefund_history", args=[fund.pk])).status_code
        == 200
    )
    # Registered once: no second fund may be added for the district.
    assert client.get(ADD).status_code == 403


def test_the_district_of_a_fund_cannot_be_changed(
    client, head_office, district, fund, other_district
):
    client.force_login(head_office)
    answer = client.post(change_url(fund), form(district=other_district.pk, fund_yuan="900"))
    assert answer.status_code == 302
    fund.refresh_from_db()
    assert (fund.district_id, fund.fund_yuan) == (district.pk, Decimal("900"))


def test_another_districts_fund_is_not_found(client, head_office, fund, other_fund):
    client.force_login(head_office)
    listing = client.get(FUNDS)
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [fund]
    assert client.get(change_url(other_fund)).status_code == 404
    assert client.post(change_url(other_fund), form(fund_yuan="1")).status_code == 404
    history = reverse("admin:reports_guaranteefund_history", args=[other_fund.pk])
    assert client.get(history).status_code == 404
    other_fund.refresh_from_db()
    assert other_fund.fund_yuan == Decimal("5000")


def test_officials_read_the_fund_and_cannot_change_it(client, official, fund):
    client.force_login(official)
    assert client.get(FUNDS).status_code == 200
    page = client.get(change_url(fund))
    assert page.status_code == 200 and 'name="fund_yuan"' not in page.content.decode()
    assert client.post(change_url(fund), form(fund_yuan="1")).status_code == 403
    assert client.get(ADD).status_code == 403
    fund.refresh_from_db()
    assert fund.fund_yuan == Decimal("1000")


def test_street_staff_have_no_access(client, staff_a, fund):
    client.force_login(staff_a)
    assert client.get(FUNDS).status_code == 403
    assert client.get(ADD).status_code == 403
    # The fund is outside their scope altogether: not found, as any other out-of-scope object.
    assert client.get(change_url(fund)).status_code == 404
    assert client.post(change_url(fund), form(fund_yuan="1")).status_code == 404
    fund.refresh_from_db()
    assert fund.fund_yuan == Decimal("1000")
    with translation.override("zh-hans"):
        index = client.get(reverse("admin:index")).content.decode()
    assert "保障金" not in index


def test_nobody_deletes_a_fund(client, head_office, fund):
    client.force_login(head_office)
    url = reverse("admin:reports_guaranteefund_delete", args=[fund.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert GuaranteeFund.objects.filter(pk=fund.pk).exists()


def test_the_list_shows_the_care_the_fund_can_buy(client, head_office, fund):
    client.force_login(head_office)
    with translation.override("zh-hans"):
        html = client.get(FUNDS).content.decode()
        index = client.get(reverse("admin:index")).content.decode()
    assert "保障金可购买的服务" in html and "25 小时" in html  # 1000 ÷ 40
    assert "保障金" in index and "导出记录" in index


# --- export logs --------------------------------------------------------------------------------


def test_head_office_reads_its_districts_exports_only(
    client, head_office, staff_a, other_district, official
):
    stranger = UserFactory(full_name="徐汇员工")
    StaffRoleFactory(user=stranger, role="head_office", branch=other_district)
    ours = ExportLog.objects.create(user=staff_a, export="members", fmt="csv", rows=3)
    ExportLog.objects.create(user=stranger, export="members", fmt="csv", rows=9)
    job = ExportJob.objects.create(user=staff_a, export="transfers", fmt="xlsx")
    ExportJob.objects.create(user=stranger, export="transfers", fmt="xlsx")

    client.force_login(head_office)
    assert list(client.get(LOGS).context["cl"].result_list) == [ours]
    assert list(client.get(JOBS).context["cl"].result_list) == [job]
    log_url = reverse("admin:reports_exportlog_change", args=[ours.pk])
    assert client.get(log_url).status_code == 200
    assert client.post(log_url, {"rows": "0"}).status_code == 403
    assert client.get(reverse("admin:reports_exportlog_add")).status_code == 403
    delete = reverse("admin:reports_exportlog_delete", args=[ours.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    ours.refresh_from_db()
    assert ours.rows == 3

    for other in (staff_a, official):
        client.force_login(other)
        assert client.get(LOGS).status_code == 403
        assert client.get(JOBS).status_code == 403
