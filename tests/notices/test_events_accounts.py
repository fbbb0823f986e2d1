"""A member is told the street branch's decision on their registration (issue 15)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import Member
from notices.models import Notification
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def applicant(street_a):
    return MemberFactory(status=Member.Status.APPLIED, street=street_a, user__full_name="新志愿")


def messages(user):
    return list(Notification.objects.filter(recipient=user).order_by("pk"))


def test_it_tells_the_member_once_that_they_are_approved(
    applicant, staff_a, staff_b, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        services.review_member(member=applicant, approve=True, actor=staff_a)
    [note] = messages(applicant.user)
    assert (note.event, note.params) == ("member_approved", {"name": "新志愿"})
    assert note.url == reverse("accounts:profile")
    assert callbacks  # its sending and the unread badge, after commit
    assert Notification.objects.count() == 1  # the reviewer and other streets hear nothing
    with pytest.raises(services.AccountsError):  # a second click is refused, and tells nothing
        services.review_member(member=applicant, approve=True, actor=staff_a)
    assert Notification.objects.count() == 1


def test_it_tells_each_new_rejection_with_its_reason_and_then_the_approval(applicant, staff_a):
    services.review_member(member=applicant, approve=False, reason="照片不清楚", actor=staff_a)
    services.review_member(member=applicant, approve=False, reason="照片不清楚", actor=staff_a)
    services.review_member(member=applicant, approve=False, reason="身份证号有误", actor=staff_a)
    services.review_member(member=applicant, approve=True, actor=staff_a)
    notes = messages(applicant.user)
    assert [(n.event, n.params) for n in notes] == [
        ("member_rejected", {"reason": "照片不清楚"}),  # the repeated click told nothing new
        ("member_rejected", {"reason": "身份证号有误"}),
        ("member_approved", {"name": "新志愿"}),
    ]
    assert {n.url for n in notes} == {reverse("accounts:profile")}


def test_a_refused_review_tells_nobody(applicant, staff_b):
    with pytest.raises(services.AccountsError):  # another street's staff
        services.review_member(member=applicant, approve=True, actor=staff_b)
    assert not Notification.objects.exists()
