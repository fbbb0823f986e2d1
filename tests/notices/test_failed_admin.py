"""发送失败的消息 (admin): each street's staff see and resend their own members' failed
deliveries only; resending goes through the service and is recorded with who did it."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from notices.models import Delivery, Notification
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

LIST = reverse("admin:notices_delivery_changelist")


def failed_delivery(user, *, key: str, status: str = "failed") -> Delivery:
    note = Notification.objects.create(
        recipient=user, event="coins_grant", key=key, params={"coins": 3}, dispatched=True
    )
    return Delivery.objects.create(
        notification=note,
        channel="sms",
        status=status,
        address=str(user.phone),
        attempts=5,
        last_error="gateway said no",
        not_before=timezone.now(),
    )


@pytest.fixture
def member_b(street_b):
    return MemberFactory(
        street=street_b, user__full_name="虹桥会员", user__phone="+8613912345678"
    ).user


@pytest.fixture
def failed_a(volunteer):
    return failed_delivery(volunteer, key="a")


@pytest.fixture
def failed_b(member_b):
    return failed_delivery(member_b, key="b")


def resend_url(delivery) -> str:
    return reverse("admin:notices_delivery_resend", args=[delivery.pk])


def test_street_staff_see_only_their_streets_failed_deliveries(
    client, staff_a, failed_a, failed_b, volunteer
):
    failed_delivery(volunteer, key="sent", status="sent")
    client.force_login(staff_a)
    response = client.get(LIST)
    assert response.status_code == 200
    body = response.content.decode()
    assert "发送失败的消息" in body
    assert "王志愿" in body and "虹桥会员" not in body
    assert [d.pk for d in response.context["cl"].result_list] == [failed_a.pk]
    assert resend_url(failed_a) in body and resend_url(failed_b) not in body


def test_phone_numbers_are_masked(client, head_office, failed_b):
    client.force_login(head_office)
    body = client.get(LIST).content.decode()
    assert "139****5678" in body and "13912345678" not in body
    page = client.get(reverse("admin:notices_delivery_change", args=[failed_b.pk]))
    assert "139****5678" in page.content.decode() and "13912345678" not in page.content.decode()


def test_head_office_sees_its_districts_streets(client, head_office, failed_a, failed_b):
    client.force_login(head_office)
    shown = {d.pk for d in client.get(LIST).context["cl"].result_list}
    assert shown == {failed_a.pk, failed_b.pk}


def test_head_office_sees_its_districts_staff_but_street_staff_do_not(
    client, head_office, staff_a, staff_b, city
):
    """The coin check's alarm goes to head office, who are staff, not members."""
    from tests.conftest import _staff
    from tests.factories import BranchFactory

    elsewhere = BranchFactory(name="徐汇区", code="xuhui", kind="district", parent=city)
    colleague = _staff("head_office", head_office.staff_roles.get().branch, name="长宁总行同事")
    stranger = _staff("head_office", elsewhere, name="徐汇总行员工")
    to_colleague = failed_delivery(colleague, key="audit:1")
    to_street_b = failed_delivery(staff_b, key="audit:2")
    to_stranger = failed_delivery(stranger, key="audit:3")
    client.force_login(head_office)
    shown = {d.pk for d in client.get(LIST).context["cl"].result_list}
    assert {to_colleague.pk, to_street_b.pk} <= shown and to_stranger.pk not in shown
    client.force_login(staff_a)
    shown = {d.pk for d in client.get(LIST).context["cl"].result_list}
    assert not shown & {to_colleague.pk, to_street_b.pk, to_stranger.pk}


def test_another_streets_delivery_is_not_found(client, staff_a, failed_b):
    client.force_login(staff_a)
    assert (
        client.get(reverse("admin:notices_delivery_change", args=[failed_b.pk])).status_code == 404
    )
    assert (
        client.get(reverse("admin:notices_delivery_history", args=[failed_b.pk])).status_code == 404
    )
    assert client.post(resend_url(failed_b)).status_code == 404
    failed_b.refresh_from_db()
    assert failed_b.status == "failed"


def test_resending_makes_it_pending_and_records_who(client, advisor_a, failed_a):
    client.force_login(advisor_a)
    response = client.post(resend_url(failed_a), follow=True)
    assert response.redirect_chain[-1][0] == LIST
    assert "将重新发送" in response.content.decode()
    failed_a.refresh_from_db()
    assert (failed_a.status, failed_a.attempts) == ("pending", 0)
    assert failed_a.history.latest().history_user == advisor_a
    assert failed_a.pk not in {d.pk for d in response.context["cl"].result_list}


def test_the_bulk_action_resends_only_what_is_in_scope(client, staff_a, failed_a, failed_b):
    client.force_login(staff_a)
    client.post(LIST, {"action": "resend_selected", "_selected_action": [failed_a.pk, failed_b.pk]})
    failed_a.refresh_from_db()
    failed_b.refresh_from_db()
    assert failed_a.status == "pending" and failed_a.history.latest().history_user == staff_a
    assert failed_b.status == "failed"


def test_resending_needs_a_post(client, staff_a, failed_a):
    client.force_login(staff_a)
    assert client.get(resend_url(failed_a)).status_code == 405
    failed_a.refresh_from_db()
    assert failed_a.status == "failed"


def test_it_is_read_only(client, head_office, failed_a):
    client.force_login(head_office)
    assert client.get(reverse("admin:notices_delivery_add")).status_code == 403
    delete = reverse("admin:notices_delivery_delete", args=[failed_a.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Delivery.objects.filter(pk=failed_a.pk).exists()


@pytest.mark.parametrize("persona", ["base_staff_a", "official", "volunteer"])
def test_others_have_no_access(client, request, persona, failed_a):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(LIST).status_code in (302, 403)
    assert client.post(resend_url(failed_a)).status_code in (302, 403, 404)
    failed_a.refresh_from_db()
    assert failed_a.status == "failed"


def test_the_list_costs_the_same_queries_for_many_rows(
    client, staff_a, volunteer, street_a, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    failed_delivery(volunteer, key="0")
    client.force_login(staff_a)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(LIST).status_code == 200
        return len(ctx)

    few = count()
    for i in range(15):
        failed_delivery(MemberFactory(street=street_a).user, key=f"m{i}")
    assert count() == few
    with django_assert_max_num_queries(few):
        client.get(LIST)
