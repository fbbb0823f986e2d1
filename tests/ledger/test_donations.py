"""Donations (二次公益): to the care pool, to an elder in need, to a base; allocations."""

import uuid

import pytest

from accounts.models import Member
from ledger import donations, selectors, services
from ledger.models import Account, Transfer
from ledger.services import LedgerError
from tests.factories import BranchFactory, MemberFactory, ServiceBaseFactory

pytestmark = pytest.mark.django_db
HOUR = 60


def earn(district, user, minutes):
    """Coins the member earned by serving (not for their own care: they may be donated)."""
    return services.transfer(
        transfer_id=uuid.uuid4(),
        debit=selectors.grant_pool(district),
        credit=selectors.member_account(user),
        amount=minutes,
        code="service",
        actor=None,
    )


def mark_in_need(user):
    Member.objects.filter(user=user).update(in_hardship=True, hardship_note="独居高龄")


def balance(account):
    return Account.objects.get(pk=account.pk).balance


@pytest.fixture
def beijing(policy_name):
    policy_name("beijing-2022")


@pytest.fixture
def shanghai(policy_name):
    policy_name("shanghai-2026")


@pytest.fixture
def donor(volunteer, district):
    earn(district, volunteer, 5 * HOUR)
    return volunteer


@pytest.fixture
def needy(elder):
    mark_in_need(elder)
    return elder


def donate(donor, *, target="pool", amount=HOUR, donation_id=None, **kwargs):
    return donations.donate(
        donation_id=donation_id or uuid.uuid4(),
        donor=donor,
        target=target,
        amount=amount,
        actor=kwargs.pop("actor", donor),
        **kwargs,
    )


def test_it_donates_to_the_districts_care_pool(beijing, donor, district):
    t = donate(donor, amount=2 * HOUR)
    pool = selectors.donation_pool(district)
    assert (t.code, t.kind, t.amount) == ("donation", "single", 2 * HOUR)
    assert t.credit_account_id == pool.pk and t.actor == donor and t.on_behalf_of is None
    assert "pool" in t.memo
    assert balance(pool) == 2 * HOUR
    assert balance(selectors.member_account(donor)) == 3 * HOUR


def test_it_donates_to_a_named_elder_in_need_on_their_behalf(beijing, donor, needy):
    t = donate(donor, target="elder", elder=needy, amount=HOUR)
    assert t.on_behalf_of == needy and t.actor == donor and "elder" in t.memo
    assert balance(selectors.member_account(needy)) == HOUR
    from ledger.spending import care_only_minutes

    # The elder received the coins for their own care: they may not give them on.
    assert care_only_minutes(selectors.member_account(needy)) == HOUR


def test_it_donates_to_a_certified_base_where_the_scheme_allows(shanghai, donor, base_a):
    t = donate(donor, target="base", base=base_a, amount=HOUR)
    assert balance(selectors.base_account(base_a)) == HOUR and "base" in t.memo


def _other_district_elder():
    city = BranchFactory(code="beijing-city", kind="city", name="北京市")
    other = BranchFactory(code="dongcheng", kind="district", name="东城区", parent=city)
    street = BranchFactory(code="jingshan", kind="street", name="景山", parent=other)
    member = MemberFactory(elder=True, street=street, in_hardship=True, hardship_note="困难")
    return member.user


