import uuid
from datetime import date

import pytest

from ledger import selectors, services
from ledger.models import DailyCredit, Transfer
from ledger.services import LedgerError, PostOp, TransferOp, VoidOp
from tests.ledger.conftest import fresh, fund

DAY = date(2026, 11, 23)


@pytest.mark.django_db
def test_it_gets_or_creates_one_account_per_owner(alice, coin_district):
    first = selectors.member_account(alice)
    assert selectors.member_account(alice) == first
    assert first.max_balance == 600 * 60
    assert selectors.grant_pool(coin_district) == selectors.grant_pool(coin_district)
    assert selectors.escrow_account(coin_district) != selectors.grant_pool(coin_district)


@pytest.mark.django_db
def test_it_uses_no_balance_cap_under_the_beijing_policy(alice, policy_name):
    policy_name("beijing-2022")
    assert selectors.member_account(alice).max_balance is None


@pytest.mark.django_db
def test_it_moves_coins_and_keeps_both_sides(pool, alice_account, bob_account, alice):
    fund(pool, alice_account, 120)
    t = services.transfer(
        transfer_id=uuid.uuid4(),
        debit=alice_account,
        credit=bob_account,
        amount=45,
        code="gift",
        actor=alice,
        memo="生日快乐",
    )
    assert t.kind == Transfer.Kind.SINGLE and t.actor == alice
    assert fresh(alice_account).balance == 75
    assert fresh(bob_account).balance == 45
    assert fresh(pool).balance == -120  # the issuer may go negative


@pytest.mark.django_db
def test_it_refuses_an_overdraft_counting_pending_debits(pool, alice_account, bob_account):
    fund(pool, alice_account, 60)
    services.reserve(
        transfer_id=uuid.uuid4(),
        debit=alice_account,
        credit=bob_account,
        amount=40,
        code="gift",
        actor=None,
    )
    with pytest.raises(LedgerError) as err:
        services.transfer(
            transfer_id=uuid.uuid4(),
            debit=alice_account,
            credit=bob_account,
            amount=21,
            code="gift",
            actor=None,
        )
    assert err.value.code == "insufficient"
    services.transfer(
        transfer_id=uuid.uuid4(),
        debit=alice_account,
        credit=bob_account,
        amount=20,
        code="gift",
        actor=None,
    )
    assert fresh(alice_account).available == 0


@pytest.mark.django_db
def test_it_refuses_a_non_positive_or_self_transfer(pool, alice_account):
    for amount in (0, -5, 1.5, True):
        with pytest.raises(LedgerError):
            fund(pool, alice_account, amount)
    with pytest.raises(LedgerError):
        services.transfer(
            transfer_id=uuid.uuid4(),
            debit=alice_account,
            credit=alice_account,
            amount=1,
            code="gift",
            actor=None,
        )
    assert Transfer.objects.count() == 0


@pytest.mark.django_db
def test_it_returns_the_first_transfer_for_a_retry_and_refuses_other_content(pool, alice_account):
    tid = services.transfer_id_for("grant:test:1")
    first = fund_with_id = services.transfer(
        transfer_id=tid, debit=pool, credit=alice_account, amount=60, code="grant", actor=None
    )
    again = services.transfer(
        transfer_id=tid, debit=pool, credit=alice_account, amount=60, code="grant", actor=None
    )
    assert again.pk == first.pk == fund_with_id.pk
    assert fresh(alice_account).balance == 60
    with pytest.raises(LedgerError) as err:
        services.transfer(
            transfer_id=tid,
            debit=pool,
            credit=alice_account,
            amount=61,
            code="grant",
            actor=None,
        )
    assert err.value.code == "id_reused"
    assert Transfer.objects.count() == 1


