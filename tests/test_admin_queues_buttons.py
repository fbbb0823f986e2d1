"""Approve and reject buttons on the queues' rows and on the object's page: one object, through
its service, within the user's streets, a reason asked on its own page, and a message that
names what was decided."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Member
from branches.models import ServiceBase
from ledger.models import Gift
from orders import services as orders
from orders.models import ServiceRequest
from tests.factories import ServiceBaseFactory
from tests.test_admin_queues import base_need, pending_gift, waiting_member

pytestmark = pytest.mark.django_db

STREET_QUEUE = reverse("admin:orders_streetqueuerequest_changelist")
HEAD_QUEUE = reverse("admin:orders_headofficequeuerequest_changelist")
MEMBERS = reverse("admin:accounts_member_changelist") + "?status__exact=applied"
GIFTS = reverse("admin:ledger_gift_changelist") + "?status__exact=pending"


REJECT_LINK = r'class="button decide-reject" href="([^"]+)"'


def url(name: str, obj) -> str:
    return reverse(f"admin:{name}", args=(obj.pk,))


def said(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def row_buttons(page) -> dict[str, list[str]]:
    """The approve (POST) and reject (GET, a reason page) addresses in a list's rows."""
    html = page.content.decode()
    return {
        "approve": [unescape(u) for u in re.findall(r'formaction="([^"]+)"', html)],
        "reject": [
            unescape(u) for u in re.findall(r'class="button decide-reject" href="([^"]+)"', html)
        ],
    }


@pytest.fixture
def base_a(street_a):
    return ServiceBaseFactory(name="天山养老院", street=street_a)


@pytest.fixture
def base_b(street_b):
    return ServiceBaseFactory(name="虹桥养老院", street=street_b)


# --- needs: the street queue and the head-office queue --------------------------------------


def test_it_approves_one_need_from_its_row_in_the_street_queue(client, staff_a, base_a, district):
    need = base_need(base_a, "天山一", district)
    other = base_need(base_a, "天山二", district)
    client.force_login(staff_a)
    page = client.get(STREET_QUEUE)
    buttons = row_buttons(page)
    assert len(buttons["approve"]) == len(buttons["reject"]) == 2
    approve = next(u for u in buttons["approve"] if f"/{need.pk}/approve/" in u)

    response = client.post(approve, follow=True)

    assert response.redirect_chain[-1][0] == STREET_QUEUE
    assert said(response) == ["已批准 1 条需求：天山一。"]
    need.refresh_from_db(), other.refresh_from_db()
    assert (need.status, other.status) == ("street_approved", "submitted")


def test_it_approves_a_need_from_its_page_in_the_head_office_queue(
    client, staff_a, head_office, base_a, district
):
    need = base_need(base_a, "总行审批", district)
    orders.approve_by_street(service_request=need, actor=staff_a)
    client.force_login(head_office)
    page = client.get(url("orders_headofficequeuerequest_change", need))
    html = page.content.decode()
    approve = url("orders_headofficequeuerequest_approve", need)
    assert f'action="{approve}?next=' in html and "decide-reject" in html

    response = client.post(f"{approve}?next={HEAD_QUEUE}", follow=True)

    assert said(response) == ["已批准 1 条需求：总行审批。"]
    need.refresh_from_db()
    assert need.status == ServiceRequest.Status.PUBLISHED


def test_it_rejects_a_need_only_with_a_reason(client, staff_a, base_a, district):
    need = base_need(base_a, "不合适", district)
    client.force_login(staff_a)
    reject = row_buttons(client.get(STREET_QUEUE))["reject"][0]
    form = client.get(reject)
    assert form.status_code == 200
    assert "驳回理由" in form.content.decode()

    empty = client.post(reject, {"reason": "  "})

    assert empty.status_code == 200  # the form again, with its error
    assert empty.context["form"].errors
    need.refresh_from_db()
    assert need.status == "submitted"

    response = client.post(reject, {"reason": "时间不合适"}, follow=True)

    assert said(response) == ["已驳回 1 条需求：不合适。理由：时间不合适"]
    need.refresh_from_db()
    assert (need.status, need.rejection_reason) == ("draft", "时间不合适")  # back to its poster


