"""Two of a street's staff nominate the same volunteer at once: one nomination, one clear
refusal; a round closed meanwhile takes no nomination."""

from __future__ import annotations

import pytest

from honour import awards
from honour.awards import AwardError
from honour.models import Nomination
from tests.factories import StaffRoleFactory, UserFactory
from tests.honour.test_awards import open_round, star_of
from tests.ledger.test_concurrency import run_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def beijing(policy_name):
    policy_name("beijing-2022")


def test_two_staff_nominating_at_once_make_one_nomination(district, street_a, head_office, staff_a):
    colleague = UserFactory(full_name="天山另一员工")
    StaffRoleFactory(user=colleague, role="street_staff", branch=street_a)
    award_round = open_round(district, head_office)
    star = star_of(street_a, "同时提名")

    def nominate(i):
        return awards.nominate(
            award_round=award_round,
            actor=(staff_a, colleague)[i % 2],
            reason=f"理由{i}",
            member=star,
        )

    outcomes = run_threads(4, nominate)
    made = [o for o in outcomes if isinstance(o, Nomination)]
    refused = [o for o in outcomes if isinstance(o, AwardError)]
    assert len(made) == 1 and len(refused) == 3, outcomes
    assert {e.message for e in refused} == {"此轮已提名。"}
    assert Nomination.objects.count() == 1


def test_a_nomination_racing_the_close_of_its_round_is_refused_or_counted(
    district, street_a, head_office, staff_a
):
    award_round = open_round(district, head_office)
    star = star_of(street_a, "最后一刻")

    def work(i):
        if i == 0:
            return awards.close_round(award_round=award_round, actor=head_office, reason="截止")
        return awards.nominate(award_round=award_round, actor=staff_a, reason="赶上", member=star)

    closed, nominated = run_threads(2, work)
    award_round.refresh_from_db()
    if isinstance(closed, AwardError):  # the nomination came first: it waits for a decision
        assert closed.code == "undecided" and isinstance(nominated, Nomination)
        assert award_round.status == "nominating"
    else:  # the round closed first: nothing slipped into it
        assert isinstance(nominated, AwardError) and nominated.code == "closed"
        assert award_round.status == "decided" and not Nomination.objects.exists()
