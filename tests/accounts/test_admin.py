"""The review queue in Django admin, scoped per street (后台注册审核列表)."""

import pytest
from django.urls import reverse

from accounts.models import Member, Relative
from tests.factories import MemberFactory, RelativeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def hongqiao_member(street_b):
    return MemberFactory(street=street_b, status="applied", user__full_name="虹桥居民")


@pytest.fixture
def tianshan_member(street_a):
    return MemberFactory(street=street_a, status="applied", user__full_name="天山居民")


def test_staff_of_tianshan_get_404_on_a_hongqiao_members_pages(client, staff_a, hongqiao_member):
    client.force_login(staff_a)
    pk = hongqiao_member.pk
    for name in ("change", "history", "delete"):
        url = reverse(f"admin:accounts_member_{name}", args=[pk])
        assert client.get(url).status_code == 404, name
    assert client.post(reverse("admin:accounts_member_change", args=[pk]), {}).status_code == 404
    user_url = reverse("admin:accounts_user_change", args=[hongqiao_member.user.pk])
    assert client.get(user_url).status_code == 404


def test_staff_of_tianshan_do_not_see_hongqiao_in_lists_or_search(
    client, staff_a, hongqiao_member, tianshan_member
):
    client.force_login(staff_a)
    url = reverse("admin:accounts_member_changelist")
    body = client.get(url).content.decode()
    assert "天山居民" in body and "虹桥居民" not in body
    assert client.get(url, {"q": "虹桥居民"}).context["cl"].result_count == 0
    phone = str(hongqiao_member.user.phone)
    assert client.get(url, {"q": phone}).context["cl"].result_count == 0
    assert client.get(url, {"q": "天山居民"}).context["cl"].result_count == 1
    users = client.get(reverse("admin:accounts_user_changelist")).content.decode()
    assert "天山居民" in users and "虹桥居民" not in users


def test_head_office_sees_every_street_of_its_district(
    client, head_office, hongqiao_member, tianshan_member
):
    client.force_login(head_office)
    body = client.get(reverse("admin:accounts_member_changelist")).content.decode()
    assert "天山居民" in body and "虹桥居民" in body


def test_it_searches_by_full_id_number_through_the_keyed_hash(client, staff_a, street_a):
    from accounts import idnumbers
    from tests.factories import years_ago

    number = idnumbers.make_id_number(birth_date=years_ago(66), sex="F", serial=42)
    MemberFactory(
        street=street_a,
        user__full_name="身份证查找",
        id_number_encrypted=idnumbers.encrypt(number),
        id_number_hash=idnumbers.keyed_hash(number),
        id_number_masked=idnumbers.mask(number),
    )
    client.force_login(staff_a)
    url = reverse("admin:accounts_member_changelist")
    found = client.get(url, {"q": number}).context["cl"].result_list
    assert [m.user.full_name for m in found] == ["身份证查找"]
    body = client.get(url).content.decode()
    assert number not in body and idnumbers.mask(number) in body


def test_the_member_list_costs_a_fixed_number_of_queries(
    client, staff_a, street_a, django_assert_max_num_queries
):
    client.force_login(staff_a)
    url = reverse("admin:accounts_member_changelist")
    MemberFactory.create_batch(3, street=street_a)
    with django_assert_max_num_queries(20) as few:
        client.get(url)
    MemberFactory.create_batch(20, street=street_a)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(url).status_code == 200


def test_staff_approve_and_reject_with_a_reason_in_admin(client, staff_a, tianshan_member):
    client.force_login(staff_a)
    url = reverse("admin:accounts_member_changelist")
    # Reject: the action first asks for a reason.
    response = client.post(url, {"action": "reject", "_selected_action": [tianshan_member.pk]})
    assert response.status_code == 200 and "reason" in response.content.decode()
    client.post(
        url,
        {
            "action": "reject",
            "_selected_action": [tianshan_member.pk],
            "apply": "1",
            "reason": "身份证照片模糊",
        },
    )
    tianshan_member.refresh_from_db()
    assert tianshan_member.status == Member.Status.REJECTED
    assert tianshan_member.review_reason == "身份证照片模糊"
    client.post(url, {"action": "approve", "_selected_action": [tianshan_member.pk]})
    tianshan_member.refresh_from_db()
    assert tianshan_member.status == Member.Status.VERIFIED
    assert tianshan_member.reviewed_by == staff_a


def test_an_advisor_may_read_but_not_approve(client, advisor_a, tianshan_member):
    client.force_login(advisor_a)
    url = reverse("admin:accounts_member_changelist")
    assert "天山居民" in client.get(url).content.decode()
    client.post(url, {"action": "approve", "_selected_action": [tianshan_member.pk]})
    tianshan_member.refresh_from_db()
    assert tianshan_member.status == Member.Status.APPLIED


def test_staff_confirm_relatives_of_their_street_only(client, staff_a, street_a, street_b):
    ours = RelativeFactory(member__street=street_a, status="pending")
    theirs = RelativeFactory(member__street=street_b, status="pending")
    client.force_login(staff_a)
    url = reverse("admin:accounts_relative_changelist")
    client.post(url, {"action": "confirm", "_selected_action": [ours.pk, theirs.pk]})
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.status == Relative.Status.CONFIRMED
    assert theirs.status == Relative.Status.PENDING
    assert (
        client.get(reverse("admin:accounts_relative_change", args=[theirs.pk])).status_code == 404
    )


