"""Honour levels in Django admin: head office writes the rights of each level, others read them;
members' levels are listed read-only, names masked, each role within its streets."""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import reverse

from honour.levels import set_level_right
from honour.models import HonourStatus, LevelRight
from ledger import services as ledger
from tests.factories import MemberFactory
from tests.honour.test_levels import HOUR, serve

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

RIGHTS = reverse("admin:honour_levelright_changelist")
RIGHTS_ADD = reverse("admin:honour_levelright_add")
LEVELS = reverse("admin:honour_honourstatus_changelist")


def status_url(user) -> str:
    row = HonourStatus.objects.get(user=user)
    return reverse("admin:honour_honourstatus_change", args=[row.pk])


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def served(volunteer, street_b):
    """王志愿 of 天山 at 320 hours (two stars); 赵志愿 of 虹桥 at 120 hours (one star)."""
    other = MemberFactory(volunteer=True, street=street_b, user__full_name="赵志愿").user
    serve(volunteer, 320 * HOUR)
    serve(other, 120 * HOUR)
    return volunteer, other


# --- the rights of each level -----------------------------------------------------------------


def test_head_office_adds_and_changes_the_rights_of_a_level(client, head_office):
    client.force_login(head_office)
    response = client.post(RIGHTS_ADD, {"level": "2", "text": "优先参加培训"})
    assert response.status_code == 302, text(response)
    right = LevelRight.objects.get()
    assert (right.level, right.text) == (2, "优先参加培训")

    change = reverse("admin:honour_levelright_change", args=[right.pk])
    response = client.post(change, {"level": "5", "text": "优先参加培训；兑换优惠"})
    assert response.status_code == 302
    right.refresh_from_db()
    assert (right.level, right.text) == (2, "优先参加培训；兑换优惠")  # the level stays
    assert right.history.count() == 2
    assert "二星" in text(client.get(RIGHTS))


def test_a_level_has_one_rights_text(client, head_office):
    set_level_right(level=2, text="优先参加培训", actor=head_office)
    client.force_login(head_office)
    response = client.post(RIGHTS_ADD, {"level": "2", "text": "另一段"})
    assert response.status_code == 200  # the form says the level has its text already
    assert LevelRight.objects.get().text == "优先参加培训"


@pytest.mark.parametrize("persona", ["staff_a", "advisor_a", "official"])
def test_other_staff_read_the_rights_but_do_not_write_them(client, request, head_office, persona):
    right = set_level_right(level=1, text="优先参加培训", actor=head_office)
    client.force_login(request.getfixturevalue(persona))
    assert "优先参加培训" in text(client.get(RIGHTS))
    assert client.post(RIGHTS_ADD, {"level": "3", "text": "改"}).status_code == 403
    change = reverse("admin:honour_levelright_change", args=[right.pk])
    assert client.post(change, {"level": "1", "text": "改"}).status_code == 403
    assert list(LevelRight.objects.values_list("text", flat=True)) == ["优先参加培训"]


def test_nobody_deletes_the_rights_of_a_level(client, head_office):
    right = set_level_right(level=1, text="优先参加培训", actor=head_office)
    client.force_login(head_office)
    delete = reverse("admin:honour_levelright_delete", args=[right.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert LevelRight.objects.exists()


# --- members' levels, each role within its streets --------------------------------------------


def test_street_staff_list_their_streets_members_masked(
    client, served, staff_a, django_assert_max_num_queries
):
    client.force_login(staff_a)
    with django_assert_max_num_queries(12):
        page = text(client.get(LEVELS))
    assert "王**" in page and "二星" in page and "320 小时" in page
    assert "王志愿" not in page  # the name is masked
    assert "赵**" not in page  # 虹桥 is another street's


def test_head_office_lists_the_whole_district_and_filters_by_street(
    client, served, head_office, street_b
):
    client.force_login(head_office)
    page = text(client.get(LEVELS))
    assert "王**" in page and "赵**" in page
    filtered = text(client.get(LEVELS, {"user__member__street__id__exact": street_b.pk}))
    assert "赵**" in filtered and "王**" not in filtered
    assert "一星" in text(client.get(LEVELS, {"level__exact": "1"}))


def test_the_change_page_shows_the_levels_reached_and_changes_nothing(client, served, staff_a):
    volunteer, _ = served
    client.force_login(staff_a)
    page = text(client.get(status_url(volunteer)))
    assert re.search(r"一星，\S+ 达到", page) and re.search(r"二星，\S+ 达到", page)
    assert client.post(status_url(volunteer), {"level": "5"}).status_code == 403
    assert HonourStatus.objects.get(user=volunteer).level == 2


def test_another_streets_member_is_not_found(client, served, staff_b):
    volunteer, _ = served
    client.force_login(staff_b)
    assert client.get(status_url(volunteer)).status_code == 404


def test_a_lost_level_is_shown_with_the_day_it_was_lost(client, volunteer, head_office, staff_a):
    serve(volunteer, 99 * HOUR)
    last = serve(volunteer, HOUR)
    ledger.reverse(transfer_id=uuid.uuid4(), original_id=last.pk, actor=head_office, reason="录错")
    client.force_login(staff_a)
    page = text(client.get(status_url(volunteer)))
    assert "因服务记录更正而取消" in page


def test_nobody_adds_or_deletes_a_stored_level(client, served, head_office):
    volunteer, _ = served
    client.force_login(head_office)
    assert client.get(reverse("admin:honour_honourstatus_add")).status_code == 403
    row = HonourStatus.objects.get(user=volunteer)
    delete = reverse("admin:honour_honourstatus_delete", args=[row.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert HonourStatus.objects.filter(pk=row.pk).exists()


def test_members_and_base_staff_have_no_admin_pages_here(client, served, volunteer, base_staff_a):
    for user in (volunteer, base_staff_a):
        client.force_login(user)
        assert client.get(LEVELS).status_code == 302  # to the admin's login


def test_its_history_pages_answer_without_an_error(client, served, head_office, staff_b):
    volunteer, _ = served
    row = HonourStatus.objects.get(user=volunteer)
    client.force_login(head_office)
    assert client.get(f"{LEVELS}{row.pk}/history/").status_code == 200
    for path in (f"{row.pk}/history/1/", "abc/history/", "99999999999999999999/history/"):
        assert client.get(LEVELS + path).status_code == 404, path
    client.force_login(staff_b)
    assert client.get(f"{LEVELS}{row.pk}/history/").status_code == 404