def test_the_bulk_actions_name_the_needs_they_decided(client, staff_a, base_a, district):
    needs = [base_need(base_a, title, district) for title in ("甲需求", "乙需求")]
    client.force_login(staff_a)
    response = client.post(
        STREET_QUEUE,
        {"action": "approve_selected", "_selected_action": [n.pk for n in needs]},
        follow=True,
    )
    assert said(response) == ["已批准 2 条需求：甲需求、乙需求。"]


def test_it_refuses_another_streets_need(client, staff_a, staff_b, base_b, district):
    need = base_need(base_b, "虹桥的", district)
    client.force_login(staff_a)
    assert client.post(url("orders_streetqueuerequest_approve", need)).status_code == 404
    assert client.get(url("orders_streetqueuerequest_reject", need)).status_code == 404
    assert (
        client.post(url("orders_streetqueuerequest_reject", need), {"reason": "x"}).status_code
        == 404
    )
    # Nor the head-office level (not in their queue).
    assert client.post(url("orders_headofficequeuerequest_approve", need)).status_code == 404
    need.refresh_from_db()
    assert need.status == "submitted"


def test_it_approves_only_by_post_with_a_csrf_token(staff_a, base_a, district):
    need = base_need(base_a, "要令牌", district)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_a)
    approve = url("orders_streetqueuerequest_approve", need)
    assert client.get(approve).status_code == 405
    assert client.post(approve).status_code == 403
    need.refresh_from_db()
    assert need.status == "submitted"


# --- members waiting for review ---------------------------------------------------------------


def test_it_approves_a_registration_from_its_row(client, staff_a, street_a):
    member = waiting_member(street_a, "王新人")
    client.force_login(staff_a)
    buttons = row_buttons(client.get(MEMBERS))
    assert len(buttons["approve"]) == 1

    response = client.post(buttons["approve"][0], follow=True)

    assert said(response) == ["已通过 1 人的注册：王新人。"]
    member.refresh_from_db()
    assert (member.status, member.reviewed_by) == ("verified", staff_a)
    assert response.redirect_chain[-1][0] == MEMBERS


def test_it_rejects_a_registration_from_its_page_with_a_reason(client, staff_a, street_a):
    member = waiting_member(street_a, "李新人")
    client.force_login(staff_a)
    page = client.get(url("accounts_member_change", member)).content.decode()
    reject = unescape(re.search(REJECT_LINK, page).group(1))

    client.post(reject, {"reason": ""})
    member.refresh_from_db()
    assert member.status == "applied"

    response = client.post(reject, {"reason": "证件照片看不清"}, follow=True)

    assert said(response) == ["已驳回 1 人的注册：李新人。理由：证件照片看不清"]
    member.refresh_from_db()
    assert (member.status, member.review_reason) == ("rejected", "证件照片看不清")


def test_it_shows_no_buttons_on_decided_members_or_to_advisors(
    client, staff_a, advisor_a, street_a
):
    member = waiting_member(street_a, "赵新人")
    verified = waiting_member(street_a, "钱老人")
    Member.objects.filter(pk=verified.pk).update(status=Member.Status.VERIFIED)
    client.force_login(staff_a)
    assert (
        "decide-approve" not in client.get(url("accounts_member_change", verified)).content.decode()
    )
    client.force_login(advisor_a)
    assert "decide-approve" not in client.get(MEMBERS).content.decode()
    assert client.post(url("accounts_member_approve", member)).status_code == 403
    member.refresh_from_db()
    assert member.status == "applied"


def test_it_refuses_another_streets_registration(client, staff_a, street_b):
    member = waiting_member(street_b, "虹桥新人")
    client.force_login(staff_a)
    assert client.post(url("accounts_member_approve", member)).status_code == 404
    assert client.post(url("accounts_member_reject", member), {"reason": "x"}).status_code == 404
    member.refresh_from_db()
    assert member.status == "applied"


# --- gifts waiting for a decision -------------------------------------------------------------


def test_it_approves_a_gift_from_its_row(client, staff_a, street_a, district):
    gift = pending_gift(street_a, district, "周送")
    client.force_login(staff_a)
    buttons = row_buttons(client.get(GIFTS))
    assert len(buttons["approve"]) == 1

    response = client.post(buttons["approve"][0], follow=True)

    assert said(response) == ["已批准 1 笔转赠：周送 → 周送的母亲（1 小时）。"]
    gift.refresh_from_db()
    assert gift.status == Gift.Status.POSTED