def test_staff_add_training_through_the_inline(client, staff_a, street_a):
    member = MemberFactory(street=street_a)
    client.force_login(staff_a)
    url = reverse("admin:accounts_member_change", args=[member.pk])
    form = {
        "assessment_level": "",
        "emergency_contact_name": "某人",
        "emergency_contact_phone": "",
        "guardian_name": "",
        "guardian_phone": "",
        "trainings-TOTAL_FORMS": "1",
        "trainings-INITIAL_FORMS": "0",
        "trainings-0-course": "岗前培训",
        "trainings-0-completed_on": "2026-01-05",
        "insurances-TOTAL_FORMS": "0",
        "insurances-INITIAL_FORMS": "0",
    }
    response = client.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    training = member.trainings.get()
    assert training.recorded_by == staff_a and training.course == "岗前培训"


def test_the_street_filter_offers_only_the_staff_members_streets(client, staff_a, street_b):
    client.force_login(staff_a)
    body = client.get(reverse("admin:accounts_member_changelist")).content.decode()
    assert f"street__id__exact={street_b.pk}" not in body
    assert "虹桥" not in body


def test_staff_open_their_own_streets_member_pages(client, staff_a, advisor_a, tianshan_member):
    from tests.factories import TrainingFactory

    TrainingFactory(member=tianshan_member)
    for user in (staff_a, advisor_a):
        client.force_login(user)
        for name in ("change", "history"):
            url = reverse(f"admin:accounts_member_{name}", args=[tianshan_member.pk])
            response = client.get(url)
            assert response.status_code == 200, (user, name)
            assert (
                tianshan_member.id_number_masked in response.content.decode() or name == "history"
            )


def _change_form(**extra):
    return {
        "emergency_contact_name": "某人",
        "emergency_contact_phone": "",
        "guardian_name": "",
        "guardian_phone": "",
        "trainings-TOTAL_FORMS": "0",
        "trainings-INITIAL_FORMS": "0",
        "insurances-TOTAL_FORMS": "0",
        "insurances-INITIAL_FORMS": "0",
    } | extra


def test_a_refused_training_row_is_a_form_error_and_nothing_is_saved(client, staff_a, street_a):
    from datetime import timedelta

    from django.utils import timezone

    member = MemberFactory(street=street_a, emergency_contact_name="旧联系人")
    client.force_login(staff_a)
    url = reverse("admin:accounts_member_change", args=[member.pk])
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client.post(
        url,
        _change_form(
            emergency_contact_name="新联系人",
            **{
                "trainings-TOTAL_FORMS": "1",
                "trainings-0-course": "岗前培训",
                "trainings-0-completed_on": tomorrow.isoformat(),
            },
        ),
    )
    assert response.status_code == 200  # the form again, not "changed successfully"
    body = response.content.decode()
    assert "The training date cannot be in the future." in body or "培训日期" in body
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert errors[0]["completed_on"]
    assert not [m for m in response.context["messages"] if m.level_tag == "success"]
    member.refresh_from_db()
    assert not member.trainings.exists()
    assert member.emergency_contact_name == "旧联系人"


def test_a_refused_insurance_row_is_a_form_error(client, staff_a, street_a, monkeypatch):
    from accounts import services

    def refuse(**kwargs):
        raise services.AccountsError("拒绝:测试", field="policy_number")

    monkeypatch.setattr(services, "check_insurance", refuse)
    member = MemberFactory(street=street_a)
    client.force_login(staff_a)
    url = reverse("admin:accounts_member_change", args=[member.pk])
    form = _change_form(
        **{
            "insurances-TOTAL_FORMS": "1",
            "insurances-0-insurer": "某保险",
            "insurances-0-policy_number": "P-1",
            "insurances-0-valid_from": "2026-01-01",
            "insurances-0-valid_until": "2026-12-31",
        }
    )
    response = client.post(url, form)
    assert response.status_code == 200
    assert "拒绝:测试" in response.content.decode()
    assert not member.insurances.exists()


def test_the_assessment_level_is_read_only_on_the_change_form(client, staff_a, street_a):
    member = MemberFactory(elder=True, street=street_a, assessment_level=3)
    client.force_login(staff_a)
    url = reverse("admin:accounts_member_change", args=[member.pk])
    assert 'name="assessment_level"' not in client.get(url).content.decode()
    response = client.post(url, _change_form(assessment_level="0"))
    assert response.status_code == 302
    member.refresh_from_db()
    assert member.assessment_level == 3


def test_the_assessment_level_changes_through_the_service_which_rechecks_eligibility(
    client, staff_a, street_a
):
    from timebank.policy import get_policy

    needed = get_policy().recipient_min_assessment_level
    if needed is None:
        pytest.skip("the active policy sets no minimum assessment level")
    member = MemberFactory(elder=True, street=street_a, assessment_level=needed + 1)
    client.force_login(staff_a)
    url = reverse("admin:accounts_member_changelist")
    action = {"action": "change_assessment_level", "_selected_action": [member.pk], "apply": "1"}
    client.post(url, action | {"level": str(needed - 1)})
    member.refresh_from_db()
    assert member.assessment_level == needed + 1  # a verified elder would lose eligibility
    client.post(url, action | {"level": str(needed)})
    member.refresh_from_db()
    assert member.assessment_level == needed