@pytest.mark.django_db
def test_it_holds_the_balance_cap_counting_pending_credits(pool, alice_account):
    cap = alice_account.max_balance
    fund(pool, alice_account, cap - 60)
    services.reserve(
        transfer_id=uuid.uuid4(),
        debit=pool,
        credit=alice_account,
        amount=30,
        code="grant",
        actor=None,
    )
    with pytest.raises(LedgerError) as err:
        fund(pool, alice_account, 31)
    assert err.value.code == "balance_cap"
    fund(pool, alice_account, 30)  # exactly at the cap
    assert fresh(alice_account).balance + fresh(alice_account).pending_credits == cap


@pytest.mark.django_db
def test_it_charges_the_daily_cap_when_reserving_and_gives_back_on_void(
    pool, backed_escrow, bob_account
):
    escrow = backed_escrow
    holds = []
    for _ in range(2):
        holds.append(
            services.reserve(
                transfer_id=uuid.uuid4(),
                debit=escrow,
                credit=bob_account,
                amount=60,
                code="service",
                service_date=DAY,
                actor=None,
            )
        )
    with pytest.raises(LedgerError) as err:
        services.reserve(
            transfer_id=uuid.uuid4(),
            debit=escrow,
            credit=bob_account,
            amount=1,
            code="service",
            service_date=DAY,
            actor=None,
        )
    assert err.value.code == "daily_cap"
    counter = DailyCredit.objects.get(user=bob_account.user, service_date=DAY)
    assert counter.minutes == 120 and counter.limit == 120
    services.void(transfer_id=uuid.uuid4(), pending_id=holds[0].pk, actor=None)
    services.post(transfer_id=uuid.uuid4(), pending_id=holds[1].pk, amount=45, actor=None)
    counter.refresh_from_db()
    assert counter.minutes == 45
    # Another date has its own counter.
    services.transfer(
        transfer_id=uuid.uuid4(),
        debit=escrow,
        credit=bob_account,
        amount=120,
        code="service",
        service_date=date(2026, 11, 24),
        actor=None,
    )


@pytest.mark.django_db
def test_it_posts_partially_and_releases_the_rest(pool, escrow, alice_account, bob_account):
    fund(pool, alice_account, 180)
    hold = services.reserve(
        transfer_id=uuid.uuid4(),
        debit=alice_account,
        credit=escrow,
        amount=120,
        code="hold",
        reference="place:1",
        actor=None,
    )
    res = services.reserve(
        transfer_id=uuid.uuid4(),
        debit=escrow,
        credit=bob_account,
        amount=120,
        code="service",
        service_date=DAY,
        reference="place:1",
        actor=None,
    )
    assert fresh(alice_account).available == 60
    posted = services.execute(
        [
            PostOp(transfer_id=uuid.uuid4(), pending_id=hold.pk, amount=60),
            PostOp(transfer_id=uuid.uuid4(), pending_id=res.pk, amount=60),
        ],
        actor=None,
    )
    assert [t.kind for t in posted] == ["post", "post"]
    alice_now, bob_now, escrow_now = fresh(alice_account), fresh(bob_account), fresh(escrow)
    assert (alice_now.balance, alice_now.pending_debits) == (120, 0)
    assert (bob_now.balance, bob_now.pending_credits) == (60, 0)
    assert (escrow_now.balance, escrow_now.pending_debits, escrow_now.pending_credits) == (0, 0, 0)
    with pytest.raises(LedgerError) as err:
        services.void(transfer_id=uuid.uuid4(), pending_id=hold.pk, actor=None)
    assert err.value.code == "already_resolved"


@pytest.mark.django_db
def test_it_applies_several_operations_all_or_none(pool, alice_account, bob_account):
    fund(pool, alice_account, 60)
    with pytest.raises(LedgerError):
        services.execute(
            [
                TransferOp(
                    transfer_id=uuid.uuid4(),
                    debit=alice_account,
                    credit=bob_account,
                    amount=60,
                    code="gift",
                ),
                TransferOp(
                    transfer_id=uuid.uuid4(),
                    debit=alice_account,
                    credit=bob_account,
                    amount=1,
                    code="gift",
                ),
            ],
            actor=None,
        )
    assert fresh(alice_account).balance == 60
    assert fresh(bob_account).balance == 0
    assert Transfer.objects.count() == 1


