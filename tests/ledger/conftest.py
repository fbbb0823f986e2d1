"""Ledger fixtures: plain users and a district, so the books can be tested on their own."""

import itertools
import uuid

import pytest

from accounts.models import User
from branches.models import Branch
from ledger import selectors

_seq = itertools.count()


def fund(pool, account, minutes: int, actor=None):
    """Issue ``minutes`` from the grant pool to ``account`` (single-phase, code grant)."""
    from ledger import services

    return services.transfer(
        transfer_id=uuid.uuid4(),
        debit=pool,
        credit=account,
        amount=minutes,
        code="grant",
        actor=actor,
    )


def fresh(account):
    from ledger.models import Account

    return Account.objects.get(pk=account.pk)


def make_user(name: str = "") -> User:
    n = next(_seq)
    return User.objects.create(username=f"ledger-user-{n}", full_name=name or f"用户{n}")


@pytest.fixture
def new_user():
    return make_user


@pytest.fixture
def coin_district(db):
    city, _ = Branch.objects.get_or_create(
        code="ledger-city", defaults={"name": "测试市", "kind": Branch.Kind.CITY}
    )
    district, _ = Branch.objects.get_or_create(
        code="ledger-district",
        defaults={"name": "测试区", "kind": Branch.Kind.DISTRICT, "parent": city},
    )
    return district


@pytest.fixture
def pool(coin_district):
    return selectors.grant_pool(coin_district)


@pytest.fixture
def escrow(coin_district):
    return selectors.escrow_account(coin_district)


@pytest.fixture
def alice(db):
    return make_user("阿丽")


@pytest.fixture
def bob(db):
    return make_user("阿波")


@pytest.fixture
def alice_account(alice):
    return selectors.member_account(alice)


@pytest.fixture
def bob_account(bob):
    return selectors.member_account(bob)


@pytest.fixture
def backed_escrow(escrow, pool):
    """The escrow holding a payer's 100-hour hold, so that reservations may rest on it.

    The database refuses an escrow that promises volunteers more than payers hold in it.
    """
    import uuid

    from ledger import services

    payer = selectors.member_account(make_user("付款人"))
    fund(pool, payer, 6000)
    services.reserve(
        transfer_id=uuid.uuid4(),
        debit=payer,
        credit=escrow,
        amount=6000,
        code="hold",
        actor=None,
        reference="place:float",
    )
    return escrow


@pytest.fixture
def no_donations(settings, monkeypatch):
    """A preset like changning-2019 whose scheme has no donations at all."""
    import dataclasses

    from timebank.policy import PRESETS, SOURCES

    preset = dataclasses.replace(
        PRESETS["changning-2019"], name="no-donations", donation_targets=()
    )
    monkeypatch.setitem(PRESETS, "no-donations", preset)
    monkeypatch.setitem(SOURCES, "no-donations", SOURCES["changning-2019"])
    settings.TIMEBANK_POLICY = "no-donations"
    return preset
