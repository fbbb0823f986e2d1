"""A suspended member is reinstated by their own street, with a reason kept in history
(issue 14); an elder comes back only while still eligible."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts import services
from accounts.models import Member
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:accounts_member_changelist")


@pytest.fixture
def suspended(volunteer, staff_a):
    member = services.suspend_member(member=volunteer.member, reason="连续两次爽约", actor=staff_a)
    assert member.status == Member.Status.SUSPENDED
    return member


def test_the_street_reinstates_with_a_reason_kept_in_history(suspended, staff_a):
    member = services.reinstate_member(member=suspended, reason="已当面说明情况", actor=staff_a)
    member.refresh_from_db()
    assert member.status == Member.Status.VERIFIED and member.review_reason == "已当面说明情况"
    latest = member.history.first()
    assert latest.history_user == staff_a and latest.history_change_reason == "reinstated"
    assert latest.review_reason == "已当面说明情况"


@pytest.mark.parametrize("reason", ["", "   "])
def test_without_a_reason_nothing_changes(suspended, staff_a, reason):
    with pytest.raises(services.AccountsError):
        services.reinstate_member(member=suspended, reason=reason, actor=staff_a)
    suspended.refresh_from_db()
    assert suspended.status == Member.Status.SUSPENDED


def test_another_street_may_not_reinstate(suspended, staff_b):
    with pytest.raises(services.AccountsError):
        services.reinstate_member(member=suspended, reason="理由", actor=staff_b)


def test_only_a_suspended_member_is_reinstated(volunteer, staff_a):
    with pytest.raises(services.AccountsError):
        services.reinstate_member(member=volunteer.member, reason="理由", actor=staff_a)


def test_an_elder_no_longer_eligible_stays_suspended(street_a, staff_a):
    elder = MemberFactory(elder=True, street=street_a)
    services.suspend_member(member=elder, reason="评估待复核", actor=staff_a)
    Member.objects.filter(pk=elder.pk).update(assessment_level=0)
    with pytest.raises(services.AccountsError):
        services.reinstate_member(member=elder, reason="复核完成", actor=staff_a)
    elder.refresh_from_db()
    assert elder.status == Member.Status.SUSPENDED


def test_the_admin_action_asks_for_the_reason_then_says_who(client, suspended, staff_a):
    client.force_login(staff_a)
    chosen = {"action": "reinstate", "_selected_action": [suspended.pk]}
    asked = client.post(CHANGELIST, chosen)
    assert asked.status_code == 200 and "理由" in asked.content.decode()
    suspended.refresh_from_db()
    assert suspended.status == Member.Status.SUSPENDED  # nothing yet
    done = client.post(CHANGELIST, {**chosen, "apply": "1", "reason": "已当面说明情况"})
    assert done.status_code == 302
    suspended.refresh_from_db()
    assert suspended.status == Member.Status.VERIFIED
    said = [str(m) for m in get_messages(done.wsgi_request)]
    assert any("已恢复 1 位会员的资格" in m and "已当面说明情况" in m for m in said), said
