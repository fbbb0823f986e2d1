"""The table exports: members, needs with their approval trail, services with their hours,
and the coin movements of a period.

Each reads one ``values_list`` query (related names joined in, so no query per row) and
streams it with ``.iterator(chunk_size=...)``. Codes (status, role, kind) are turned into
their labels in the viewer's language as rows go out.
"""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from accounts.idnumbers import age_on
from accounts.models import Member
from ledger.models import Account, Transfer
from orders.models import Assignment, ServiceRequest
from reports.exports.base import Column, QuerysetExport, register


def category_name(name: str, name_en: str) -> str:
    """A category's name in the current language (as ``ServiceCategory.__str__``)."""
    if name_en and (get_language() or "").startswith("en"):
        return name_en
    return name


def _labels(choices) -> dict[str, str]:
    return {value: str(label) for value, label in choices}


@register
class MembersExport(QuerysetExport):
    """Everyone registered in the scope up to the end of the period, with their state now."""

    name = "members"
    title = _("Members")
    formats = ("csv", "xlsx")
    fields = (
        "user__full_name",
        "id_number_masked",
        "role",
        "status",
        "street__name",
        "sex",
        "birth_date",
        "created_at",
        "reviewed_at",
    )

    def columns(self) -> list[Column]:
        return [
            Column(_("Name")),
            Column(_("ID number")),
            Column(_("Registered as")),
            Column(_("Status")),
            Column(_("Street")),
            Column(_("Sex")),
            Column(_("Age"), "int"),
            Column(_("Registered at"), "datetime"),
            Column(_("Reviewed at"), "datetime"),
        ]

    def queryset(self) -> QuerySet:
        # At a base the scope reaches members through their services: one row per member.
        in_scope = Member.objects.filter(self.scope.members_q()).values("pk")
        return Member.objects.filter(pk__in=in_scope, created_at__lt=self.period.end_at).order_by(
            "street__name", "created_at", "pk"
        )

    def rows(self) -> Iterator[tuple]:
        self._roles = _labels(Member.Role.choices)
        self._statuses = _labels(Member.Status.choices)
        self._sexes = _labels(Member.Sex.choices)
        self._today = timezone.localdate()
        return super().rows()

    def row(self, values: tuple) -> tuple:
        name, masked, role, status, street, sex, birth, created, reviewed = values
        return (
            name,
            masked,
            self._roles.get(role, role),
            self._statuses.get(status, status),
            street,
            self._sexes.get(sex, sex),
            age_on(birth, self._today),
            created,
            reviewed,
        )


@register
class NeedsExport(QuerysetExport):
    """The needs posted in the period, each with who approved it at each step and when."""

    name = "needs"
    title = _("Needs and approvals")
    formats = ("csv", "xlsx")
    fields = (
        "pk",
        "title",
        "category__name",
        "category__name_en",
        "street__name",
        "base__name",
        "recipient__full_name",
        "recipient_name",
        "posted_by__full_name",
        "places",
        "filled",
        "status",
        "starts_at",
        "created_at",
        "submitted_at",
        "street_approved_at",
        "street_approved_by__full_name",
        "published_at",
        "published_by__full_name",
        "closed_at",
        "rejection_reason",
    )

    def columns(self) -> list[Column]:
        return [
            Column(_("Need no."), "int"),
            Column(_("Title")),
            Column(_("Category")),
            Column(_("Street")),
            Column(_("For (base or elder)")),
            Column(_("Posted by")),
            Column(_("Volunteers wanted"), "int"),
            Column(_("Places taken"), "int"),
            Column(_("Status")),
            Column(_("Service starts"), "datetime"),
            Column(_("Created at"), "datetime"),
            Column(_("Submitted at"), "datetime"),
            Column(_("Street approved at"), "datetime"),
            Column(_("Street approver")),
            Column(_("Published at"), "datetime"),
            Column(_("Head-office approver")),
            Column(_("Closed at"), "datetime"),
            Column(_("Reason for rejection")),
        ]

    def queryset(self) -> QuerySet:
        return ServiceRequest.objects.filter(
            self.scope.requests_q(),
            created_at__gte=self.period.start_at,
            created_at__lt=self.period.end_at,
        ).order_by("created_at", "pk")

    def rows(self) -> Iterator[tuple]:
        self._statuses = _labels(ServiceRequest.Status.choices)
        return super().rows()

    def row(self, values: tuple) -> tuple:
        (pk, title, cat, cat_en, street, base, recipient, recipient_name, poster, places) = values[
            :10
        ]
        filled, status, starts, created, submitted = values[10:15]
        street_at, street_by, published_at, published_by, closed, rejection = values[15:]
        return (
            pk,
            title,
            category_name(cat, cat_en),
            street,
            base or recipient or recipient_name,
            poster,
            places,
            filled,
            self._statuses.get(status, status),
            starts,
            created,
            submitted,
            street_at,
            street_by,
            published_at,
            published_by,
            closed,
            rejection,
        )


