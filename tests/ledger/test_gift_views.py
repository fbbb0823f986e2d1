"""The member's gift page (``/coins/gift/``) and the street's gift queue in admin."""

import uuid

import pytest
from django.urls import reverse
from django.utils.translation import gettext

from accounts.forms import RelativeForm
from ledger import gifts, selectors
from ledger.models import Gift, Transfer
from ledger.services import hours
from tests.factories import MemberFactory, RelativeFactory
from tests.ledger.test_gifts import HOUR, earn, link

URL = "/coins/gift/"


@pytest.fixture
def parent(volunteer, elder):
    return link(volunteer, elder, "parent")


@pytest.fixture
def earned(volunteer, pool):
    account = selectors.member_account(volunteer)
    earn(pool, account, 5 * HOUR)
    return account


def post(client, relative, hours_given, gift_id=None):
    return client.post(
        URL,
        {
            "gift_id": str(gift_id or uuid.uuid4()),
            "relative": relative.pk,
            "hours": hours_given,
        },
    )


@pytest.mark.django_db
def test_it_is_at_the_agreed_address_and_wants_a_login(client):
    assert reverse("ledger:gift") == URL
    response = client.get(URL)
    assert response.status_code == 302 and "/auth/" in response["Location"]


@pytest.mark.django_db
def test_it_shows_relatives_masked_and_what_may_be_given(
    client, volunteer, elder, earned, parent, pool, django_assert_max_num_queries
):
    from tests.ledger.test_gifts import fund

    fund(pool, earned, 10 * HOUR)  # granted: for the volunteer's own care, not giftable
    client.force_login(volunteer)
    with django_assert_max_num_queries(12):
        response = client.get(URL)
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["giftable"] == 5 * HOUR
    assert hours(5 * HOUR) in html
    assert "张**" in html and "张阿婆" not in html
    assert elder.phone.as_national not in html and str(elder.phone) not in html
    assert elder.member.id_number_masked not in html
    assert f'value="{parent.pk}"' in html and 'name="gift_id"' in html
    assert "托管" not in html and "预留" not in html


@pytest.mark.django_db
def test_it_gives_and_redirects_with_a_message(client, volunteer, elder, earned, parent):
    client.force_login(volunteer)
    response = post(client, parent, "2")
    assert response.status_code == 302 and response["Location"] == URL

    gift = Gift.objects.get()
    assert (gift.giver, gift.receiver, gift.amount, gift.status) == (
        volunteer,
        elder,
        2 * HOUR,
        Gift.Status.PENDING,
    )
    page = client.get(URL)
    html = page.content.decode()
    assert [m.level_tag for m in page.context["messages"]] == ["success"]
    assert 'data-status="pending"' in html and hours(2 * HOUR) in html
    assert page.context["giftable"] == 3 * HOUR


@pytest.mark.django_db
def test_it_shows_decided_gifts_in_plain_words(client, volunteer, earned, parent, staff_a):
    client.force_login(volunteer)
    post(client, parent, "1")
    post(client, parent, "2")
    first, second = Gift.objects.order_by("amount")
    gifts.approve_gift(gift=first, actor=staff_a)
    gifts.reject_gift(gift=second, actor=staff_a, reason="请先补充关系证明")
    html = client.get(URL).content.decode()
    assert 'data-status="posted"' in html and 'data-status="rejected"' in html
    assert "请先补充关系证明" in html


@pytest.mark.django_db
def test_a_double_post_with_the_same_id_gives_once(client, volunteer, earned, parent):
    client.force_login(volunteer)
    gift_id = uuid.uuid4()
    assert post(client, parent, "2", gift_id).status_code == 302
    assert post(client, parent, "2", gift_id).status_code == 302
    assert Gift.objects.count() == 1
    assert Transfer.objects.filter(code="gift").count() == 1
    assert selectors.member_account(volunteer).available == 3 * HOUR


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1.5", "whole_units"),
        ("0.5", "whole_units"),
        ("abc", "invalid"),
        ("0", "not_positive"),
        ("-2", "not_positive"),
        ("", "required"),
    ],
)
def test_it_refuses_hours_that_are_not_whole_and_positive(
    client, volunteer, earned, parent, value, code
):
    client.force_login(volunteer)
    response = post(client, parent, value)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.has_error("hours", code=code)
    if code in ("whole_units", "invalid"):
        assert form.errors["hours"] == [gettext("Please give a whole number of hours.")]
    assert Gift.objects.count() == 0


@pytest.mark.django_db
def test_service_refusals_show_on_the_form(client, volunteer, earned, parent):
    client.force_login(volunteer)
    response = post(client, parent, "6")  # 5 hours earned
    assert response.status_code == 200
    errors = response.context["form"].errors["hours"]
    assert len(errors) == 1 and hours(5 * HOUR) in errors[0]
    assert Gift.objects.count() == 0


@pytest.mark.django_db
def test_another_member_cannot_use_someone_elses_relative(client, volunteer2, pool, parent):
    earn(pool, selectors.member_account(volunteer2), 5 * HOUR)
    client.force_login(volunteer2)
    response = post(client, parent, "1")
    assert response.status_code == 200
    assert response.context["form"].has_error("relative", code="invalid_choice")
    assert Gift.objects.count() == 0


