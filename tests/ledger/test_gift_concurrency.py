"""Gifts racing for the same coins, on real PostgreSQL row locks."""

import uuid

import pytest

from ledger import gifts, selectors
from ledger.models import Account, Gift, Transfer
from ledger.services import LedgerError
from ledger.spending import giftable
from tests.factories import MemberFactory
from tests.ledger.test_concurrency import run_threads
from tests.ledger.test_gifts import HOUR, earn, fund, link

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def two_relatives(volunteer, elder, street_a):
    grandmother = MemberFactory(elder=True, street=street_a, user__full_name="王奶奶").user
    return link(volunteer, elder, "parent"), link(volunteer, grandmother, "grandparent")


@pytest.mark.parametrize("preset", ["changning-2019", "beijing-2022"])
def test_two_gifts_racing_for_the_last_coins_cannot_both_pass(
    policy_name, preset, volunteer, pool, two_relatives
):
    policy_name(preset)  # held for approval, or moved at once (the database function)
    account = selectors.member_account(volunteer)
    fund(pool, account, 10 * HOUR)  # granted: the ledger alone would let both gifts spend it
    earn(pool, account, 2 * HOUR)

    def give(i):
        return gifts.give_coins(
            gift_id=uuid.uuid4(),
            giver=volunteer,
            relative=two_relatives[i % 2],
            amount=2 * HOUR,
            actor=volunteer,
        )

    outcomes = run_threads(2, give)
    made = [o for o in outcomes if isinstance(o, Gift)]
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert len(made) == 1, outcomes
    assert len(errors) == 1 and isinstance(errors[0], LedgerError), errors
    assert errors[0].code == "insufficient"

    assert Gift.objects.count() == 1
    giver = Account.objects.get(pk=account.pk)
    assert giver.available == 10 * HOUR and giftable(giver) == 0
    receiver = Account.objects.get(kind="member", user=made[0].receiver)
    assert receiver.balance + receiver.pending_credits == 2 * HOUR
    assert giver.posted_debits + giver.pending_debits == 2 * HOUR
    assert Transfer.objects.filter(code="gift").count() == 1


def test_a_double_submit_racing_itself_gives_once(volunteer, pool, two_relatives):
    account = selectors.member_account(volunteer)
    earn(pool, account, 5 * HOUR)
    gift_id = uuid.uuid4()

    def give(i):
        return gifts.give_coins(
            gift_id=gift_id,
            giver=volunteer,
            relative=two_relatives[0],
            amount=2 * HOUR,
            actor=volunteer,
        )

    outcomes = run_threads(4, give)
    assert all(isinstance(o, Gift) for o in outcomes), outcomes
    assert {o.pk for o in outcomes} == {gift_id}
    assert Gift.objects.count() == 1
    assert Transfer.objects.filter(code="gift").count() == 1
    assert Account.objects.get(pk=account.pk).available == 3 * HOUR
