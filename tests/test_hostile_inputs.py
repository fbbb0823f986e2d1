"""The hostile inputs that answered 500 (hardening issue, "No input may reach a 500"), one
test each: the answer, the Chinese message where a form refuses, and nothing changed."""

# The orders fixtures (needs, coins) are imported, then named as test arguments.
# ruff: noqa: F811

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DataError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Member
from branches.models import ServiceBase
from ledger.models import Transfer
from orders import services
from orders.forms import OptionalReasonForm
from orders.models import Assignment, ServiceRequest, SignRecord
from tests.hostile import message_texts, snapshot
from tests.ledger.test_admin import id_number_of
from tests.orders.conftest import (  # noqa: F401
    base_funds,
    category,
    elder_funds,
    make_need,
)
from timebank.forms import ModelMultipleChoiceField, TextFormMixin
from timebank.policy import get_policy

pytestmark = pytest.mark.django_db

CONTROL_REFUSED = "请删除文字中看不见的控制字符。"
TOO_FAR = f"需求的开始时间最多只能在{get_policy().need_horizon_days}天以内。"
CANNOT_READ = "我们无法读取这个请求"


def test_it_ignores_an_order_hall_location_that_is_not_a_finite_place(client, make_need, volunteer):
    need = make_need(title="有坐标的需求")
    ServiceRequest.objects.filter(pk=need.pk).update(latitude=31.2, longitude=121.4)
    client.force_login(volunteer)
    before = snapshot()
    for lat in ("inf", "-inf", "1e400", "nan", "91"):
        page = client.get(reverse("orders:available"), {"lat": lat, "lng": "121.4"})
        assert page.status_code == 200
        assert "有坐标的需求" in page.content.decode()  # the filter is dropped, not the list
    assert snapshot() == before


def test_it_refuses_bulk_grant_hours_that_are_not_a_finite_number(
    client, district, elder, head_office
):
    client.force_login(head_office)
    before = snapshot()
    for hours, problem in (
        ("NaN", "不是正的小时数"),
        ("Infinity", "不是正的小时数"),
        ("sNaN", "不是正的小时数"),
        ("9e999999", "不是正的小时数"),
        ("1e400", "超过了单笔发放的上限999999小时"),
    ):
        csv = f"{id_number_of(elder)},{hours}\n".encode()
        response = client.post(
            reverse("admin:ledger_account_bulk_grant"),
            {
                "batch_id": str(uuid.uuid4()),
                "district": district.pk,
                "reason": "春节慰问",
                "file": SimpleUploadedFile("g.csv", csv),
            },
        )
        assert response.status_code == 200
        assert problem in " ".join(response.context["form"].non_field_errors())
    assert snapshot() == before
    assert not Transfer.objects.exists()


