import pytest

from accounts.selectors import is_family_of, members_visible_to, provider_problems
from branches.selectors import (
    bases_visible_to,
    branches_visible_to,
    is_base_staff_for,
    is_head_office_for,
    is_street_staff_for,
)

pytestmark = pytest.mark.django_db


def test_it_builds_every_persona(
    staff_a,
    staff_b,
    advisor_a,
    head_office,
    official,
    base_staff_a,
    base_b,
    volunteer,
    volunteer2,
    elder,
    family,
    outsider,
):
    assert provider_problems(volunteer) == []
    assert provider_problems(volunteer2) == []
    assert provider_problems(elder)  # not a volunteer
    assert is_family_of(family, elder) and is_family_of(elder, family)
    assert not is_family_of(outsider, elder)
    assert staff_a.is_staff and head_office.is_staff and not base_staff_a.is_staff
    assert staff_a.has_perm("accounts.change_member")
    assert volunteer.member.id_number_masked.count("*") == 10


def test_it_scopes_branches_bases_and_members(
    street_a,
    street_b,
    district,
    base_a,
    base_b,
    staff_a,
    head_office,
    base_staff_a,
    volunteer,
    outsider,
    django_user_model,
):
    from tests.factories import MemberFactory

    other = MemberFactory(street=street_b).user
    assert set(branches_visible_to(staff_a)) == {street_a}
    assert set(branches_visible_to(head_office)) == {district, street_a, street_b}
    assert set(bases_visible_to(staff_a)) == {base_a}
    assert set(bases_visible_to(base_staff_a)) == {base_a}
    assert set(bases_visible_to(head_office)) == {base_a, base_b}
    assert not bases_visible_to(outsider).exists()
    assert set(m.user for m in members_visible_to(staff_a)) == {volunteer}
    assert set(m.user for m in members_visible_to(head_office)) == {volunteer, other}
    assert set(m.user for m in members_visible_to(volunteer)) == {volunteer}
    assert not members_visible_to(base_staff_a).exists()
    assert is_street_staff_for(staff_a, street_a) and not is_street_staff_for(staff_a, street_b)
    assert is_head_office_for(head_office, street_b) and not is_head_office_for(staff_a, street_a)
    assert is_base_staff_for(base_staff_a, base_a) and not is_base_staff_for(base_staff_a, base_b)
