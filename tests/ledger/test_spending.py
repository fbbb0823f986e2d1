"""Spending eligibility at every boundary of each preset (SPEC.md "Time coins")."""

import uuid
from datetime import date, datetime, time, timedelta

import pytest
from django.utils import timezone

from ledger import selectors, services, spending
from tests.factories import MemberFactory
from tests.ledger.conftest import fund

pytestmark = pytest.mark.django_db

TODAY = date(2026, 12, 2)


def served(pool, member, minutes):
    """Posted service credits, as a completed service leaves them."""
    services.transfer(
        transfer_id=uuid.uuid4(),
        debit=pool,
        credit=selectors.member_account(member.user),
        amount=minutes,
        code="service",
        actor=None,
    )


def verified_on(member, day):
    member.reviewed_at = timezone.make_aware(datetime.combine(day, time(9)))
    member.save(update_fields=["reviewed_at"])


def born(years_before: int, *, hardship=False):
    birth = TODAY.replace(year=TODAY.year - years_before)
    return MemberFactory(volunteer=True, birth_date=birth, in_hardship=hardship)


@pytest.fixture
def young(street_a):
    member = MemberFactory(volunteer=True, street=street_a)
    verified_on(member, TODAY - timedelta(days=30))
    return member


def test_it_opens_at_100_hours_served_not_99_5(young, pool, policy_name):
    policy_name("changning-2019")
    served(pool, young, 99 * 60 + 30)
    result = spending.spending_eligibility(young, on=TODAY)
    assert not result.may_spend
    assert result.minutes_missing == 30
    assert result.unlocks_on == TODAY - timedelta(days=30) + timedelta(days=365)
    served(pool, young, 30)
    assert spending.spending_eligibility(young, on=TODAY).may_spend


def test_grants_and_gifts_do_not_count_as_hours_served(young, pool, policy_name):
    policy_name("changning-2019")
    account = selectors.member_account(young.user)
    fund(pool, account, 200 * 60)
    assert spending.minutes_served(young.user) == 0
    assert not spending.spending_eligibility(young, on=TODAY).may_spend


def test_a_reversed_service_credit_is_no_longer_hours_served(young, pool):
    from tests.factories import UserFactory

    head_office = UserFactory(is_superuser=True)
    served(pool, young, 100 * 60)
    wrong = services.transfer(
        transfer_id=uuid.uuid4(),
        debit=pool,
        credit=selectors.member_account(young.user),
        amount=30,
        code="service",
        actor=None,
    )
    assert spending.minutes_served(young.user) == 100 * 60 + 30
    services.reverse(
        transfer_id=uuid.uuid4(), original_id=wrong.pk, actor=head_office, reason="重复录入"
    )
    assert spending.minutes_served(young.user) == 100 * 60


def test_it_opens_one_year_after_verification_day_365_not_364(young, policy_name):
    policy_name("changning-2019")
    verified_on(young, TODAY - timedelta(days=364))
    assert not spending.spending_eligibility(young, on=TODAY).may_spend
    verified_on(young, TODAY - timedelta(days=365))
    assert spending.spending_eligibility(young, on=TODAY).may_spend


def test_the_message_names_the_hours_and_the_date(young, pool, policy_name, settings):
    from django.utils import translation

    policy_name("changning-2019")
    served(pool, young, 63 * 60)
    verified_on(young, date(2026, 3, 1))
    with translation.override("zh-hans"):
        message = spending.spending_eligibility(young, on=TODAY).message
    assert "37" in message
    assert "2027年3月1日" in message


@pytest.mark.parametrize(("years", "may"), [(59, False), (60, True)])
def test_beijing_opens_at_60(years, may, policy_name):
    policy_name("beijing-2022")
    member = born(years)
    assert spending.spending_eligibility(member, on=TODAY).may_spend is may


def test_beijing_opens_on_the_60th_birthday_itself(policy_name):
    policy_name("beijing-2022")
    member = born(60)
    result = spending.spending_eligibility(member, on=TODAY - timedelta(days=1))
    assert not result.may_spend
    assert result.unlocks_on == TODAY


@pytest.mark.parametrize(
    ("years", "hardship", "may"),
    [(64, False, False), (65, True, True), (65, False, True), (59, True, False), (60, True, True)],
)
def test_shanghai_opens_at_65_or_60_in_hardship(years, hardship, may, policy_name):
    policy_name("shanghai-2026")
    member = born(years, hardship=hardship)
    assert spending.spending_eligibility(member, on=TODAY).may_spend is may


def test_shanghai_hours_served_do_not_unlock(pool, policy_name):
    policy_name("shanghai-2026")
    member = born(40)
    served(pool, member, 500 * 60)
    assert not spending.spending_eligibility(member, on=TODAY).may_spend


def test_an_unverified_or_suspended_member_may_not_spend(young, policy_name):
    policy_name("beijing-2022")
    young.status = "suspended"
    assert not spending.spending_eligibility(young, on=TODAY).may_spend
    assert spending.care_spendable(young, None) == 0


def test_granted_coins_are_spendable_at_once_and_not_giftable(elder, pool, policy_name):
    policy_name("changning-2019")
    member = elder.member
    account = selectors.member_account(elder)
    fund(pool, account, 20 * 60)
    assert not spending.spending_eligibility(member).may_spend
    account.refresh_from_db()
    assert spending.care_spendable(member, account) == 20 * 60
    assert spending.giftable(account) == 0


def test_earned_coins_are_giftable_granted_ones_are_not(young, pool, policy_name):
    policy_name("changning-2019")
    account = selectors.member_account(young.user)
    fund(pool, account, 5 * 60)
    served(pool, young, 8 * 60)
    account.refresh_from_db()
    assert spending.giftable(account) == 8 * 60
    # Not eligible yet: only the granted coins may pay for their own care.
    assert spending.care_spendable(young, account) == 5 * 60


def test_care_spending_uses_granted_coins_first(elder, pool, escrow, policy_name):
    policy_name("changning-2019")
    account = selectors.member_account(elder)
    fund(pool, account, 10 * 60)
    hold = services.reserve(
        transfer_id=uuid.uuid4(),
        debit=account,
        credit=escrow,
        amount=4 * 60,
        code="hold",
        actor=None,
    )
    assert spending.care_only_minutes(account) == 6 * 60
    services.void(transfer_id=uuid.uuid4(), pending_id=hold.pk, actor=None)
    assert spending.care_only_minutes(account) == 10 * 60


def test_me_says_what_is_missing_in_plain_chinese(client, young, pool, policy_name):
    policy_name("changning-2019")
    served(pool, young, 63 * 60)
    client.force_login(young.user)
    response = client.get("/me/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    status = response.content.decode()
    assert 'data-testid="spend-status"' in status
    assert "37" in status
    served(pool, young, 37 * 60)
    response = client.get("/me/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert spending.spending_eligibility(young).may_spend
    assert "可以使用时间币" in response.content.decode()