REFUSALS = {
    "changning has no base target": ("changning-2019", {"target": "base"}, "target_not_allowed"),
    "beijing has no base target": ("beijing-2022", {"target": "base"}, "target_not_allowed"),
    "unknown target": ("shanghai-2026", {"target": "cash"}, "target_not_allowed"),
    "zero": ("beijing-2022", {"amount": 0}, "bad_amount"),
    "negative": ("beijing-2022", {"amount": -HOUR}, "bad_amount"),
    "half an hour": ("beijing-2022", {"amount": 30}, "bad_amount"),
    "float": ("beijing-2022", {"amount": 60.0}, "bad_amount"),
    "more than earned": ("beijing-2022", {"amount": 6 * HOUR}, "insufficient"),
    "elder not marked": ("beijing-2022", {"target": "elder", "elder": "plain"}, "not_in_need"),
    "no elder": ("beijing-2022", {"target": "elder"}, "not_in_need"),
    "elder elsewhere": ("beijing-2022", {"target": "elder", "elder": "other"}, "not_in_need"),
    "oneself": ("beijing-2022", {"target": "elder", "elder": "self"}, "self"),
    "base not certified": (
        "shanghai-2026",
        {"target": "base", "base": "applied"},
        "base_not_certified",
    ),
    "no base": ("shanghai-2026", {"target": "base"}, "base_not_certified"),
    "someone else acts": ("beijing-2022", {"actor": "staff"}, "forbidden"),
}


@pytest.mark.parametrize("case", REFUSALS.keys())
def test_it_refuses_and_moves_nothing(case, policy_name, donor, elder, staff_a, street_a):
    preset, kwargs, code = REFUSALS[case]
    policy_name(preset)
    people = {"plain": elder, "other": _other_district_elder(), "self": donor, "staff": staff_a}
    for key in ("elder", "actor"):
        if key in kwargs:
            kwargs[key] = people[kwargs[key]]
    if kwargs.get("base") == "applied":
        kwargs["base"] = ServiceBaseFactory(street=street_a, status="applied")
    if case == "oneself":
        Member.objects.filter(user=donor).update(capacity="both", in_hardship=True)
    before = Transfer.objects.count()
    with pytest.raises(LedgerError) as caught:
        donate(donor, **kwargs)
    assert caught.value.code == code and caught.value.message
    assert Transfer.objects.count() == before
    assert balance(selectors.member_account(donor)) == 5 * HOUR


@pytest.mark.parametrize(
    ("status", "code"), [("applied", "not_verified"), ("suspended", "suspended")]
)
def test_it_refuses_a_donor_who_is_not_verified(beijing, donor, status, code):
    Member.objects.filter(user=donor).update(status=status)
    with pytest.raises(LedgerError) as caught:
        donate(donor)
    assert caught.value.code == code
    assert not Transfer.objects.filter(code="donation").exists()


def test_it_refuses_a_suspended_elder(beijing, donor, needy):
    Member.objects.filter(user=needy).update(status="suspended")
    with pytest.raises(LedgerError) as caught:
        donate(donor, target="elder", elder=needy)
    assert caught.value.code == "not_in_need"


def test_coins_given_for_the_donors_own_care_cannot_be_donated(beijing, donor, district):
    services.transfer(
        transfer_id=uuid.uuid4(),
        debit=selectors.grant_pool(district),
        credit=selectors.member_account(donor),
        amount=10 * HOUR,
        code="grant",
        actor=None,
    )
    donate(donor, amount=5 * HOUR)  # all the earned coins
    with pytest.raises(LedgerError) as caught:
        donate(donor, amount=HOUR)
    assert caught.value.code == "insufficient"
    assert balance(selectors.member_account(donor)) == 10 * HOUR


def test_it_refuses_more_than_the_elders_balance_cap_allows(beijing, donor, needy):
    account = selectors.member_account(needy)
    Account.objects.filter(pk=account.pk).update(max_balance=HOUR)
    with pytest.raises(LedgerError) as caught:
        donate(donor, target="elder", elder=needy, amount=2 * HOUR)
    assert caught.value.code == "balance_cap"
    assert "1" in caught.value.message  # says the most that can be given
    assert balance(account) == 0
    donate(donor, target="elder", elder=needy, amount=HOUR)
    assert balance(account) == HOUR


