"""The approve and reject buttons (``branches.adminutils.DecisionButtons``) under hostile input:
any object id, reason or ``next`` answers below 500, and a refusal changes nothing. Uses the
world and the checks of ``tests/test_fuzz_inputs.py``."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

# The world's fixtures are imported, then named by the world (and ``world`` as an argument).
# ruff: noqa: F811
from tests.exchange.conftest import clerk_a, point_a, point_b, rice, spender  # noqa: F401
from tests.orders.conftest import (  # noqa: F401
    base_funds,
    category,
    elder_funds,
    home_category,
    make_need,
)
from tests.test_fuzz_inputs import (  # noqa: F401
    FUZZ,
    SELECTED,
    _admin_persona,
    _send,
    spoil,
    value,
    world,
)

pytestmark = pytest.mark.django_db

DECIDERS = [
    "accounts.member",
    "accounts.relative",
    "branches.servicebase",
    "orders.streetqueuerequest",
    "orders.headofficequeuerequest",
    "ledger.gift",
]
# For tests/test_fuzz_inputs.py's check that every page of ours is fuzzed.
DECISION_URLS = {
    "admin:{}_{}_{}".format(*label.split("."), verb)
    for label in DECIDERS
    for verb in ("approve", "reject")
}


def test_it_knows_every_decision_url():
    from tests.test_fuzz_inputs import _our_url_names

    assert {name for name in _our_url_names() if name.endswith(("_approve", "_reject"))} == (
        DECISION_URLS
    )


@pytest.mark.parametrize("label", DECIDERS)
@FUZZ
@given(data=st.data())
def test_it_answers_decisions_below_500_and_refusals_change_nothing(client, world, label, data):
    object_id = data.draw(value(str(SELECTED[label](world).pk)))
    verb = data.draw(st.sampled_from(["approve", "reject"]))
    fields = spoil(data, {"reason": "材料不全", "next": "/admin/"})
    base = reverse("admin:{}_{}_changelist".format(*label.split(".")))
    path = f"{base}{quote(object_id, safe='')}/{verb}/"
    persona = _admin_persona(label)
    _send(client, world, persona=persona, method="post", path=path, data=fields)