@pytest.mark.django_db
def test_relatives_the_scheme_does_not_allow_are_not_offered(
    client, policy_name, volunteer, elder, earned
):
    policy_name("beijing-2022")
    link(volunteer, elder, "spouse")
    client.force_login(volunteer)
    response = client.get(URL)
    assert response.context["has_relatives"] is False
    assert reverse("accounts:relatives") in response.content.decode()


@pytest.mark.django_db
def test_it_explains_how_to_declare_a_relative(client, volunteer, earned):
    client.force_login(volunteer)
    response = client.get(URL)
    assert response.status_code == 200 and response.context["has_relatives"] is False
    assert reverse("accounts:relatives") in response.content.decode()
    assert 'name="hours"' not in response.content.decode()


@pytest.mark.django_db
def test_a_user_who_is_not_a_verified_member_cannot_give(client, outsider, volunteer, parent):
    client.force_login(outsider)
    assert client.get(URL).context["verified"] is False
    response = post(client, parent, "1")
    assert response.status_code == 200 and Gift.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("preset", "offered"),
    [("changning-2019", False), ("beijing-2022", False), ("shanghai-2026", True)],
)
def test_friends_are_offered_only_where_they_may_receive_gifts(policy_name, preset, offered):
    policy_name(preset)
    values = [value for value, _label in RelativeForm().fields["relation"].choices]
    assert ("friend" in values) is offered
    assert {"parent", "grandparent", "child", "spouse"} <= set(values)


# --- admin: the street's queue ------------------------------------------------------------------


@pytest.fixture
def gift_a(volunteer, earned, parent):
    return gifts.give_coins(
        gift_id=uuid.uuid4(), giver=volunteer, relative=parent, amount=HOUR, actor=volunteer
    )


@pytest.fixture
def gift_b(street_b, pool):
    giver = MemberFactory(volunteer=True, street=street_b, user__full_name="赵志愿").user
    receiver = MemberFactory(elder=True, street=street_b, user__full_name="钱阿公").user
    earn(pool, selectors.member_account(giver), 2 * HOUR)
    relative = RelativeFactory(member=giver.member, relative=receiver, relation="parent")
    return gifts.give_coins(
        gift_id=uuid.uuid4(), giver=giver, relative=relative, amount=HOUR, actor=giver
    )


CHANGELIST = "admin:ledger_gift_changelist"


@pytest.mark.django_db
def test_street_staff_see_their_streets_gifts_only(
    client, staff_a, gift_a, gift_b, django_assert_max_num_queries
):
    client.force_login(staff_a)
    with django_assert_max_num_queries(15):
        response = client.get(reverse(CHANGELIST), {"status__exact": "pending"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "王志愿" in html and "赵志愿" not in html
    assert list(response.context["cl"].result_list) == [gift_a]
    other = reverse("admin:ledger_gift_change", args=[gift_b.pk])
    assert client.get(other).status_code == 404
    assert client.get(reverse("admin:ledger_gift_history", args=[gift_b.pk])).status_code == 404
    assert client.get(reverse("admin:ledger_gift_add")).status_code == 403
    own = client.get(reverse("admin:ledger_gift_change", args=[gift_a.pk]))
    assert own.status_code == 200 and 'name="status"' not in own.content.decode()  # read-only
    assert client.get(reverse("admin:ledger_gift_history", args=[gift_a.pk])).status_code == 200


@pytest.mark.django_db
def test_street_staff_approve_from_the_queue(client, staff_a, gift_a, elder):
    client.force_login(staff_a)
    response = client.post(
        reverse(CHANGELIST), {"action": "approve_selected", "_selected_action": [gift_a.pk]}
    )
    assert response.status_code == 302
    gift_a.refresh_from_db()
    assert gift_a.status == Gift.Status.POSTED and gift_a.reviewed_by == staff_a
    assert selectors.member_account(elder).balance == HOUR


@pytest.mark.django_db
def test_street_staff_reject_with_a_reason(client, staff_a, gift_a, volunteer):
    client.force_login(staff_a)
    url = reverse(CHANGELIST)
    ask = client.post(url, {"action": "reject_selected", "_selected_action": [gift_a.pk]})
    assert ask.status_code == 200 and 'name="reason"' in ask.content.decode()
    gift_a.refresh_from_db()
    assert gift_a.status == Gift.Status.PENDING

    done = client.post(
        url,
        {
            "action": "reject_selected",
            "_selected_action": [gift_a.pk],
            "apply": "1",
            "reason": "关系未核实",
        },
    )
    assert done.status_code == 302
    gift_a.refresh_from_db()
    assert gift_a.status == Gift.Status.REJECTED and gift_a.review_reason == "关系未核实"
    assert selectors.member_account(volunteer).available == 5 * HOUR


@pytest.mark.django_db
def test_another_streets_staff_cannot_approve(client, staff_b, gift_a):
    client.force_login(staff_b)
    html = client.get(reverse(CHANGELIST)).content.decode()
    assert "王志愿" not in html
    client.post(
        reverse(CHANGELIST), {"action": "approve_selected", "_selected_action": [gift_a.pk]}
    )
    gift_a.refresh_from_db()
    assert gift_a.status == Gift.Status.PENDING


@pytest.mark.django_db
def test_members_and_advisors_have_no_gift_queue(client, advisor_a, volunteer, gift_a):
    for user in (advisor_a, volunteer):
        client.force_login(user)
        response = client.get(reverse(CHANGELIST))
        assert response.status_code in (302, 403)