def test_a_double_submit_donates_once(beijing, donor, district):
    donation_id = uuid.uuid4()
    first = donate(donor, amount=5 * HOUR, donation_id=donation_id)
    again = donate(donor, amount=5 * HOUR, donation_id=donation_id)  # nothing left: still fine
    assert first.pk == again.pk
    assert Transfer.objects.filter(code="donation").count() == 1
    assert balance(selectors.donation_pool(district)) == 5 * HOUR
    with pytest.raises(LedgerError) as caught:
        donate(donor, amount=HOUR, donation_id=donation_id)
    assert caught.value.code == "id_reused"


# Allocation from the pool ----------------------------------------------------------------


def allocate(actor, district, elder, amount, allocation_id=None, reason="独居高龄，冬季送温暖"):
    return donations.allocate_from_pool(
        allocation_id=allocation_id or uuid.uuid4(),
        district=district,
        elder=elder,
        amount=amount,
        actor=actor,
        reason=reason,
    )


def test_head_office_allocates_what_the_pool_holds_to_an_elder_in_need(
    beijing, donor, needy, district, head_office
):
    donate(donor, amount=3 * HOUR)
    pool = selectors.donation_pool(district)
    t = allocate(head_office, district, needy, 2 * HOUR)
    assert (t.code, t.actor, t.on_behalf_of) == ("donation", head_office, needy)
    assert t.debit_account_id == pool.pk and t.memo == "独居高龄，冬季送温暖"
    assert balance(pool) == HOUR and balance(selectors.member_account(needy)) == 2 * HOUR
    before = Transfer.objects.count()
    with pytest.raises(LedgerError) as caught:
        allocate(head_office, district, needy, 2 * HOUR)  # no coin is created
    assert caught.value.code == "insufficient"
    assert Transfer.objects.count() == before and balance(pool) == HOUR


def test_an_allocation_retried_moves_once(beijing, donor, needy, district, head_office):
    donate(donor, amount=3 * HOUR)
    allocation_id = uuid.uuid4()
    first = allocate(head_office, district, needy, 3 * HOUR, allocation_id)
    assert allocate(head_office, district, needy, 3 * HOUR, allocation_id).pk == first.pk
    assert balance(selectors.member_account(needy)) == 3 * HOUR


@pytest.mark.parametrize(
    ("who", "kwargs", "code"),
    [
        ("staff_a", {}, "forbidden"),
        ("donor", {}, "forbidden"),
        ("head_office", {"reason": " "}, "reason_required"),
        ("head_office", {"amount": 90}, "bad_amount"),
        ("head_office", {"elder": "plain"}, "not_in_need"),
    ],
)
def test_allocation_refusals_move_nothing(
    beijing, donor, needy, volunteer2, district, head_office, staff_a, who, kwargs, code
):
    donate(donor, amount=3 * HOUR)
    actor = {"staff_a": staff_a, "donor": donor, "head_office": head_office}[who]
    elder = volunteer2 if kwargs.pop("elder", None) else needy
    before = Transfer.objects.count()
    with pytest.raises(LedgerError) as caught:
        allocate(actor, district, elder, kwargs.pop("amount", HOUR), **kwargs)
    assert caught.value.code == code
    assert Transfer.objects.count() == before


def test_head_office_of_another_district_may_not_allocate(beijing, donor, needy, district):
    from tests.conftest import _staff

    city = BranchFactory(code="x-city", kind="city")
    other = BranchFactory(code="x-district", kind="district", parent=city)
    donate(donor, amount=HOUR)
    with pytest.raises(LedgerError) as caught:
        allocate(_staff("head_office", other, name="别区总行"), district, needy, HOUR)
    assert caught.value.code == "forbidden"


# Summary -------------------------------------------------------------------------------


