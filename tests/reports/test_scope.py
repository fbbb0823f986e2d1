"""Who sees what in reports: the viewer's reach, narrowing within it, and refusals."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from accounts.models import Member
from orders.models import ServiceCategory
from reports.scope import scope_for, viewer_scope
from tests.factories import BranchFactory, MemberFactory, ServiceBaseFactory

pytestmark = pytest.mark.django_db


def test_district_roles_see_the_district_and_may_narrow(
    official, head_office, district, street_b, base_b
):
    for user in (official, head_office):
        scope = viewer_scope(user)
        assert (scope.reach, scope.level, scope.district) == ("district", "district", district)
    narrowed = scope_for(official, {"street": str(street_b.pk)})
    assert (narrowed.reach, narrowed.level, narrowed.street) == ("district", "street", street_b)
    assert narrowed.query() == {"street": str(street_b.pk)}
    at_base = scope_for(official, {"base": str(base_b.pk)})
    assert (at_base.level, at_base.base, at_base.street) == ("base", base_b, street_b)


def test_street_staff_see_their_street_and_are_refused_another(staff_a, street_a, street_b):
    scope = viewer_scope(staff_a)
    assert (scope.reach, scope.street) == ("street", street_a)
    assert scope_for(staff_a, {"street": str(street_a.pk)}).street == street_a
    with pytest.raises(PermissionDenied):
        scope_for(staff_a, {"street": str(street_b.pk)})


def test_street_staff_may_narrow_to_their_bases_only(staff_a, base_a, base_b):
    assert scope_for(staff_a, {"base": str(base_a.pk)}).base == base_a
    with pytest.raises(PermissionDenied):
        scope_for(staff_a, {"base": str(base_b.pk)})


def test_base_staff_see_their_base_only(base_staff_a, base_a, street_a):
    scope = viewer_scope(base_staff_a)
    assert (scope.reach, scope.base, scope.street) == ("base", base_a, street_a)
    other = ServiceBaseFactory(name="天山日间中心", street=street_a)
    with pytest.raises(PermissionDenied):
        scope_for(base_staff_a, {"base": str(other.pk)})
    with pytest.raises(PermissionDenied):
        scope_for(base_staff_a, {"street": str(street_a.pk + 1000)})


def test_another_districts_street_is_refused_to_head_office(head_office, city):
    elsewhere = BranchFactory(name="徐汇区", code="xuhui", kind="district", parent=city)
    street = BranchFactory(name="徐家汇", code="xujiahui", kind="street", parent=elsewhere)
    base = ServiceBaseFactory(name="徐汇养老院", street=street)
    for params in ({"street": str(street.pk)}, {"base": str(base.pk)}):
        with pytest.raises(PermissionDenied):
            scope_for(head_office, params)


def test_a_street_and_a_base_of_another_street_are_refused(official, street_a, base_b):
    with pytest.raises(PermissionDenied):
        scope_for(official, {"street": str(street_a.pk), "base": str(base_b.pk)})


def test_members_and_strangers_have_no_reports(volunteer, outsider):
    for user in (volunteer, outsider):
        with pytest.raises(PermissionDenied):
            viewer_scope(user)


@pytest.mark.parametrize("value", ["abc", "1.5", "-3", "１２", "1 OR 1=1"])
def test_a_malformed_parameter_is_not_found(official, value):
    with pytest.raises(Http404):
        scope_for(official, {"street": value})


def test_category_narrowing(official, district):
    category = ServiceCategory.objects.first() or ServiceCategory.objects.create(
        code="walk", name="助行"
    )
    scope = scope_for(official, {"category": str(category.pk)})
    assert scope.category == category
    assert scope.label == f"{district} · {category}"
    with pytest.raises(Http404):
        scope_for(official, {"category": "999999"})


def test_member_filter_follows_the_scope(official, staff_a, street_a, street_b):
    MemberFactory(volunteer=True, street=street_a)
    MemberFactory(volunteer=True, street=street_b)
    MemberFactory(volunteer=True, street=street_b)
    district = viewer_scope(official)
    street = viewer_scope(staff_a)
    assert Member.objects.filter(district.members_q()).count() == 3
    assert Member.objects.filter(street.members_q()).count() == 1
    assert list(street.streets()) == [street_a]
    assert list(district.streets()) == sorted([street_a, street_b], key=lambda b: b.name)
