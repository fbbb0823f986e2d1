"""Staff work queues (``reports.queues.queues_for``) and the admin index's 待办 panel: each
persona counts only what waits in their own streets, and each link opens the waiting rows."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Member
from branches.models import ServiceBase
from ledger import gifts
from ledger import selectors as ledger_selectors
from ledger import services as ledger
from orders import services as orders
from reports.queues import COUNT_CAP, Queue, queues_for
from tests.factories import (
    MemberFactory,
    RelativeFactory,
    ServiceBaseFactory,
    StaffRoleFactory,
    UserFactory,
)
from tests.orders.conftest import give_coins, seeded_category

pytestmark = pytest.mark.django_db
HOUR = 60


# --- data, made through the services where the services make it ----------------------------


def waiting_member(street, name: str) -> Member:
    return MemberFactory(street=street, status=Member.Status.APPLIED, user__full_name=name)


def base_need(base, title: str, district):
    """A need a base's staff posted: waiting for the street branch."""
    poster = UserFactory()
    StaffRoleFactory(user=poster, role="base_staff", branch=base.street, base=base)
    give_coins(ledger_selectors.base_account(base), 20 * HOUR, district=district)
    return orders.post_request(
        actor=poster,
        category=seeded_category("companionship-institution", "陪伴(机构)", "institution"),
        title=title,
        base=base,
        starts_at=timezone.now() + timedelta(days=2),
        duration_minutes=HOUR,
    )


def pending_gift(street, district, name: str):
    """A volunteer of ``street`` gives an hour to their confirmed parent: waits for the street."""
    giver = MemberFactory(volunteer=True, street=street, user__full_name=name).user
    parent = MemberFactory(elder=True, street=street, user__full_name=f"{name}的母亲").user
    link = RelativeFactory(member=giver.member, relative=parent, relation="parent")
    ledger.transfer(
        transfer_id=uuid.uuid4(),
        debit=ledger_selectors.grant_pool(district),
        credit=ledger_selectors.member_account(giver),
        amount=3 * HOUR,
        code="service",  # earned: giftable
        actor=None,
    )
    return gifts.give_coins(
        gift_id=uuid.uuid4(), giver=giver, relative=link, amount=HOUR, actor=giver
    )


@pytest.fixture
def waiting(street_a, street_b, district, staff_a, staff_b):
    """Hand-counted: what waits in 天山 (A) and 虹桥 (B), and some that does not."""
    # Members: A 2 waiting, B 1 waiting; verified and rejected ones do not wait.
    waiting_member(street_a, "天山甲")
    waiting_member(street_a, "天山乙")
    waiting_member(street_b, "虹桥甲")
    MemberFactory(street=street_a)
    MemberFactory(street=street_a, status=Member.Status.REJECTED)
    # Relatives to confirm: A 1, B 1 (RelativeFactory confirms unless told).
    RelativeFactory(member=MemberFactory(street=street_a).user.member, status="pending")
    RelativeFactory(member=MemberFactory(street=street_b).user.member, status="pending")
    # Bases: A 1 applied + 1 street-approved; B 2 applied; certified ones do not wait.
    base_a = ServiceBaseFactory(name="天山养老院", street=street_a)
    base_b = ServiceBaseFactory(name="虹桥养老院", street=street_b)
    ServiceBaseFactory(street=street_a, status=ServiceBase.Status.APPLIED)
    ServiceBaseFactory(street=street_a, status=ServiceBase.Status.STREET_APPROVED)
    ServiceBaseFactory(street=street_b, status=ServiceBase.Status.APPLIED)
    ServiceBaseFactory(street=street_b, status=ServiceBase.Status.APPLIED)
    # Needs: A 2 at the street + 1 at head office; B 1 at the street + 2 at head office.
    base_need(base_a, "天山一", district)
    base_need(base_a, "天山二", district)
    orders.approve_by_street(service_request=base_need(base_a, "天山三", district), actor=staff_a)
    base_need(base_b, "虹桥一", district)
    for title in ("虹桥二", "虹桥三"):
        orders.approve_by_street(service_request=base_need(base_b, title, district), actor=staff_b)
    # Gifts: A 1, B 2.
    pending_gift(street_a, district, "天山送")
    pending_gift(street_b, district, "虹桥送")
    pending_gift(street_b, district, "虹桥再送")


