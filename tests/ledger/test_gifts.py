"""Gifts of coins (转赠): ``ledger.gifts.give_coins``, ``approve_gift``, ``reject_gift``."""

import uuid

import pytest

from accounts.models import Member, Relative
from ledger import gifts, selectors, services
from ledger.models import Account, Gift, Transfer
from ledger.services import LedgerError, hours
from ledger.spending import giftable, minutes_served
from tests.factories import MemberFactory, RelativeFactory, UserFactory

HOUR = 60


def earn(pool, account, minutes: int):
    """Coins earned by serving (code service): these, unlike grants, may be given on."""
    return services.transfer(
        transfer_id=uuid.uuid4(),
        debit=pool,
        credit=account,
        amount=minutes,
        code="service",
        actor=None,
    )


def fund(pool, account, minutes: int):
    """Granted coins (code grant): for the member's own care, never giftable."""
    from tests.ledger.conftest import fund as grant

    return grant(pool, account, minutes)


def link(giver, receiver, relation="parent", **extra) -> Relative:
    """A confirmed relative: ``receiver`` is ``relation`` of ``giver``."""
    return RelativeFactory(member=giver.member, relative=receiver, relation=relation, **extra)


def give(giver, relative, amount, *, gift_id=None, actor=None):
    return gifts.give_coins(
        gift_id=gift_id or uuid.uuid4(),
        giver=giver,
        relative=relative,
        amount=amount,
        actor=actor or giver,
    )


def snapshot():
    """Everything a refused gift must leave as it was."""
    totals = list(
        Account.objects.order_by("pk").values_list(
            "pk", "posted_debits", "posted_credits", "pending_debits", "pending_credits"
        )
    )
    return Gift.objects.count(), Transfer.objects.count(), totals


@pytest.fixture
def giver_account(volunteer, pool):
    account = selectors.member_account(volunteer)
    earn(pool, account, 5 * HOUR)
    return account


@pytest.fixture
def parent(volunteer, elder):
    """The elder, confirmed as the volunteer's parent."""
    return link(volunteer, elder, "parent")


def fresh(account) -> Account:
    return Account.objects.get(pk=account.pk)


# --- the approval flow (changning-2019, the default) ------------------------------------------


@pytest.mark.django_db
def test_it_holds_the_coins_until_the_street_approves(
    volunteer, elder, giver_account, parent, staff_a
):
    gift = give(volunteer, parent, 2 * HOUR)

    assert gift.status == Gift.Status.PENDING
    assert (gift.giver, gift.receiver, gift.relation) == (volunteer, elder, "parent")
    assert gift.street == volunteer.member.street
    pending = Transfer.objects.get(pk=gift.transfer_id)
    assert pending.pk == services.transfer_id_for(f"gift:{gift.pk}")
    assert (pending.kind, pending.code, pending.amount) == ("pending", "gift", 2 * HOUR)
    assert (pending.actor, pending.on_behalf_of) == (volunteer, elder)
    receiver = selectors.member_account(elder)
    assert fresh(giver_account).available == 3 * HOUR  # held at once
    assert fresh(receiver).balance == 0 and fresh(receiver).pending_credits == 2 * HOUR

    gifts.approve_gift(gift=gift, actor=staff_a)

    gift.refresh_from_db()
    assert gift.status == Gift.Status.POSTED
    assert (gift.reviewed_by, gift.resolution_id) == (
        staff_a,
        services.transfer_id_for(f"gift-post:{gift.pk}"),
    )
    post = Transfer.objects.get(pk=gift.resolution_id)
    assert (post.kind, post.pending_id, post.on_behalf_of) == ("post", pending.pk, elder)
    assert fresh(giver_account).balance == 3 * HOUR
    assert fresh(receiver).balance == 2 * HOUR and fresh(receiver).pending_credits == 0


@pytest.mark.django_db
def test_it_returns_the_coins_when_the_street_rejects(
    volunteer, elder, giver_account, parent, staff_a
):
    gift = give(volunteer, parent, 2 * HOUR)

    gifts.reject_gift(gift=gift, actor=staff_a, reason="  关系证明不清楚 ")

    gift.refresh_from_db()
    assert gift.status == Gift.Status.REJECTED and gift.review_reason == "关系证明不清楚"
    void = Transfer.objects.get(pk=gift.resolution_id)
    assert (void.kind, void.pending_id) == ("void", gift.transfer_id)
    assert fresh(giver_account).available == fresh(giver_account).balance == 5 * HOUR
    receiver = fresh(selectors.member_account(elder))
    assert receiver.balance == 0 and receiver.pending_credits == 0


