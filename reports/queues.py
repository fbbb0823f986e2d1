"""Staff work queues: what waits for this user's decision, with a count and a link.

Each queue is read through the admin page that lists it (``ModelAdmin.get_queryset``: the
same scope the list applies, so the count is the number of rows the link shows) and is
offered only to a user who may act on it there (the page's change or review permission, and
for the two levels of base approval the role that decides at that level, as the services
ask). The admin index shows them ("待办"); the staff homes import ``queues_for``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Member, Relative
from branches.adminutils import roles_of
from branches.models import ServiceBase, StaffRole
from ledger.models import Gift
from orders.models import HeadOfficeQueueRequest, StreetQueueRequest

# Past this a queue says "999+": counting stops there (a queue is a few hundred rows at most;
# a backlog of thousands needs no exact figure to be seen as one).
COUNT_CAP = 999


@dataclass(frozen=True)
class Queue:
    key: str
    label: str  # translated (zh-hans by default)
    count: int  # at most COUNT_CAP + 1; see ``more``
    url: str  # the admin list filtered to the waiting rows

    @property
    def more(self) -> bool:
        """True when there are more than COUNT_CAP: show ``count_text``, not the number."""
        return self.count > COUNT_CAP

    @property
    def count_text(self) -> str:
        return f"{COUNT_CAP}+" if self.more else str(self.count)


@dataclass(frozen=True)
class _Spec:
    key: str
    label: Callable[[], str]
    model: type
    waiting: dict  # the list filter of the waiting rows (also the URL's query)
    permission: str = "change"  # the admin permission that acts on the rows
    role: str = ""  # the role that decides at this level (superusers: any)


def _specs() -> list[_Spec]:
    Role = StaffRole.Role
    return [
        _Spec(
            "members",
            lambda: _("Registrations waiting for review"),
            Member,
            {"status__exact": Member.Status.APPLIED},
        ),
        _Spec(
            "relatives",
            lambda: _("Relatives waiting for confirmation"),
            Relative,
            {"status__exact": Relative.Status.PENDING},
        ),
        _Spec(
            "bases_street",
            lambda: _("Service bases waiting for the street branch"),
            ServiceBase,
            {"status__exact": ServiceBase.Status.APPLIED},
            role=Role.STREET_STAFF,
        ),
        _Spec(
            "bases_head_office",
            lambda: _("Service bases waiting for certification"),
            ServiceBase,
            {"status__exact": ServiceBase.Status.STREET_APPROVED},
            role=Role.HEAD_OFFICE,
        ),
        # The two need queues are their own pages, already only the waiting needs.
        _Spec(
            "street_queue", lambda: _("Needs waiting for the street branch"), StreetQueueRequest, {}
        ),
        _Spec(
            "head_office_queue",
            lambda: _("Needs waiting for the head office"),
            HeadOfficeQueueRequest,
            {},
        ),
        _Spec(
            "gifts",
            lambda: _("Gifts waiting for a decision"),
            Gift,
            {"status__exact": Gift.Status.PENDING},
            permission="review",
        ),
    ]


def _request_for(user) -> HttpRequest:
    request = HttpRequest()
    request.user = user
    return request


def _may_act(model_admin, request, spec: _Spec) -> bool:
    if not model_admin.has_view_permission(request):
        return False
    if not getattr(model_admin, f"has_{spec.permission}_permission")(request):
        return False
    return not spec.role or request.user.is_superuser or spec.role in roles_of(request)


def _waiting(model_admin, request, spec: _Spec) -> QuerySet:
    # ``status__exact`` in the URL is the same lookup as ``status`` here.
    where = {key.removesuffix("__exact"): value for key, value in spec.waiting.items()}
    return model_admin.get_queryset(request).filter(**where)


def _capped_count(queryset: QuerySet) -> int:
    return queryset.order_by()[: COUNT_CAP + 1].count()


def _url(model, waiting: dict) -> str:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    return f"{url}?{urlencode(waiting)}" if waiting else url


def queues_for(user, *, request: HttpRequest | None = None) -> list[Queue]:
    """The queues this user may work on, with their waiting counts (zero included).

    Pass the current ``request`` where there is one: the admin's per-request reads (roles,
    streets) are then shared with the rest of the page."""
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        return []
    if request is None or request.user != user:
        request = _request_for(user)
    queues = []
    for spec in _specs():
        model_admin = admin.site.get_model_admin(spec.model)
        if not _may_act(model_admin, request, spec):
            continue
        queues.append(
            Queue(
                key=spec.key,
                label=spec.label(),
                count=_capped_count(_waiting(model_admin, request, spec)),
                url=_url(spec.model, spec.waiting),
            )
        )
    return queues