def counts(user) -> dict[str, int]:
    return {queue.key: queue.count for queue in queues_for(user)}


def test_it_counts_street_staff_only_their_streets_waiting_items(waiting, staff_a, staff_b):
    assert counts(staff_a) == {
        "members": 2,
        "relatives": 1,
        "bases_street": 1,
        "street_queue": 2,
        "gifts": 1,
    }
    assert counts(staff_b) == {
        "members": 1,
        "relatives": 1,
        "bases_street": 2,
        "street_queue": 1,
        "gifts": 2,
    }


def test_it_counts_the_head_office_its_whole_district(waiting, head_office):
    assert counts(head_office) == {
        "members": 3,
        "relatives": 2,
        "bases_head_office": 1,
        "head_office_queue": 3,
        "gifts": 3,
    }


def test_it_counts_everything_for_a_superuser(waiting):
    admin = UserFactory(is_staff=True, is_superuser=True)
    assert counts(admin) == {
        "members": 3,
        "relatives": 2,
        "bases_street": 3,
        "bases_head_office": 1,
        "street_queue": 3,
        "head_office_queue": 3,
        "gifts": 3,
    }


def test_it_lists_no_queue_to_those_who_decide_nothing(
    waiting, advisor_a, official, base_staff_a, volunteer, outsider
):
    for user in (advisor_a, official, base_staff_a, volunteer, outsider):
        assert queues_for(user) == [], user
    assert queues_for(None) == []


def test_it_shows_zero_counts_and_links_to_the_waiting_rows(staff_a):
    queues = queues_for(staff_a)
    assert all(isinstance(q, Queue) and q.count == 0 for q in queues)
    urls = {q.key: q.url for q in queues}
    assert urls == {
        "members": reverse("admin:accounts_member_changelist") + "?status__exact=applied",
        "relatives": reverse("admin:accounts_relative_changelist") + "?status__exact=pending",
        "bases_street": reverse("admin:branches_servicebase_changelist") + "?status__exact=applied",
        "street_queue": reverse("admin:orders_streetqueuerequest_changelist"),
        "gifts": reverse("admin:ledger_gift_changelist") + "?status__exact=pending",
    }
    assert {q.label for q in queues} >= {"待审核的注册", "待街道审批的需求"}


def test_it_counts_the_rows_its_link_shows(waiting, client, staff_a):
    client.force_login(staff_a)
    for queue in queues_for(staff_a):
        page = client.get(queue.url)
        assert page.status_code == 200, queue
        assert page.context["cl"].result_count == queue.count, queue


def test_it_stops_counting_past_the_cap(street_a, staff_a, monkeypatch):
    monkeypatch.setattr("reports.queues.COUNT_CAP", 2)
    for name in ("甲", "乙", "丙", "丁"):
        waiting_member(street_a, name)
    members = next(q for q in queues_for(staff_a) if q.key == "members")
    assert members.count == 3 and members.more and members.count_text == "2+"
    assert COUNT_CAP == 999


def test_the_admin_index_shows_the_queues_first(waiting, client, staff_a):
    client.force_login(staff_a)
    page = client.get(reverse("admin:index"))
    text = page.content.decode()
    assert page.status_code == 200
    assert "待办" in text
    assert text.index("待办") < text.index("policy-link")
    members_url = reverse("admin:accounts_member_changelist") + "?status__exact=applied"
    assert f'href="{members_url}"' in text
    for queue in queues_for(staff_a):
        assert queue.label in text


def test_the_admin_index_says_plainly_when_nothing_waits(client, staff_a):
    client.force_login(staff_a)
    text = client.get(reverse("admin:index")).content.decode()
    assert "待办" in text
    assert 'class="queue-count">0<' in text
