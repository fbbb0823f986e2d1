"""Whose figures a report shows: one place for who sees what (issue 11, "Who sees what").

District officials and head office see their district and may narrow it to a street, a base
or a category; street staff and advisors see their street (and may narrow to a base of it);
base staff see their base. A parameter naming anything outside the viewer's reach is refused
with ``PermissionDenied``, never silently widened or ignored. Every figure, chart, export and
drill-down filters through a ``Scope``'s ``*_q`` methods, so the rule is written once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404

from branches.models import Branch, ServiceBase, StaffRole
from orders.models import ServiceCategory

Role = StaffRole.Role
LEVELS = ("district", "street", "base")


@dataclass(frozen=True)
class Scope:
    reach: str  # the widest the viewer may see: "district", "street" or "base"
    district: Branch
    street: Branch | None = None
    base: ServiceBase | None = None
    category: ServiceCategory | None = None

    @property
    def level(self) -> str:
        """What the figures cover now: "district", "street" or "base"."""
        return "base" if self.base else "street" if self.street else "district"

    @property
    def label(self) -> str:
        """``虹桥街道 · 陪同就医``: the place, and the category when narrowed to one."""
        place = self.base or self.street or self.district
        return f"{place} · {self.category}" if self.category else str(place)

    def query(self) -> dict[str, str]:
        """The narrowing as query-string parameters (empty at the viewer's own reach)."""
        out = {}
        if self.street and self.reach == "district":
            out["street"] = str(self.street.pk)
        if self.base and self.reach != "base":
            out["base"] = str(self.base.pk)
        if self.category:
            out["category"] = str(self.category.pk)
        return out

    # Filters, one per model a report reads. ``prefix`` reaches the model through a relation,
    # e.g. ``scope.requests_q("request__")`` on assignments.
    @cached_property
    def street_ids(self) -> list[int]:
        """The district's streets as ids: filtering on a list of ids (not on the streets'
        parent through a join) lets PostgreSQL estimate a district's share of a table and
        start from the period's index; with the join it guessed one street in 200 rows."""
        ids = Branch.objects.filter(parent=self.district, kind=Branch.Kind.STREET).values_list(
            "pk", flat=True
        )
        # A district without streets matches nothing: [0] (no row has id 0), since an empty
        # list cannot be written as SQL where the reports compile a queryset to text.
        return list(ids) or [0]

    def requests_q(self, prefix: str = "") -> Q:
        """Service needs posted in the scope (and of its category)."""
        if self.base:
            q = Q(**{f"{prefix}base": self.base})
        elif self.street:
            q = Q(**{f"{prefix}street": self.street})
        else:
            q = Q(**{f"{prefix}street_id__in": self.street_ids})
        if self.category:
            q &= Q(**{f"{prefix}category": self.category})
        return q

    def members_q(self, prefix: str = "") -> Q:
        """Members registered in the scope's streets; at a base, the volunteers who have
        served or hold a place there (a base has no members of its own)."""
        if self.base:
            return Q(**{f"{prefix}user__assignments__request__base": self.base})
        if self.street:
            return Q(**{f"{prefix}street": self.street})
        return Q(**{f"{prefix}street_id__in": self.street_ids})

    def accounts_q(self, prefix: str = "") -> Q:
        """Coin accounts in the scope: members' and bases' (and, for the whole district, the
        district's own system accounts: grant pool, escrow, donation and exchange)."""
        if self.base:
            return Q(**{f"{prefix}base": self.base})
        if self.street:
            return Q(**{f"{prefix}user__member__street": self.street}) | Q(
                **{f"{prefix}base__street": self.street}
            )
        return (
            Q(**{f"{prefix}user__member__street_id__in": self.street_ids})
            | Q(**{f"{prefix}base__street_id__in": self.street_ids})
            | Q(**{f"{prefix}district": self.district})
        )

    def streets(self):
        """The streets this scope covers (one, or the district's)."""
        if self.street:
            return Branch.objects.filter(pk=self.street.pk)
        return Branch.objects.filter(parent=self.district, kind=Branch.Kind.STREET).order_by("name")

    def bases(self):
        """The bases a viewer at this scope may narrow to."""
        if self.base:
            return ServiceBase.objects.filter(pk=self.base.pk)
        if self.street:
            return ServiceBase.objects.filter(street=self.street).order_by("name")
        return ServiceBase.objects.filter(street__parent=self.district).order_by("name")


def viewer_scope(user) -> Scope:
    """The widest scope ``user`` may read reports at; ``PermissionDenied`` for members and
    anyone without a staff role. District roles come first, then street roles, then bases."""
    if not (user and user.is_authenticated):
        raise PermissionDenied
    roles = list(
        StaffRole.objects.filter(user=user).select_related("branch", "base", "base__street")
    )
    for role in roles:
        if role.role in (Role.HEAD_OFFICE, Role.OFFICIAL) and role.branch.kind == "district":
            return Scope("district", role.branch)
    for role in roles:
        if role.role in (Role.STREET_STAFF, Role.ADVISOR) and role.branch.kind == "street":
            return Scope("street", role.branch.parent, street=role.branch)
    for role in roles:
        if role.role == Role.BASE_STAFF and role.base_id:
            base = role.base
            return Scope("base", base.street.parent, street=base.street, base=base)
    if user.is_superuser:
        district = Branch.objects.filter(kind=Branch.Kind.DISTRICT).order_by("pk").first()
        if district is not None:
            return Scope("district", district)
    raise PermissionDenied


def _number(params, name: str) -> int | None:
    value = (params.get(name) or "").strip()
    if not value:
        return None
    if not value.isascii() or not value.isdigit():
        raise Http404
    return int(value)


def scope_for(user, params) -> Scope:
    """The viewer's scope narrowed by ``params`` (``street``, ``base``, ``category``: ids from
    the query string). Naming a street or base outside the viewer's reach is refused."""
    scope = viewer_scope(user)
    street_id, base_id = _number(params, "street"), _number(params, "base")
    category_id = _number(params, "category")
    street, base = scope.street, scope.base
    if street_id is not None and street_id != getattr(street, "pk", None):
        if scope.reach != "district":
            raise PermissionDenied
        street = Branch.objects.filter(
            pk=street_id, parent=scope.district, kind=Branch.Kind.STREET
        ).first()
        if street is None:
            raise PermissionDenied
    if base_id is not None and base_id != getattr(base, "pk", None):
        if scope.reach == "base":
            raise PermissionDenied
        where = Q(street=street) if street else Q(street__parent=scope.district)
        base = ServiceBase.objects.filter(where, pk=base_id).select_related("street").first()
        if base is None:
            raise PermissionDenied
        street = base.street
    category = None
    if category_id is not None:
        category = ServiceCategory.objects.filter(pk=category_id).first()
        if category is None:
            raise Http404
    return Scope(scope.reach, scope.district, street=street, base=base, category=category)
