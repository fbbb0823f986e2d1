"""Awards in Django admin: head office opens a round, each street sees and nominates only its
own candidates on the round's candidates page, head office awards or not with a reason and
closes the round; every step is in history."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from honour import awards
from honour.models import AwardRound, Certificate, Nomination
from tests.honour.test_awards import LAST_YEAR, nominate, open_round, star_of
from tests.hostile import message_texts
from tests.test_deploy import inline_code

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

ROUNDS = reverse("admin:honour_awardround_changelist")
NOMINATIONS = reverse("admin:honour_nomination_changelist")


@pytest.fixture(autouse=True)
def beijing(policy_name):
    policy_name("beijing-2022")


def candidates_url(award_round) -> str:
    return reverse("admin:honour_awardround_candidates", args=[award_round.pk])


@pytest.fixture
def award_round(district, head_office):
    return open_round(district, head_office, hours=100)


@pytest.fixture
def tianshan_star(street_a):
    return star_of(street_a, "天山明星")


@pytest.fixture
def hongqiao_star(street_b):
    return star_of(street_b, "虹桥明星")


def test_head_office_opens_a_round_in_admin(client, district, head_office):
    client.force_login(head_office)
    response = client.post(
        reverse("admin:honour_awardround_add"),
        {
            "district": district.pk,
            "year": LAST_YEAR,
            "kind": "star_volunteer",
            "min_hours": "100",
            "min_rating": "4.5",
        },
    )
    assert response.status_code == 302
    award_round = AwardRound.objects.get()
    assert (award_round.year, award_round.min_hours, award_round.created_by) == (
        LAST_YEAR,
        100,
        head_office,
    )
    assert award_round.history.get().history_user == head_office


def test_changing_the_criteria_asks_why(client, award_round, head_office):
    client.force_login(head_office)
    url = reverse("admin:honour_awardround_change", args=[award_round.pk])
    data = {"min_hours": "80", "min_rating": "4"}
    page = client.post(url, {**data, "reason": ""})
    assert page.status_code == 200
    assert "请说明修改评选条件的理由。" in page.content.decode()
    assert client.post(url, {**data, "reason": "放宽条件"}).status_code == 302
    award_round.refresh_from_db()
    assert award_round.min_hours == 80
    assert award_round.history.first().history_change_reason == "放宽条件"


def test_street_staff_cannot_open_a_round(client, district, staff_a):
    client.force_login(staff_a)
    assert client.get(reverse("admin:honour_awardround_add")).status_code == 403


def test_each_street_sees_its_own_candidates(
    client, award_round, tianshan_star, hongqiao_star, staff_a, staff_b
):
    client.force_login(staff_a)
    page = client.get(candidates_url(award_round)).content.decode()
    assert "天山明星" in page and "虹桥明星" not in page
    assert "120 小时" in page
    assert inline_code(page) == []
    client.force_login(staff_b)
    page = client.get(candidates_url(award_round)).content.decode()
    assert "虹桥明星" in page and "天山明星" not in page


def test_the_street_nominates_on_the_candidates_page(client, award_round, tianshan_star, staff_a):
    client.force_login(staff_a)
    url = candidates_url(award_round)
    response = client.post(url, {"member": tianshan_star.pk, "reason": "每周探访独居老人"})
    assert response.status_code == 302
    assert message_texts(response) == ["已提名：天山明星"]
    nomination = Nomination.objects.get()
    assert (nomination.member, nomination.nominated_by, nomination.reason) == (
        tianshan_star,
        staff_a,
        "每周探访独居老人",
    )
    again = client.post(url, {"member": tianshan_star.pk, "reason": "再提"})
    assert again.status_code == 200
    assert "此轮已提名。" in again.content.decode()
    assert Nomination.objects.count() == 1


def test_hongqiao_staff_cannot_nominate_a_tianshan_member(
    client, award_round, tianshan_star, staff_b
):
    client.force_login(staff_b)
    page = client.post(candidates_url(award_round), {"member": tianshan_star.pk, "reason": "好"})
    assert page.status_code == 200
    assert "只有本街道分行的工作人员可以提名。" in page.content.decode()
    assert not Nomination.objects.exists()


def test_hongqiao_staff_cannot_see_tianshans_nominations(
    client, award_round, tianshan_star, hongqiao_star, staff_a, staff_b
):
    theirs = nominate(award_round, staff_a, tianshan_star, reason="天山的理由")
    nominate(award_round, staff_b, hongqiao_star, reason="虹桥的理由")
    client.force_login(staff_b)
    listing = client.get(NOMINATIONS).content.decode()
    assert "虹桥明星" in listing and "天山明星" not in listing
    candidates = client.get(candidates_url(award_round)).content.decode()
    assert "虹桥的理由" in candidates and "天山的理由" not in candidates
    change = reverse("admin:honour_nomination_change", args=[theirs.pk])
    assert client.get(change).status_code == 404
    history = reverse("admin:honour_nomination_history", args=[theirs.pk])
    assert client.get(history).status_code == 404


def test_head_office_awards_with_a_reason(client, award_round, tianshan_star, staff_a, head_office):
    nomination = nominate(award_round, staff_a, tianshan_star)
    client.force_login(head_office)
    response = client.post(
        NOMINATIONS,
        {"action": "award", "_selected_action": nomination.pk, "apply": "1", "reason": "事迹突出"},
    )
    assert response.status_code == 302
    assert message_texts(response) == ["已表彰1个提名，证书已生成。"]
    nomination.refresh_from_db()
    assert (nomination.status, nomination.decided_by) == ("awarded", head_office)
    assert Certificate.objects.filter(nomination=nomination).count() == 1
    history = client.get(reverse("admin:honour_nomination_history", args=[nomination.pk]))
    assert history.status_code == 200
    page = history.content.decode()
    assert "事迹突出" in page and "长宁总行员工" in page
    assert inline_code(page) == []


def test_a_reason_is_asked_before_any_decision(
    client, award_round, tianshan_star, staff_a, head_office
):
    nomination = nominate(award_round, staff_a, tianshan_star)
    client.force_login(head_office)
    asked = client.post(NOMINATIONS, {"action": "not_award", "_selected_action": nomination.pk})
    assert asked.status_code == 200
    assert "理由" in asked.content.decode()
    nomination.refresh_from_db()
    assert nomination.status == "nominated"


def test_street_staff_cannot_decide(client, award_round, tianshan_star, staff_a):
    nomination = nominate(award_round, staff_a, tianshan_star)
    client.force_login(staff_a)
    listing = client.get(NOMINATIONS)
    form = listing.context["action_form"]  # None: no action at all
    actions = [name for name, _label in form.fields["action"].choices] if form else []
    assert "award" not in actions and "not_award" not in actions
    client.post(
        NOMINATIONS,
        {"action": "award", "_selected_action": nomination.pk, "apply": "1", "reason": "自己批"},
    )
    nomination.refresh_from_db()
    assert nomination.status == "nominated"


def test_head_office_closes_the_round(client, award_round, tianshan_star, staff_a, head_office):
    nomination = nominate(award_round, staff_a, tianshan_star)
    client.force_login(head_office)
    data = {"action": "close_rounds", "_selected_action": award_round.pk, "apply": "1"}
    refused = client.post(ROUNDS, {**data, "reason": "评选结束"})
    assert message_texts(refused) == [f"{award_round}: 还有1个提名等待决定。"]
    awards.decide_nomination(nomination=nomination, award=False, actor=head_office, reason="名额")
    done = client.post(ROUNDS, {**data, "reason": "评选结束"})
    assert message_texts(done) == ["已结束1轮评选：获奖者已登上光荣榜。"]
    award_round.refresh_from_db()
    assert award_round.status == "decided"
    # A closed round is history: no form to change it, no nominating.
    client.force_login(staff_a)
    page = client.get(candidates_url(award_round)).content.decode()
    assert "<textarea" not in page


def test_an_official_reads_without_acting(client, award_round, tianshan_star, staff_a, official):
    nominate(award_round, staff_a, tianshan_star)
    client.force_login(official)
    assert client.get(NOMINATIONS).status_code == 200
    page = client.get(candidates_url(award_round))
    assert page.status_code == 200 and "<textarea" not in page.content.decode()
    refused = client.post(candidates_url(award_round), {"member": tianshan_star.pk, "reason": "x"})
    assert refused.status_code == 403


def test_the_candidates_page_costs_the_same_for_many_candidates(
    client, award_round, street_a, staff_a
):
    client.force_login(staff_a)
    star_of(street_a, "甲")
    client.get(candidates_url(award_round))  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        client.get(candidates_url(award_round))
    for n in range(6):
        nominate(award_round, staff_a, star_of(street_a, f"志愿者{n}"))
    with CaptureQueriesContext(connection) as many:
        page = client.get(candidates_url(award_round))
    assert page.content.decode().count("data-member=") == 7
    assert len(many) == len(few)


def test_a_base_is_nominated_with_its_project(
    client, district, head_office, staff_a, base_a, base_b
):
    projects = open_round(district, head_office, kind="project")
    client.force_login(staff_a)
    page = client.get(candidates_url(projects))
    choices = [str(base) for base in page.context["form"].fields["base"].queryset]
    assert choices == ["天山养老院"]  # 虹桥's base is not theirs to nominate
    response = client.post(
        candidates_url(projects),
        {"base": base_a.pk, "project_name": "银龄助餐", "reason": "三年不间断"},
    )
    assert response.status_code == 302
    nomination = Nomination.objects.get()
    assert (nomination.base, nomination.project_name) == (base_a, "银龄助餐")
    refused = client.post(
        candidates_url(projects), {"base": base_b.pk, "project_name": "x", "reason": "x"}
    )
    assert refused.status_code == 200
    assert Nomination.objects.count() == 1


def test_the_award_pages_open_for_each_role(
    client, award_round, tianshan_star, staff_a, head_office, official
):
    nomination = nominate(award_round, staff_a, tianshan_star)
    pages = {
        head_office: [
            ROUNDS,
            reverse("admin:honour_awardround_add"),
            reverse("admin:honour_awardround_change", args=[award_round.pk]),
            reverse("admin:honour_awardround_history", args=[award_round.pk]),
            NOMINATIONS,
            reverse("admin:honour_nomination_change", args=[nomination.pk]),
        ],
        staff_a: [ROUNDS, NOMINATIONS, candidates_url(award_round)],
        official: [ROUNDS, NOMINATIONS],
    }
    for user, urls in pages.items():
        client.force_login(user)
        for url in urls:
            page = client.get(url)
            assert page.status_code == 200, (user, url)
            assert inline_code(page.content.decode()) == [], url
    client.force_login(staff_a)
    assert client.get(reverse("admin:honour_awardround_add")).status_code == 403
