"""Every change to the organisation: staff roles, service-base applications."""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from branches import permissions
from branches.models import Branch, ServiceBase, StaffRole
from branches.selectors import is_head_office_for, is_street_staff_for
from timebank.transactions import service_transaction


class OrganisationError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _permissions(codes: set[str]):
    query = Q(pk__in=[])
    for code in codes:
        app_label, codename = code.split(".", 1)
        query |= Q(content_type__app_label=app_label, codename=codename)
    return Permission.objects.filter(query)


def sync_role_group(role: str) -> Group:
    group, _created = Group.objects.get_or_create(name=permissions.group_name(role))
    group.permissions.set(_permissions(permissions.ROLE_PERMISSIONS.get(role, set())))
    return group


@service_transaction
def sync_staff_access(*, user) -> None:
    """Give a user exactly the admin groups (and ``is_staff``) their roles call for."""
    roles = set(StaffRole.objects.filter(user=user).values_list("role", flat=True))
    role_groups = [sync_role_group(role) for role in roles]
    others = Group.objects.filter(name__startswith="role:").exclude(
        pk__in=[g.pk for g in role_groups]
    )
    user.groups.remove(*others)
    user.groups.add(*role_groups)
    wants_staff = bool(roles & permissions.ADMIN_ROLES) or user.is_superuser
    if user.is_staff != wants_staff:
        user.is_staff = wants_staff
        user.save(update_fields=["is_staff"])


@service_transaction
def assign_staff_role(
    *, user, role: str, branch: Branch, base: ServiceBase | None = None, actor=None
) -> StaffRole:
    if role == StaffRole.Role.BASE_STAFF:
        if base is None:
            raise OrganisationError(_("Service-base staff need a service base."))
        branch = base.street
    elif role in (StaffRole.Role.HEAD_OFFICE, StaffRole.Role.OFFICIAL):
        if branch.kind != Branch.Kind.DISTRICT:
            raise OrganisationError(_("This role belongs to a district head office."))
    elif branch.kind != Branch.Kind.STREET:
        raise OrganisationError(_("This role belongs to a street branch."))
    staff_role, _created = StaffRole.objects.get_or_create(
        user=user, role=role, branch=branch, defaults={"base": base}
    )
    sync_staff_access(user=user)
    return staff_role


@service_transaction
def remove_staff_role(*, staff_role: StaffRole, actor) -> None:
    user = staff_role.user
    staff_role.delete()
    sync_staff_access(user=user)


# Service bases ---------------------------------------------------------------------------


@service_transaction
def apply_for_base(
    *,
    name: str,
    kind: str,
    street: Branch,
    address: str,
    licence_number: str,
    contact_name: str,
    contact_phone: str,
    document=None,
    actor=None,
) -> ServiceBase:
    if street.kind != Branch.Kind.STREET:
        raise OrganisationError(_("Please choose a street."))
    base = ServiceBase(
        name=name,
        kind=kind,
        street=street,
        address=address,
        licence_number=licence_number,
        contact_name=contact_name,
        contact_phone=contact_phone,
        applied_by=actor if actor is not None and actor.is_authenticated else None,
    )
    if document:
        base.document = document
    try:
        base.full_clean()
    except ValidationError as exc:
        raise OrganisationError(" ".join(exc.messages)) from exc
    base.save()
    return base


def _locked_base(base: ServiceBase) -> ServiceBase:
    return (
        ServiceBase.objects.select_for_update(no_key=True, of=("self",))
        .select_related("street")
        .get(pk=base.pk)
    )


def _set_status(base: ServiceBase, status: str, reason: str, actor) -> ServiceBase:
    base.status = status
    base.status_reason = reason
    base._change_reason = f"{status}: {reason}"[:100]
    if actor is not None:
        base._history_user = actor
    base.save()
    return base


@service_transaction
def review_base(*, base: ServiceBase, approve: bool, reason: str = "", actor) -> ServiceBase:
    """First level: the street branch approves or rejects an application."""
    base = _locked_base(base)
    if not is_street_staff_for(actor, base.street):
        raise OrganisationError(_("Only staff of this base's street may review it."))
    if base.status != ServiceBase.Status.APPLIED:
        raise OrganisationError(_("This application is not waiting for the street's review."))
    if approve:
        return _set_status(base, ServiceBase.Status.STREET_APPROVED, reason, actor)
    if not reason.strip():
        raise OrganisationError(_("Please give a reason for the rejection."))
    return _set_status(base, ServiceBase.Status.REJECTED, reason, actor)


@service_transaction
def certify_base(*, base: ServiceBase, approve: bool = True, reason: str = "", actor):
    """Second level: head office certifies (or rejects) a street-approved base."""
    base = _locked_base(base)
    if not is_head_office_for(actor, base.street):
        raise OrganisationError(_("Only the district head office may certify a base."))
    if base.status != ServiceBase.Status.STREET_APPROVED:
        raise OrganisationError(_("The street branch has not approved this base yet."))
    if not approve:
        if not reason.strip():
            raise OrganisationError(_("Please give a reason for the rejection."))
        return _set_status(base, ServiceBase.Status.REJECTED, reason, actor)
    base.certified_at = timezone.now()
    base = _set_status(base, ServiceBase.Status.CERTIFIED, reason, actor)
    if base.applied_by_id:  # who applied for the base runs it: no superuser has to add them
        assign_staff_role(
            user=base.applied_by, role=StaffRole.Role.BASE_STAFF, branch=base.street, base=base
        )
    return base


@service_transaction
def suspend_base(*, base: ServiceBase, reason: str, actor) -> ServiceBase:
    base = _locked_base(base)
    if not (is_head_office_for(actor, base.street) or is_street_staff_for(actor, base.street)):
        raise OrganisationError(_("You may not suspend this base."))
    if not reason.strip():
        raise OrganisationError(_("Please give a reason for the suspension."))
    if base.status != ServiceBase.Status.CERTIFIED:
        raise OrganisationError(_("Only a certified base can be suspended."))
    return _set_status(base, ServiceBase.Status.SUSPENDED, reason, actor)


@service_transaction
def reinstate_base(*, base: ServiceBase, actor) -> ServiceBase:
    base = _locked_base(base)
    if not is_head_office_for(actor, base.street):
        raise OrganisationError(_("Only the district head office may reinstate a base."))
    if base.status != ServiceBase.Status.SUSPENDED:
        raise OrganisationError(_("This base is not suspended."))
    return _set_status(base, ServiceBase.Status.CERTIFIED, "", actor)