def test_the_summary_counts_direct_elders_and_those_the_pool_reached_since(
    beijing, donor, volunteer2, district, head_office, street_a
):
    elders = [MemberFactory(elder=True, street=street_a).user for _ in range(3)]
    for e in elders:
        mark_in_need(e)
    early, later, direct = elders
    earn(district, volunteer2, 2 * HOUR)
    donate(volunteer2, amount=2 * HOUR)
    allocate(head_office, district, early, HOUR)  # before our donor gave to the pool
    donate(donor, amount=2 * HOUR)
    donate(donor, target="elder", elder=direct, amount=HOUR)
    allocate(head_office, district, later, HOUR)
    allocate(head_office, district, direct, HOUR)  # reached twice, counted once
    summary = selectors.donation_summary(donor)
    assert summary.minutes == 3 * HOUR
    assert summary.elders_reached == 2
    assert selectors.donation_summary(volunteer2).elders_reached == 3
    assert selectors.donation_summary(head_office).minutes == 0


def test_a_reversed_donation_counts_for_nothing(beijing, donor, needy, head_office):
    t = donate(donor, target="elder", elder=needy, amount=HOUR)
    services.reverse(transfer_id=uuid.uuid4(), original_id=t.pk, actor=head_office, reason="误操作")
    summary = selectors.donation_summary(donor)
    assert (summary.minutes, summary.elders_reached) == (0, 0)


def test_elders_in_need_are_verified_receiving_marked_members_of_the_district(
    needy, elder, volunteer, street_b, district
):
    suspended = MemberFactory(elder=True, street=street_b, status="suspended", in_hardship=True)
    provider = MemberFactory(volunteer=True, street=street_b, in_hardship=True)
    listed = list(selectors.elders_in_need(district))
    assert [m.user for m in listed] == [needy]
    assert suspended not in listed and provider not in listed
    assert list(selectors.elders_in_need(None)) == []


# The admin page "从爱心池分配" ---------------------------------------------------------------


def test_head_office_allocates_on_the_admin_page(
    client, beijing, donor, needy, district, head_office
):
    from django.urls import reverse

    donate(donor, amount=3 * HOUR)
    url = reverse("admin_allocate_donations")
    client.force_login(head_office)
    assert url in client.get(reverse("admin:ledger_account_changelist")).content.decode()
    page = client.get(url)
    assert page.status_code == 200 and needy.full_name in page.content.decode()
    form = {
        "allocation_id": str(uuid.uuid4()),
        "district": district.pk,
        "elder": Member.objects.get(user=needy).pk,
        "hours": "5",
        "reason": "冬季送温暖",
    }
    refused = client.post(url, form)  # the pool holds 3 hours
    assert refused.status_code == 200 and refused.context["form"].non_field_errors()
    assert balance(selectors.member_account(needy)) == 0
    done = client.post(url, form | {"hours": "2"})
    assert done.status_code == 302
    assert balance(selectors.member_account(needy)) == 2 * HOUR
    t = Transfer.objects.get(debit_account=selectors.donation_pool(district))
    assert (t.actor, t.on_behalf_of) == (head_office, needy)


def test_street_staff_are_turned_away_from_the_admin_page(client, beijing, donor, needy, staff_a):
    from django.urls import reverse

    donate(donor, amount=3 * HOUR)
    client.force_login(staff_a)
    url = reverse("admin_allocate_donations")
    assert client.get(url).status_code == 302
    assert url not in client.get(reverse("admin:ledger_account_changelist")).content.decode()
    client.post(url, {"district": "1", "elder": "1", "hours": "1", "reason": "x"})
    assert not Transfer.objects.filter(reference=donations.ALLOCATION_REFERENCE).exists()


# PostgreSQL: two donations race for the last coins --------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_donations_racing_for_the_last_coins_one_wins(policy_name, volunteer, district):
    from tests.ledger.test_concurrency import run_threads

    policy_name("beijing-2022")
    earn(district, volunteer, HOUR)

    def give(i):
        return donate(volunteer, amount=HOUR)

    outcomes = run_threads(2, give)
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(errors) == 1 and errors[0].code == "insufficient", outcomes
    assert balance(selectors.member_account(volunteer)) == 0
    assert balance(selectors.donation_pool(district)) == HOUR