def test_it_refuses_a_bulk_grant_file_with_a_stray_carriage_return(client, district, head_office):
    client.force_login(head_office)
    before = snapshot()
    response = client.post(
        reverse("admin:ledger_account_bulk_grant"),
        {
            "batch_id": str(uuid.uuid4()),
            "district": district.pk,
            "reason": "春节慰问",
            "file": SimpleUploadedFile("g.csv", "换行\r,2.5\n".encode()),
        },
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == ["文件不是 UTF-8 或 GBK 编码的 CSV。"]
    assert snapshot() == before


def test_it_refuses_grant_hours_that_are_not_a_finite_number(client, district, elder, head_office):
    client.force_login(head_office)
    before = snapshot()
    for hours in ("NaN", "Infinity", "-inf", "1e400"):
        response = client.post(
            reverse("admin:ledger_account_grant"),
            {
                "transfer_id": str(uuid.uuid4()),
                "district": district.pk,
                "id_number": id_number_of(elder),
                "hours": hours,
                "reason": "补贴",
            },
        )
        assert response.status_code == 200
        assert "hours" in response.context["form"].errors
    assert snapshot() == before


@pytest.mark.parametrize("reason", ["有事\x00", "\x1b[31m有事"])
def test_it_refuses_nul_and_control_characters_in_cancel_and_decline_reasons(
    client, make_need, volunteer, base_staff_a, reason
):
    need = make_need()
    a = services.grab_place(service_request=need, volunteer=volunteer)
    before = snapshot()
    for user, url in (
        (volunteer, reverse("orders:cancel_place", args=[a.pk])),
        (base_staff_a, reverse("orders:decline_place", args=[a.pk])),
        (base_staff_a, reverse("orders:cancel", args=[need.pk])),
    ):
        client.force_login(user)
        response = client.post(url, {"reason": reason})
        assert response.status_code == 302
        assert message_texts(response) == [CONTROL_REFUSED]
    assert snapshot() == before
    # Line ends and tabs are text: the same cancellation with them goes through.
    client.force_login(volunteer)
    client.post(reverse("orders:cancel_place", args=[a.pk]), {"reason": "临时有事\n\t明天再约"})
    a.refresh_from_db()
    assert (a.status, a.ended_reason) == ("cancelled", "临时有事\n\t明天再约")


def test_it_answers_400_to_nul_in_admin_filters_searches_and_member_pages(
    client, staff_a, volunteer
):
    before = snapshot()
    client.force_login(staff_a)
    for url in (
        "/admin/accounts/member/?status__exact=%00",
        "/admin/accounts/member/?q=%E5%BC%A0%00",
        "/admin/accounts/user/?q=%00",
        "/admin/accounts/member/?%00=1",
    ):
        response = client.get(url)
        assert response.status_code == 400
        assert CANNOT_READ in response.content.decode()
    client.force_login(volunteer)
    assert client.get("/orders/available/?street=%00").status_code == 400
    assert snapshot() == before


@pytest.mark.postgres
def test_postgres_refuses_nul_in_text_which_is_why_it_never_reaches_a_query(volunteer):
    with pytest.raises(DataError), transaction.atomic():
        list(Member.objects.filter(status="\x00"))


def test_it_signs_out_dropping_a_location_its_columns_cannot_hold(client, make_need, volunteer):
    need = make_need(starts_in=timedelta(minutes=10), auto_confirm=True)
    a = services.grab_place(service_request=need, volunteer=volunteer)
    services.sign_in(assignment=a, actor=volunteer, code=need.checkin_code)
    client.force_login(volunteer)
    response = client.post(
        reverse("orders:sign_out", args=[a.pk]),
        {"accuracy": "99999999999999999999", "latitude": "31.2304567", "longitude": "1e400"},
    )
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.status == "signed_out"
    out = SignRecord.objects.get(assignment=a, kind="out")
    assert (out.accuracy_m, out.latitude, out.longitude) == (None, Decimal("31.230457"), None)


def test_it_refuses_a_need_beyond_the_horizon(client, base_staff_a, base_a, category):
    client.force_login(base_staff_a)
    before = snapshot()
    too_far = timezone.localdate() + timedelta(days=get_policy().need_horizon_days + 1)
    for day in ("9999-12-31", too_far.isoformat()):
        page = client.post(
            reverse("orders:new"),
            {
                "base": base_a.pk,
                "category": category.pk,
                "title": "远期需求",
                "day": day,
                "start": "09:00",
                "units": 1,
                "places": 1,
            },
        )
        assert page.status_code == 200
        assert TOO_FAR in page.content.decode()
    assert snapshot() == before
    # The service refuses it too: admin and other callers do not go through the form.
    with pytest.raises(services.OrderError, match=TOO_FAR):
        services.post_request(
            actor=base_staff_a,
            category=category,
            title="远期需求",
            base=base_a,
            starts_at=timezone.now() + timedelta(days=get_policy().need_horizon_days, hours=1),
            duration_minutes=60,
        )
    assert snapshot() == before
    inside = services.post_request(
        actor=base_staff_a,
        category=category,
        title="最远的需求",
        base=base_a,
        starts_at=timezone.now() + timedelta(days=get_policy().need_horizon_days, hours=-1),
        duration_minutes=60,
    )
    assert inside.pk is not None


def test_the_horizon_leaves_a_hold_time_to_settle_before_the_audit_calls_it_stale(settings):
    policy = get_policy()
    assert policy.need_horizon_days == 60  # the default 90-day pending age, less a third
    assert policy.need_horizon_days < policy.pending_max_age_days
    settings.TIMEBANK_PENDING_MAX_AGE_DAYS = 900
    assert get_policy().need_horizon_days == 365  # never beyond a year


def test_it_refuses_care_paid_with_coins_beyond_the_horizon(client, elder, elder_funds):
    client.force_login(elder)
    before = snapshot()
    page = client.post(
        reverse("spend_coins"),
        {
            "day": "9999-12-31",
            "start": "09:00",
            "units": 1,
            "where": "home",
            "address": "天山路1号",
        },
    )
    assert page.status_code == 200
    assert TOO_FAR in page.content.decode()
    assert snapshot() == before


def test_it_refuses_to_grab_a_need_stored_at_the_end_of_the_calendar(client, make_need, volunteer):
    # Posted before the horizon existed, for the last evening of 9999 (Shanghai) and a whole
    # day: its end is past the last date Python holds.
    need = make_need(duration=24 * 60)
    last_evening = datetime(9999, 12, 31, 23, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    ServiceRequest.objects.filter(pk=need.pk).update(starts_at=last_evening)
    need.refresh_from_db()
    assert need.ends_at.year == 9999  # no OverflowError
    client.force_login(volunteer)
    before = snapshot()
    response = client.post(reverse("orders:grab", args=[need.pk]), follow=True)
    assert response.status_code == 200
    assert "该需求的日期过远，需由发布方更正后才能抢单。" in response.content.decode()
    assert snapshot() == before
    assert not Assignment.objects.exists()
    assert client.get(reverse("orders:available")).status_code == 200


def test_it_answers_404_to_admin_urls_whose_ids_are_not_ids(client, make_need, staff_a, volunteer):
    need = make_need(publish=False)
    client.force_login(staff_a)
    member = volunteer.member.pk
    for url in (
        f"/admin/accounts/member/{member}/history/abc/",
        f"/admin/accounts/member/{member}/history/99999999999999999999/",
        "/admin/orders/servicerequest/abc/change/",
        "/admin/orders/servicerequest/abc/history/",
        f"/admin/orders/servicerequest/{need.pk}/history/abc/",
    ):
        assert client.get(url, follow=True).status_code == 404, url


def test_it_answers_admin_filters_and_actions_that_do_not_parse_without_a_500(
    client, make_need, staff_a
):
    need = make_need(publish=False)
    client.force_login(staff_a)
    before = snapshot()
    for query in ("starts_at__year=9999", "starts_at__year=99999999999999999999"):
        response = client.get(f"/admin/orders/servicerequest/?{query}", follow=True)
        assert response.status_code == 200  # Django's "?e=1": the filter is not applied
    for selected in ("abc", "", "1.5"):
        response = client.post(
            reverse("admin:orders_streetqueuerequest_changelist"),
            {
                "action": "reject_selected",
                "_selected_action": [selected],
                "apply": "1",
                "reason": "x",
            },
        )
        assert response.status_code == 400
    assert snapshot() == before
    need.refresh_from_db()
    assert need.status == "submitted"


def test_every_form_of_ours_refuses_control_characters_in_text():
    import timebank.urls  # noqa: F401  (loads every admin module and the forms they define)
    from accounts import forms as _a  # noqa: F401
    from branches import forms as _b  # noqa: F401
    from ledger import donation_forms, gift_forms  # noqa: F401
    from ledger import forms as _l  # noqa: F401
    from orders import forms as _o  # noqa: F401
    from orders import spend_forms  # noqa: F401

    ours = {"accounts", "branches", "ledger", "orders", "exchange", "honour", "reports", "timebank"}
    found, stack = [], [forms.BaseForm]
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.split(".")[0] in ours and cls.__module__ != "timebank.forms":
            found.append(cls)
    assert len(found) > 15
    assert [c for c in found if not issubclass(c, TextFormMixin)] == []
    assert OptionalReasonForm({"reason": "一\t二\r\n三"}).is_valid()
    for text in ("a\x00b", "a\x1bb", "a\x7f", "a\u0085b"):
        form = OptionalReasonForm({"reason": text})
        assert form.errors["reason"] == [CONTROL_REFUSED]


@pytest.mark.parametrize("far", [str(2**63), str(-(2**63) - 1), "9" * 40])
def test_a_choice_past_any_id_is_a_wrong_choice_not_a_500(base_a, far):
    """SQLite raised OverflowError reading ``id IN (…)`` (the fuzz test's one 500 there)."""
    field = ModelMultipleChoiceField(queryset=ServiceBase.objects.all(), required=False)
    with pytest.raises(forms.ValidationError) as refusal:
        field.clean([str(base_a.pk), far])
    assert refusal.value.code == "invalid_choice"
    assert list(field.clean([str(base_a.pk)])) == [base_a]
    with pytest.raises(forms.ValidationError) as absent:  # the largest id: none such
        field.clean([str(2**63 - 1)])
    assert absent.value.code == "invalid_choice"


def test_staff_applying_for_a_place_with_a_home_past_any_id_get_the_form_again(
    client, policy_name, elder, base_a, staff_a
):
    policy_name("beijing-2022")
    client.force_login(staff_a)
    before = snapshot()
    page = client.post(
        reverse("admin:honour_admissionapplication_apply"),
        {
            "application_id": str(uuid.uuid4()),
            "id_number": id_number_of(elder),
            "reason": "独居高龄",
            "homes": [str(base_a.pk), str(2**63)],
        },
    )
    assert page.status_code == 200
    assert page.context["form"].errors["homes"]
    assert snapshot() == before