@register
class ServicesExport(QuerysetExport):
    """Every volunteer place taken on a need that starts in the period, with its hours."""

    name = "services"
    title = _("Service records")
    formats = ("csv", "xlsx")
    fields = (
        "request_id",
        "request__title",
        "request__category__name",
        "request__category__name_en",
        "request__street__name",
        "request__base__name",
        "volunteer__full_name",
        "request__starts_at",
        "signed_in_at",
        "signed_out_at",
        "confirmed_minutes",
        "status",
        "evaluation__rating",
    )

    def columns(self) -> list[Column]:
        return [
            Column(_("Need no."), "int"),
            Column(_("Need")),
            Column(_("Category")),
            Column(_("Street")),
            Column(_("Service base")),
            Column(_("Volunteer")),
            Column(_("Service date"), "date"),
            Column(_("Signed in at"), "datetime"),
            Column(_("Signed out at"), "datetime"),
            Column(_("Confirmed hours"), "hours"),
            Column(_("Status")),
            Column(_("Rating"), "int"),
        ]

    def queryset(self) -> QuerySet:
        return Assignment.objects.filter(
            self.scope.requests_q("request__"),
            request__starts_at__gte=self.period.start_at,
            request__starts_at__lt=self.period.end_at,
        ).order_by("request__starts_at", "request_id", "pk")

    def rows(self) -> Iterator[tuple]:
        self._statuses = _labels(Assignment.Status.choices)
        return super().rows()

    def row(self, values: tuple) -> tuple:
        pk, title, cat, cat_en, street, base, volunteer, starts = values[:8]
        signed_in, signed_out, minutes, status, rating = values[8:]
        return (
            pk,
            title,
            category_name(cat, cat_en),
            street,
            base or "",
            volunteer,
            timezone.localdate(starts),
            signed_in,
            signed_out,
            minutes,
            self._statuses.get(status, status),
            rating,
        )


def _side(prefix: str) -> tuple[str, ...]:
    return (
        f"{prefix}__kind",
        f"{prefix}__user__full_name",
        f"{prefix}__base__name",
        f"{prefix}__system_role",
    )


@register
class CoinMovementsExport(QuerysetExport):
    """Coins that moved in the period into or out of an account in the scope (holds that
    were never posted moved nothing and are left out)."""

    name = "coins"
    title = _("Coin movements")
    formats = ("csv", "xlsx")
    fields = (
        "created_at",
        "code",
        *_side("debit_account"),
        *_side("credit_account"),
        "amount",
        "memo",
    )

    def columns(self) -> list[Column]:
        return [
            Column(_("Time"), "datetime"),
            Column(_("Kind")),
            Column(_("From account")),
            Column(_("To account")),
            Column(_("Hours"), "hours"),
            Column(_("Memo")),
        ]

    def queryset(self) -> QuerySet:
        accounts = Account.objects.filter(self.scope.accounts_q()).values("pk")
        return Transfer.objects.filter(
            Q(debit_account__in=accounts) | Q(credit_account__in=accounts),
            kind__in=[Transfer.Kind.SINGLE, Transfer.Kind.POST],
            created_at__gte=self.period.start_at,
            created_at__lt=self.period.end_at,
        ).order_by("created_at", "id")

    def rows(self) -> Iterator[tuple]:
        self._codes = _labels(Transfer.Code.choices)
        self._roles = _labels(Account.SystemRole.choices)
        return super().rows()

    def _owner(self, kind: str, user: str | None, base: str | None, role: str) -> str:
        if kind == Account.Kind.MEMBER:
            return user or ""
        if kind == Account.Kind.BASE:
            return base or ""
        return self._roles.get(role, role)

    def row(self, values: tuple) -> tuple:
        at, code = values[:2]
        debit, credit = values[2:6], values[6:10]
        amount, memo = values[10:]
        return (
            at,
            self._codes.get(code, code),
            self._owner(*debit),
            self._owner(*credit),
            amount,
            memo,
        )