@pytest.mark.django_db
def test_it_wants_a_reason_to_reject(volunteer, giver_account, parent, staff_a):
    gift = give(volunteer, parent, HOUR)
    before = snapshot()
    with pytest.raises(LedgerError) as exc:
        gifts.reject_gift(gift=gift, actor=staff_a, reason="   ")
    assert exc.value.code == "reason_required"
    assert snapshot() == before
    gift.refresh_from_db()
    assert gift.status == Gift.Status.PENDING


@pytest.mark.django_db
def test_it_decides_a_gift_only_once(volunteer, giver_account, parent, staff_a, head_office):
    gift = give(volunteer, parent, HOUR)
    gifts.approve_gift(gift=gift, actor=staff_a)
    before = snapshot()

    with pytest.raises(LedgerError) as again:
        gifts.approve_gift(gift=gift, actor=head_office)
    with pytest.raises(LedgerError) as late_reject:
        gifts.reject_gift(gift=gift, actor=staff_a, reason="弄错了")

    assert again.value.code == late_reject.value.code == "already_decided"
    assert snapshot() == before


@pytest.mark.django_db
def test_it_lets_only_the_givers_street_or_its_head_office_decide(
    volunteer, giver_account, parent, staff_b, advisor_a, head_office, elder
):
    gift = give(volunteer, parent, HOUR)
    for outsider in (staff_b, advisor_a, elder):
        with pytest.raises(LedgerError) as exc:
            gifts.approve_gift(gift=gift, actor=outsider)
        assert exc.value.code == "forbidden"
    assert Gift.objects.get(pk=gift.pk).status == Gift.Status.PENDING

    gifts.approve_gift(gift=gift, actor=head_office)
    assert Gift.objects.get(pk=gift.pk).status == Gift.Status.POSTED


# --- without approval ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_gives_at_once_where_no_approval_is_asked(
    policy_name, volunteer, elder, giver_account, parent
):
    policy_name("beijing-2022")
    gift = give(volunteer, parent, 3 * HOUR)

    assert gift.status == Gift.Status.POSTED
    transfer = Transfer.objects.get(pk=gift.transfer_id)
    assert (transfer.kind, transfer.code, transfer.on_behalf_of) == ("single", "gift", elder)
    assert fresh(giver_account).balance == 2 * HOUR
    assert fresh(selectors.member_account(elder)).balance == 3 * HOUR
    with pytest.raises(LedgerError) as exc:
        gifts.approve_gift(gift=gift, actor=volunteer)
    assert exc.value.code in ("forbidden", "already_decided")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("preset", "relation", "allowed"),
    [
        ("changning-2019", "spouse", True),
        ("changning-2019", "friend", False),
        ("beijing-2022", "grandparent", True),
        ("beijing-2022", "child", False),
        ("shanghai-2026", "friend", True),
    ],
)
def test_it_follows_the_schemes_relations(
    policy_name, preset, relation, allowed, volunteer, elder, giver_account
):
    policy_name(preset)
    relative = link(volunteer, elder, relation)
    if allowed:
        assert give(volunteer, relative, HOUR).relation == relation
        return
    before = snapshot()
    with pytest.raises(LedgerError) as exc:
        give(volunteer, relative, HOUR)
    assert exc.value.code == "relation_not_allowed"
    assert snapshot() == before


# --- refusals: nothing moves ------------------------------------------------------------------


def _not_verified_giver(volunteer, relative):
    Member.objects.filter(user=volunteer).update(status=Member.Status.APPLIED)


def _suspended_giver(volunteer, relative):
    Member.objects.filter(user=volunteer).update(status=Member.Status.SUSPENDED)


def _suspended_receiver(volunteer, relative):
    Member.objects.filter(user=relative.relative).update(status=Member.Status.SUSPENDED)


def _unverified_receiver(volunteer, relative):
    Member.objects.filter(user=relative.relative).update(status=Member.Status.APPLIED)


def _unconfirmed(volunteer, relative):
    Relative.objects.filter(pk=relative.pk).update(status=Relative.Status.PENDING)


def _rejected_link(volunteer, relative):
    Relative.objects.filter(pk=relative.pk).update(status=Relative.Status.REJECTED)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("spoil", "code"),
    [
        (_not_verified_giver, "giver_not_verified"),
        (_suspended_giver, "giver_not_verified"),
        (_suspended_receiver, "receiver_not_verified"),
        (_unverified_receiver, "receiver_not_verified"),
        (_unconfirmed, "not_confirmed"),
        (_rejected_link, "not_confirmed"),
    ],
)
def test_it_refuses_a_gift_the_rules_do_not_allow(spoil, code, volunteer, giver_account, parent):
    spoil(volunteer, parent)
    before = snapshot()
    with pytest.raises(LedgerError) as exc:
        give(volunteer, parent, HOUR)
    assert exc.value.code == code
    assert exc.value.message
    assert snapshot() == before