@pytest.mark.django_db
def test_it_refuses_to_post_more_than_reserved_or_an_unknown_pending(pool, alice_account):
    p = services.reserve(
        transfer_id=uuid.uuid4(),
        debit=pool,
        credit=alice_account,
        amount=30,
        code="grant",
        actor=None,
    )
    with pytest.raises(LedgerError):
        services.post(transfer_id=uuid.uuid4(), pending_id=p.pk, amount=31, actor=None)
    with pytest.raises(LedgerError):
        services.execute([VoidOp(transfer_id=uuid.uuid4(), pending_id=uuid.uuid4())], actor=None)
    done = services.post(transfer_id=uuid.uuid4(), pending_id=p.pk, amount=30, actor=None)
    assert done.amount == 30 and fresh(alice_account).balance == 30


@pytest.mark.django_db
def test_it_reverses_once_with_a_reason(pool, alice_account, alice):
    original = fund(pool, alice_account, 90)
    with pytest.raises(LedgerError) as err:
        services.reverse(
            transfer_id=uuid.uuid4(), original_id=original.pk, actor=alice, reason="不该给"
        )
    assert err.value.code == "forbidden"
    alice.is_superuser = True
    alice.save()
    with pytest.raises(LedgerError):
        services.reverse(transfer_id=uuid.uuid4(), original_id=original.pk, actor=alice, reason=" ")
    rev = services.reverse(
        transfer_id=uuid.uuid4(), original_id=original.pk, actor=alice, reason="发错人了"
    )
    assert rev.reverses_id == original.pk and rev.code == "reversal"
    assert fresh(alice_account).balance == 0
    with pytest.raises(LedgerError) as err:
        services.reverse(
            transfer_id=uuid.uuid4(), original_id=original.pk, actor=alice, reason="again"
        )
    assert err.value.code == "already_reversed"


def test_it_shows_minutes_as_hours():
    from django.utils import translation

    with translation.override("zh-hans"):
        assert services.hours(750) == "12.5 小时"
    with translation.override("en"):
        assert services.hours(120) == "2 hours"


@pytest.mark.django_db
def test_it_refuses_to_reverse_one_leg_of_an_order_payment(pool, escrow, alice_account, alice):
    fund(pool, alice_account, 60)
    hold = services.reserve(
        transfer_id=uuid.uuid4(),
        debit=alice_account,
        credit=escrow,
        amount=60,
        code="hold",
        reference="place:7",
        actor=None,
    )
    leg = services.post(transfer_id=uuid.uuid4(), pending_id=hold.pk, actor=None)
    alice.is_superuser = True
    alice.save()
    with pytest.raises(LedgerError) as err:
        services.reverse(transfer_id=uuid.uuid4(), original_id=leg.pk, actor=alice, reason="x")
    assert err.value.code == "not_reversible"


@pytest.mark.django_db
def test_it_refuses_a_reservation_the_escrow_holds_nothing_for(
    escrow, pool, alice_account, bob_account
):
    with pytest.raises(LedgerError) as refused:
        services.reserve(
            transfer_id=uuid.uuid4(),
            debit=escrow,
            credit=alice_account,
            amount=60,
            code="service",
            actor=None,
            service_date=DAY,
            reference="place:1",
        )
    assert refused.value.code == "insufficient"
    assert not Transfer.objects.exists()
    fund(pool, alice_account, 60)
    services.reserve(
        transfer_id=uuid.uuid4(),
        debit=alice_account,
        credit=escrow,
        amount=60,
        code="hold",
        actor=None,
        reference="place:1",
    )
    services.reserve(
        transfer_id=uuid.uuid4(),
        debit=escrow,
        credit=bob_account,
        amount=60,
        code="service",
        actor=None,
        service_date=DAY,
        reference="place:1",
    )
    assert fresh(escrow).spendable == 0
