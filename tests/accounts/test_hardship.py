"""The street marks an elder as in special hardship (特殊困难): service and admin actions."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import Member
from accounts.services import AccountsError
from ledger.selectors import elders_in_need

pytestmark = pytest.mark.django_db
URL = "/admin/accounts/member/"


@pytest.fixture
def member(elder):
    return Member.objects.get(user=elder)


def test_street_staff_mark_and_clear_with_history(member, staff_a, district):
    services.set_hardship(member=member, in_hardship=True, note=" 独居，低保 ", actor=staff_a)
    member.refresh_from_db()
    assert member.in_hardship and member.hardship_note == "独居，低保"
    assert list(elders_in_need(district)) == [member]
    last = member.history.first()
    assert last.history_user == staff_a and "独居，低保" in last.history_change_reason
    services.set_hardship(member=member, in_hardship=False, note="", actor=staff_a)
    member.refresh_from_db()
    assert not member.in_hardship and member.hardship_note == ""
    assert member.history.first().history_change_reason == "hardship cleared"
    assert list(elders_in_need(district)) == []


def test_head_office_may_mark(member, head_office):
    services.set_hardship(member=member, in_hardship=True, note="高龄独居", actor=head_office)
    assert Member.objects.get(pk=member.pk).in_hardship


@pytest.mark.parametrize("who", ["staff_b", "advisor_a", "volunteer", "outsider"])
def test_others_may_not(member, who, request):
    actor = request.getfixturevalue(who)
    with pytest.raises(AccountsError):
        services.set_hardship(member=member, in_hardship=True, note="理由", actor=actor)
    assert not Member.objects.get(pk=member.pk).in_hardship


@pytest.mark.parametrize("note", ["", "   "])
def test_marking_needs_a_note(member, staff_a, note):
    with pytest.raises(AccountsError) as caught:
        services.set_hardship(member=member, in_hardship=True, note=note, actor=staff_a)
    assert caught.value.field == "note"
    assert not Member.objects.get(pk=member.pk).in_hardship


def test_the_admin_action_asks_for_a_note_first(client, staff_a, member):
    client.force_login(staff_a)
    action = {"action": "mark_hardship", "_selected_action": [member.pk]}
    page = client.post(URL, action)
    assert page.status_code == 200 and 'name="note"' in page.content.decode()
    assert not Member.objects.get(pk=member.pk).in_hardship
    empty = client.post(URL, action | {"apply": "1", "note": ""})
    assert empty.status_code == 200 and not Member.objects.get(pk=member.pk).in_hardship
    client.post(URL, action | {"apply": "1", "note": "失独老人"})
    member.refresh_from_db()
    assert member.in_hardship and member.hardship_note == "失独老人"
    client.post(URL, {"action": "clear_hardship", "_selected_action": [member.pk]})
    assert not Member.objects.get(pk=member.pk).in_hardship


def test_the_admin_action_reaches_only_members_of_ones_own_streets(
    client, staff_b, member, street_b
):
    from tests.factories import MemberFactory

    ours = MemberFactory(elder=True, street=street_b)
    client.force_login(staff_b)
    action = {"action": "mark_hardship", "_selected_action": [member.pk, ours.pk]}
    client.post(URL, action | {"apply": "1", "note": "困难"})
    assert Member.objects.get(pk=ours.pk).in_hardship
    assert not Member.objects.get(pk=member.pk).in_hardship  # another street's elder


def test_head_office_marks_across_its_streets(client, head_office, member):
    client.force_login(head_office)
    action = {"action": "mark_hardship", "_selected_action": [member.pk], "apply": "1"}
    client.post(reverse("admin:accounts_member_changelist"), action | {"note": "重残"})
    assert Member.objects.get(pk=member.pk).in_hardship
