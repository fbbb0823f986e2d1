"""Django admin permissions per staff role, kept in one Group per role.

Apps higher up the layers add their own models' permissions from their AppConfig.ready():
``branches.permissions.grant("street_staff", "orders.view_request", ...)``.
"""

from __future__ import annotations

ROLE_PERMISSIONS: dict[str, set[str]] = {
    "street_staff": {
        "accounts.view_user",
        "accounts.view_member",
        "accounts.change_member",
        "accounts.view_training",
        "accounts.add_training",
        "accounts.change_training",
        "accounts.view_insurance",
        "accounts.add_insurance",
        "accounts.change_insurance",
        "accounts.view_relative",
        "accounts.change_relative",
        "accounts.view_integrityrecord",
        "branches.view_branch",
        "branches.view_servicebase",
        "branches.change_servicebase",
    },
    "advisor": {
        "accounts.view_user",
        "accounts.view_member",
        "accounts.view_training",
        "accounts.view_insurance",
        "accounts.view_relative",
        "branches.view_branch",
        "branches.view_servicebase",
    },
    "head_office": {
        "accounts.view_user",
        "accounts.view_member",
        "accounts.change_member",
        "accounts.view_training",
        "accounts.add_training",
        "accounts.change_training",
        "accounts.view_insurance",
        "accounts.add_insurance",
        "accounts.change_insurance",
        "accounts.view_relative",
        "accounts.change_relative",
        "accounts.view_integrityrecord",
        "branches.view_branch",
        "branches.view_servicebase",
        "branches.change_servicebase",
        "branches.view_staffrole",
    },
    "official": {
        "accounts.view_member",
        "branches.view_branch",
        "branches.view_servicebase",
    },
    "base_staff": set(),
}
# Roles that work in Django admin (base staff work in the member site).
ADMIN_ROLES = {"street_staff", "advisor", "head_office", "official"}


def grant(role: str, *perms: str) -> None:
    ROLE_PERMISSIONS.setdefault(role, set()).update(perms)


def group_name(role: str) -> str:
    return f"role:{role}"