@pytest.mark.django_db
def test_it_refuses_someone_elses_relative(volunteer, volunteer2, giver_account, pool, elder):
    earn(pool, selectors.member_account(volunteer2), 5 * HOUR)
    theirs = link(volunteer, elder)
    before = snapshot()
    with pytest.raises(LedgerError) as exc:
        give(volunteer2, theirs, HOUR)
    assert exc.value.code == "not_yours"
    assert snapshot() == before


@pytest.mark.django_db
def test_it_refuses_a_relative_who_is_not_registered(volunteer, giver_account):
    unregistered = link(volunteer, None, relative_phone="+8613900000001")
    before = snapshot()
    with pytest.raises(LedgerError) as exc:
        give(volunteer, unregistered, HOUR)
    assert exc.value.code == "receiver_not_verified"
    assert snapshot() == before


@pytest.mark.django_db
def test_it_refuses_a_registered_user_who_is_not_a_member(volunteer, giver_account):
    relative = link(volunteer, UserFactory(full_name="钱某"))
    with pytest.raises(LedgerError) as exc:
        give(volunteer, relative, HOUR)
    assert exc.value.code == "receiver_not_verified"


@pytest.mark.django_db
def test_it_refuses_a_gift_to_oneself(volunteer, giver_account):
    oneself = link(volunteer, volunteer, "spouse")
    before = snapshot()
    with pytest.raises(LedgerError) as exc:
        give(volunteer, oneself, HOUR)
    assert exc.value.code == "same_person"
    assert snapshot() == before


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [0, -HOUR, 30, 90, HOUR + 1, 60.0, True, "60"])
def test_it_refuses_amounts_that_are_not_whole_positive_hours(
    amount, volunteer, giver_account, parent
):
    before = snapshot()
    with pytest.raises(LedgerError) as exc:
        give(volunteer, parent, amount)
    assert exc.value.code == "bad_amount"
    assert snapshot() == before


@pytest.mark.django_db
def test_it_refuses_a_giver_without_coins(volunteer, parent):
    before = snapshot()
    with pytest.raises(LedgerError) as exc:
        give(volunteer, parent, HOUR)
    assert exc.value.code == "insufficient"
    assert snapshot() == before
    assert selectors.find_member_account(volunteer) is None


# --- how much may be given --------------------------------------------------------------------


@pytest.mark.django_db
def test_it_gives_exactly_the_giftable_amount_and_not_one_hour_more(
    volunteer, volunteer2, elder, pool, parent
):
    account = selectors.member_account(volunteer)
    earn(pool, account, 3 * HOUR)
    other = link(volunteer2, elder)
    other_account = selectors.member_account(volunteer2)
    earn(pool, other_account, 3 * HOUR)

    give(volunteer, parent, 3 * HOUR)
    assert fresh(account).available == 0

    before = snapshot()
    with pytest.raises(LedgerError) as exc:
        give(volunteer2, other, 4 * HOUR)
    assert exc.value.code == "insufficient"
    assert hours(3 * HOUR) in exc.value.message  # says how much may be given
    assert snapshot() == before


@pytest.mark.django_db
def test_it_never_lets_granted_coins_be_given(volunteer, pool, parent):
    account = selectors.member_account(volunteer)
    fund(pool, account, 10 * HOUR)
    earn(pool, account, HOUR)
    assert giftable(fresh(account)) == HOUR

    with pytest.raises(LedgerError) as exc:
        give(volunteer, parent, 2 * HOUR)
    assert exc.value.code == "insufficient" and hours(HOUR) in exc.value.message
    give(volunteer, parent, HOUR)
    assert giftable(fresh(account)) == 0


@pytest.mark.django_db
def test_coins_received_as_a_gift_cannot_be_given_on(
    policy_name, volunteer, elder, giver_account, parent, street_a
):
    policy_name("beijing-2022")
    give(volunteer, parent, 2 * HOUR)
    grandchild = MemberFactory(family=True, street=street_a).user
    onward = RelativeFactory(member=elder.member, relative=grandchild, relation="parent")
    assert giftable(fresh(selectors.member_account(elder))) == 0
    with pytest.raises(LedgerError) as exc:
        give(elder, onward, HOUR)
    assert exc.value.code == "insufficient"