def test_it_rejects_a_gift_only_with_a_reason(client, staff_a, street_a, district):
    gift = pending_gift(street_a, district, "吴送")
    client.force_login(staff_a)
    reject = url("ledger_gift_reject", gift)
    assert client.post(reject, {"reason": ""}).status_code == 200
    gift.refresh_from_db()
    assert gift.status == Gift.Status.PENDING

    response = client.post(reject, {"reason": "关系待核实"}, follow=True)

    assert said(response) == ["已驳回 1 笔转赠：吴送 → 吴送的母亲（1 小时）。理由：关系待核实"]
    gift.refresh_from_db()
    assert (gift.status, gift.review_reason) == (Gift.Status.REJECTED, "关系待核实")


def test_it_refuses_another_streets_gift(client, staff_a, street_b, district):
    gift = pending_gift(street_b, district, "郑送")
    client.force_login(staff_a)
    assert client.post(url("ledger_gift_approve", gift)).status_code == 404
    assert client.post(url("ledger_gift_reject", gift), {"reason": "x"}).status_code == 404
    gift.refresh_from_db()
    assert gift.status == Gift.Status.PENDING


# --- relatives and service bases ---------------------------------------------------------------


def test_it_confirms_a_relative_link_from_its_row(client, staff_a, street_a):
    from tests.factories import MemberFactory, RelativeFactory

    member = MemberFactory(street=street_a, user__full_name="孙家属")
    elder = MemberFactory(elder=True, street=street_a, user__full_name="孙阿婆").user
    link = RelativeFactory(member=member, relative=elder, relation="parent", status="pending")
    client.force_login(staff_a)
    page = client.get(reverse("admin:accounts_relative_changelist") + "?status__exact=pending")
    (approve,) = row_buttons(page)["approve"]

    response = client.post(approve, follow=True)

    assert said(response) == ["已确认 1 条亲属关系：孙家属 · 孙阿婆。"]
    link.refresh_from_db()
    assert link.status == "confirmed"


def test_each_level_decides_its_own_base_applications(client, staff_a, head_office, street_a):
    base = ServiceBaseFactory(name="新基地", street=street_a, status=ServiceBase.Status.APPLIED)
    client.force_login(head_office)  # not the head office's to decide yet
    assert (
        "decide-approve"
        not in client.get(url("branches_servicebase_change", base)).content.decode()
    )
    assert client.post(url("branches_servicebase_approve", base)).status_code == 403

    client.force_login(staff_a)
    response = client.post(url("branches_servicebase_approve", base), follow=True)
    assert said(response) == ["已批准 1 个服务基地申请：新基地。"]
    base.refresh_from_db()
    assert base.status == ServiceBase.Status.STREET_APPROVED
    assert client.post(url("branches_servicebase_approve", base)).status_code == 403

    client.force_login(head_office)
    reject = url("branches_servicebase_reject", base)
    client.post(reject, {"reason": ""})
    base.refresh_from_db()
    assert base.status == ServiceBase.Status.STREET_APPROVED
    response = client.post(reject, {"reason": "资质不全"}, follow=True)
    assert said(response) == ["已驳回 1 个服务基地申请：新基地。理由：资质不全"]
    base.refresh_from_db()
    assert (base.status, base.status_reason) == (ServiceBase.Status.REJECTED, "资质不全")


def test_a_rows_button_posts_the_lists_own_csrf_token(staff_a, base_a, district):
    need = base_need(base_a, "带令牌", district)
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_a)
    page = client.get(STREET_QUEUE)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    (approve,) = row_buttons(page)["approve"]

    response = client.post(approve, {"csrfmiddlewaretoken": token.group(1)}, follow=True)

    assert said(response) == ["已批准 1 条需求：带令牌。"]
    need.refresh_from_db()
    assert need.status == "street_approved"


def test_it_goes_back_only_to_a_page_of_this_site(client, staff_a, base_a, district):
    need = base_need(base_a, "不外跳", district)
    client.force_login(staff_a)
    approve = url("orders_streetqueuerequest_approve", need)
    response = client.post(f"{approve}?next=https://evil.example/")
    assert response.status_code == 302
    assert response["Location"] == STREET_QUEUE
