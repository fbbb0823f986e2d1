"""What a user may see and do in the organisation: every view and admin page asks here.

Superusers pass every check. Roles are scoped to a branch (StaffRole.branch):
head office and officials to their district, street staff and advisors to their street,
base staff to their base (and, for reading, their base's street).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from branches.models import Branch, ServiceBase, StaffRole

Role = StaffRole.Role
DISTRICT_ROLES = (Role.HEAD_OFFICE, Role.OFFICIAL)
STREET_ROLES = (Role.STREET_STAFF, Role.ADVISOR)


def _anonymous(user) -> bool:
    return user is None or not user.is_authenticated


def staff_roles(user) -> QuerySet[StaffRole]:
    if _anonymous(user):
        return StaffRole.objects.none()
    return StaffRole.objects.filter(user=user).select_related("branch", "base")


def _visible_branch_filter(user) -> Q:
    """Branches reached by the user's roles (district roles also reach their streets)."""
    district_ids = StaffRole.objects.filter(user=user, role__in=DISTRICT_ROLES).values("branch_id")
    street_ids = StaffRole.objects.filter(
        user=user, role__in=(*STREET_ROLES, Role.BASE_STAFF)
    ).values("branch_id")
    return Q(pk__in=district_ids) | Q(parent_id__in=district_ids) | Q(pk__in=street_ids)


def branches_visible_to(user) -> QuerySet[Branch]:
    if _anonymous(user):
        return Branch.objects.none()
    if user.is_superuser:
        return Branch.objects.all()
    return Branch.objects.filter(_visible_branch_filter(user))


def streets_visible_to(user) -> QuerySet[Branch]:
    return branches_visible_to(user).filter(kind=Branch.Kind.STREET)


def bases_visible_to(user) -> QuerySet[ServiceBase]:
    """Bases in the user's streets; base staff see only their own bases."""
    if _anonymous(user):
        return ServiceBase.objects.none()
    qs = ServiceBase.objects.select_related("street", "street__parent")
    if user.is_superuser:
        return qs
    staff = StaffRole.objects.filter(user=user)
    district_ids = staff.filter(role__in=DISTRICT_ROLES).values("branch_id")
    street_ids = staff.filter(role__in=STREET_ROLES).values("branch_id")
    base_ids = staff.filter(role=Role.BASE_STAFF).values("base_id")
    return qs.filter(
        Q(street__parent_id__in=district_ids) | Q(street_id__in=street_ids) | Q(pk__in=base_ids)
    )


def _has_role(user, *, roles, **where) -> bool:
    if _anonymous(user):
        return False
    if user.is_superuser:
        return True
    return StaffRole.objects.filter(user=user, role__in=roles, **where).exists()


def is_street_staff_for(user, street: Branch) -> bool:
    return _has_role(user, roles=[Role.STREET_STAFF], branch=street)


def is_advisor_for(user, street: Branch) -> bool:
    return _has_role(user, roles=[Role.ADVISOR], branch=street)


def is_head_office_for(user, branch: Branch) -> bool:
    """Head-office staff of the branch's district (or of the district itself)."""
    district = branch.district
    if district is None:
        return bool(user and user.is_authenticated and user.is_superuser)
    return _has_role(user, roles=[Role.HEAD_OFFICE], branch=district)


def is_base_staff_for(user, base: ServiceBase) -> bool:
    return _has_role(user, roles=[Role.BASE_STAFF], base=base)


def is_official(user) -> bool:
    return _has_role(user, roles=[Role.OFFICIAL, Role.HEAD_OFFICE])


def streets_managed_by(user) -> QuerySet[Branch]:
    """Streets whose members and bases the user administers or reads in admin (not base staff)."""
    if _anonymous(user):
        return Branch.objects.none()
    if user.is_superuser:
        return Branch.objects.filter(kind=Branch.Kind.STREET)
    roles = StaffRole.objects.filter(user=user)
    district_ids = roles.filter(role__in=DISTRICT_ROLES).values("branch_id")
    street_ids = roles.filter(role__in=STREET_ROLES).values("branch_id")
    return Branch.objects.filter(
        Q(parent_id__in=district_ids) | Q(pk__in=street_ids), kind=Branch.Kind.STREET
    )


def is_staff_member(user) -> bool:
    """Any organisational role at all (or superuser)."""
    return _has_role(user, roles=list(Role.values))


def may_review_street(user, street: Branch) -> bool:
    """Who reviews a street's members and bases: its street staff, or its head office."""
    return is_street_staff_for(user, street) or is_head_office_for(user, street)
