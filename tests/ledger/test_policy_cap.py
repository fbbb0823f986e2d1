"""The balance cap follows TIMEBANK_POLICY, for accounts made before the switch too."""

import pytest

from ledger import selectors, services
from ledger.services import LedgerError
from tests.ledger.conftest import fresh, fund

HOUR = 60


@pytest.mark.django_db
def test_it_lifts_and_restores_the_cap_when_the_policy_changes(new_user, pool, policy_name):
    account = selectors.member_account(new_user())
    assert account.max_balance == 600 * HOUR
    policy_name("beijing-2022")
    assert services.apply_policy_balance_cap() == {"set": 1, "held": 0}
    assert fresh(account).max_balance is None
    fund(pool, account, 700 * HOUR)  # no cap in Beijing
    policy_name("changning-2019")
    assert services.apply_policy_balance_cap() == {"set": 0, "held": 1}
    # Holding 700 h, above the restored 600 h cap: nothing is taken, nothing more comes in.
    assert fresh(account).max_balance == 700 * HOUR
    with pytest.raises(LedgerError):
        fund(pool, account, 30)


@pytest.mark.django_db
def test_it_gives_the_cap_back_at_the_boundary(new_user, pool, policy_name):
    policy_name("beijing-2022")
    at_cap = selectors.member_account(new_user())
    below = selectors.member_account(new_user())
    fund(pool, at_cap, 600 * HOUR)
    fund(pool, below, 599 * HOUR + 30)
    policy_name("changning-2019")
    assert services.apply_policy_balance_cap() == {"set": 2, "held": 0}
    assert fresh(at_cap).max_balance == fresh(below).max_balance == 600 * HOUR
    fund(pool, below, 30)  # 599.5 h + 0.5 h = exactly 600 h
    with pytest.raises(LedgerError):
        fund(pool, below, 1)


@pytest.mark.django_db
def test_running_it_twice_changes_nothing(new_user, policy_name):
    selectors.member_account(new_user())
    assert services.apply_policy_balance_cap() == {"set": 0, "held": 0}
