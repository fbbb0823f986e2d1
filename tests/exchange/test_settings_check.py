"""EXCHANGE_PICKUP_DAYS must leave an order's hold inside the policy's limit on open holds."""

import pytest

from exchange.apps import pickup_window_fits_the_policy


@pytest.mark.parametrize(
    ("days", "ok"), [(0, False), (1, True), (14, True), (89, True), (90, False)]
)
def test_the_pickup_window_stays_below_the_policy_limit(settings, days, ok):
    settings.EXCHANGE_PICKUP_DAYS = days  # changning-2019: open holds at most 90 days
    errors = pickup_window_fits_the_policy()
    assert (errors == []) is ok
    if not ok:
        assert errors[0].id == "exchange.E001"
