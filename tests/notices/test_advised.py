"""/inbox/advised/: advisors and street staff read the messages of their street's members
without a phone (nothing is sent to them); other streets' and everyone else's stay hidden."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notices.events import notify
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

ADVISED = reverse("notices:advised")


@pytest.fixture
def phoneless_a(street_a):
    return MemberFactory(
        elder=True, street=street_a, user__phone=None, user__full_name="无机阿婆"
    ).user


@pytest.fixture
def phoneless_b(street_b):
    return MemberFactory(
        elder=True, street=street_b, user__phone=None, user__full_name="虹桥阿公"
    ).user


def tell(user, key: str):
    return notify([user], "need_approved", key=key, params={"title": f"助餐{key}"})


def test_advisors_see_their_streets_phoneless_members_only(
    client, advisor_a, phoneless_a, phoneless_b, elder
):
    tell(phoneless_a, "1")
    tell(phoneless_b, "2")
    tell(elder, "3")  # has a phone: told directly
    client.force_login(advisor_a)
    response = client.get(ADVISED)
    assert response.status_code == 200
    body = response.content.decode()
    assert "无机阿婆" in body and "助餐1" in body
    assert "虹桥阿公" not in body and "助餐2" not in body and "助餐3" not in body
    assert "未读：1 条" in body


def test_street_staff_see_it_too_and_reading_lowers_the_count(client, staff_b, phoneless_b):
    (note,) = tell(phoneless_b, "1")
    tell(phoneless_b, "2")
    client.force_login(staff_b)
    assert "未读：2 条" in client.get(ADVISED).content.decode()
    from notices.services import mark_read

    mark_read(user=phoneless_b, notification_id=note.pk)
    assert "未读：1 条" in client.get(ADVISED).content.decode()


@pytest.mark.parametrize("persona", ["volunteer", "head_office", "base_staff_a", "outsider"])
def test_everyone_else_is_refused(client, request, persona):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(ADVISED).status_code == 403


def test_it_is_linked_from_the_advisors_me_page(client, advisor_a):
    client.force_login(advisor_a)
    assert f'href="{ADVISED}"' in client.get(reverse("accounts:profile")).content.decode()


def test_it_costs_the_same_queries_for_many_messages(client, advisor_a, street_a):
    client.force_login(advisor_a)
    elders = [MemberFactory(elder=True, street=street_a, user__phone=None).user for _ in range(3)]
    tell(elders[0], "0")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(ADVISED).status_code == 200
        return len(ctx)

    few = count()
    for i, person in enumerate(elders * 8):
        tell(person, f"n{i}")
    assert count() == few