@pytest.mark.django_db
def test_held_gifts_count_against_what_may_be_given(volunteer, giver_account, parent):
    give(volunteer, parent, 4 * HOUR)  # pending, waiting for the street
    with pytest.raises(LedgerError) as exc:
        give(volunteer, parent, 2 * HOUR)
    assert exc.value.code == "insufficient" and hours(HOUR) in exc.value.message


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("room", "amount", "most"),
    [(30, HOUR, 0), (90, 2 * HOUR, HOUR), (150, 3 * HOUR, 2 * HOUR)],
)
def test_it_refuses_up_front_a_gift_over_the_receivers_cap(
    room, amount, most, volunteer, elder, giver_account, parent, pool
):
    receiver = selectors.member_account(elder)
    fund(pool, receiver, receiver.max_balance - room)
    before = snapshot()
    with pytest.raises(LedgerError) as exc:
        give(volunteer, parent, amount)
    assert exc.value.code == "balance_cap"
    assert hours(most) in exc.value.message  # the most that can be given
    assert snapshot() == before
    if most:
        assert give(volunteer, parent, most).amount == most


@pytest.mark.django_db
def test_the_cap_counts_gifts_still_waiting_for_approval(
    volunteer, elder, giver_account, parent, pool
):
    receiver = selectors.member_account(elder)
    fund(pool, receiver, receiver.max_balance - 2 * HOUR)
    give(volunteer, parent, 2 * HOUR)
    with pytest.raises(LedgerError) as exc:
        give(volunteer, parent, HOUR)
    assert exc.value.code == "balance_cap" and hours(0) in exc.value.message


# --- idempotency, service hours, history ---------------------------------------------------------


@pytest.mark.django_db
def test_giving_again_with_the_same_id_returns_the_first_gift(
    volunteer, elder, giver_account, parent
):
    gift_id = uuid.uuid4()
    first = give(volunteer, parent, 2 * HOUR, gift_id=gift_id)
    again = give(volunteer, parent, 2 * HOUR, gift_id=gift_id)
    changed = give(volunteer, parent, 3 * HOUR, gift_id=gift_id)  # a stale form's second post

    assert first.pk == again.pk == changed.pk and changed.amount == 2 * HOUR
    assert Gift.objects.count() == 1
    assert Transfer.objects.filter(code="gift").count() == 1
    assert fresh(giver_account).available == 3 * HOUR


@pytest.mark.django_db
def test_another_member_cannot_reuse_a_gift_id(
    volunteer, volunteer2, elder, giver_account, parent, pool
):
    gift_id = uuid.uuid4()
    give(volunteer, parent, HOUR, gift_id=gift_id)
    earn(pool, selectors.member_account(volunteer2), 5 * HOUR)
    theirs = link(volunteer2, elder)
    with pytest.raises(LedgerError) as exc:
        give(volunteer2, theirs, HOUR, gift_id=gift_id)
    assert exc.value.code == "reused"
    assert Gift.objects.get().giver == volunteer


@pytest.mark.django_db
@pytest.mark.parametrize("preset", ["changning-2019", "beijing-2022"])
def test_a_gift_is_never_counted_as_hours_served(
    policy_name, preset, volunteer, elder, giver_account, parent, staff_a
):
    policy_name(preset)
    served = minutes_served(volunteer), minutes_served(elder)
    gift = give(volunteer, parent, 2 * HOUR)
    if gift.status == Gift.Status.PENDING:
        gifts.approve_gift(gift=gift, actor=staff_a)
    assert fresh(selectors.member_account(elder)).balance == 2 * HOUR
    assert (minutes_served(volunteer), minutes_served(elder)) == served == (5 * HOUR, 0)


@pytest.mark.django_db
def test_history_rows_carry_who_acted(volunteer, giver_account, parent, staff_a, advisor_a):
    gift = give(volunteer, parent, HOUR, actor=advisor_a)  # e.g. helped at the street centre
    gifts.approve_gift(gift=gift, actor=staff_a)

    rows = list(Gift.history.filter(id=gift.pk).order_by("history_date"))
    assert [(r.history_type, r.status, r.history_user) for r in rows] == [
        ("+", Gift.Status.PENDING, advisor_a),
        ("~", Gift.Status.POSTED, staff_a),
    ]
    assert Transfer.objects.get(pk=gift.transfer_id).actor == advisor_a


def test_nobody_else_gives_a_members_coins(volunteer, giver_account, parent, outsider, staff_b):
    for actor in (outsider, staff_b):
        with pytest.raises(LedgerError) as exc:
            give(volunteer, parent, HOUR, actor=actor)
        assert exc.value.code == "forbidden"
    assert not Gift.objects.exists()
