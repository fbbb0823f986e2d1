"""Reads of the news centre, already scoped to who asks.

Readers: anonymous visitors see every published item (news is public); a member sees their
district's whole-district items and their own street's; staff see their streets' and
districts' items. A street's notice never reaches a member of another street.
Admin: head office and officials reach their district's items, street staff their own
street's items only (not the district-wide ones, which only head office writes).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Member
from branches.models import Branch, StaffRole
from news.models import News

Role = StaffRole.Role
STREET_READER_ROLES = (Role.STREET_STAFF, Role.ADVISOR, Role.BASE_STAFF)


@dataclass(frozen=True)
class StaffScope:
    """Where a staff member works with news, as branch ids."""

    head_districts: frozenset[int]  # head office: writes anything of these districts
    read_districts: frozenset[int]  # head office and officials: read these districts
    streets: frozenset[int]  # street staff: read and write these streets' items

    @property
    def writes(self) -> bool:
        return bool(self.head_districts or self.streets)

    def may_write(self, *, district_id: int | None, street_id: int | None) -> bool:
        if district_id in self.head_districts:
            return True
        return street_id is not None and street_id in self.streets

    def may_read(self, news: News) -> bool:
        return news.district_id in self.read_districts or news.street_id in self.streets


def staff_scope(user, rows: list[tuple[str, int]] | None = None) -> StaffScope:
    """The user's roles that matter for news: one query, or none given the role rows
    (role, branch id) the admin has read for the request already."""
    if user is None or not user.is_authenticated:
        return StaffScope(frozenset(), frozenset(), frozenset())
    if rows is None:
        rows = StaffRole.objects.filter(user=user).values_list("role", "branch_id")
    heads, reads, streets = set(), set(), set()
    for role, branch_id in rows:
        if role == Role.HEAD_OFFICE:
            heads.add(branch_id)
            reads.add(branch_id)
        elif role == Role.OFFICIAL:
            reads.add(branch_id)
        elif role == Role.STREET_STAFF:
            streets.add(branch_id)
    return StaffScope(frozenset(heads), frozenset(reads), frozenset(streets))


def news_for_admin(user, queryset: QuerySet[News] | None = None) -> QuerySet[News]:
    """The items a staff member sees in admin (superusers: all)."""
    queryset = News.objects.all() if queryset is None else queryset
    if user.is_superuser:
        return queryset
    scope = staff_scope(user)
    return queryset.filter(Q(district_id__in=scope.read_districts) | Q(street_id__in=scope.streets))


def published(queryset: QuerySet[News] | None = None) -> QuerySet[News]:
    queryset = News.objects.all() if queryset is None else queryset
    return queryset.filter(publish_at__lte=timezone.now(), withdrawn_at__isnull=True)


@dataclass(frozen=True)
class ReaderBranches:
    streets: frozenset[int]  # their own streets' items
    districts: frozenset[int]  # the whole-district items of these districts
    whole_districts: frozenset[int]  # every item of these (head office, officials)


def _reader_branches(user) -> ReaderBranches | None:
    """Where the reader belongs; None: no street or district of their own, so they read as
    the public does. Two queries."""
    streets: set[int] = set()
    districts: set[int] = set()
    whole: set[int] = set()
    for street_id, district_id in Member.objects.filter(user_id=user.pk).values_list(
        "street_id", "street__parent_id"
    ):
        streets.add(street_id)
        districts.add(district_id)
    roles = StaffRole.objects.filter(user_id=user.pk).values_list(
        "role", "branch_id", "branch__kind", "branch__parent_id"
    )
    for role, branch_id, kind, parent_id in roles:
        if kind == Branch.Kind.DISTRICT:
            whole.add(branch_id)  # head office and officials read their whole district
        elif role in STREET_READER_ROLES:
            streets.add(branch_id)
            districts.add(parent_id)
    if not (streets or districts or whole):
        return None
    return ReaderBranches(frozenset(streets), frozenset(districts), frozenset(whole))


def visible_news(user) -> QuerySet[News]:
    """Published items the reader may see, pinned first, then the newest."""
    queryset = published().select_related("district", "street").order_by(*News._meta.ordering)
    if user is None or not user.is_authenticated or user.is_superuser:
        return queryset
    reader = _reader_branches(user)
    if reader is None:
        return queryset
    return queryset.filter(
        Q(street__isnull=True, district_id__in=reader.districts)
        | Q(street_id__in=reader.streets)
        | Q(district_id__in=reader.whole_districts)
    )
