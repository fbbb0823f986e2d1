"""/me/ costs the same queries however many trainings, insurances, relatives and roles a
person has gathered (issue 16), for each kind of person who opens it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import InsuranceFactory, RelativeFactory, StaffRoleFactory, TrainingFactory

pytestmark = pytest.mark.django_db

ME = reverse("accounts:profile")
ME_MAX = 14  # measured: 4 (no membership) to 12 (a volunteer: may they grab, spend)


def queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(ME)
    assert response.status_code == 200
    return len(ctx)


def gather(user, street_b) -> None:
    """Years of records: courses, yearly insurances, relatives, a second workplace."""
    member = getattr(user, "member", None)
    if member is not None:
        TrainingFactory.create_batch(10, member=member)
        InsuranceFactory.create_batch(10, member=member)
        RelativeFactory.create_batch(8, member=member)
        RelativeFactory.create_batch(4, member=member, status="pending")
    if user.is_staff:
        StaffRoleFactory(user=user, role="street_staff", branch=street_b)


@pytest.mark.parametrize(
    "persona", ["volunteer", "elder", "family", "advisor_a", "base_staff_a", "outsider"]
)
def test_me_costs_the_same_with_years_of_records(
    client, request, persona, street_b, django_assert_max_num_queries
):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    before = queries(client)
    gather(user, street_b)
    assert queries(client) == before
    with django_assert_max_num_queries(ME_MAX):
        client.get(ME)
