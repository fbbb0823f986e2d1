import logging

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from timebank.celery import app as celery_app

log = logging.getLogger(__name__)


# The next few of each list: one phone screen answers "what do I do now"; the rest are a
# link away. Every read is bounded, so the page costs the same whatever the years of data.
HOME_SHOWN = 3


@require_safe
def home(request):
    """What's next for this person: the volunteer's next service and new needs, the elder's
    or family's services and what waits for them, a base's volunteers to confirm, staff
    queues. Anonymous visitors see the welcome page."""
    from accounts.selectors import member_of
    from branches.selectors import staff_roles
    from exchange.selectors import points_staffed_by

    user = request.user
    if not user.is_authenticated:
        return render(request, "home.html", {})
    member = member_of(user)
    roles = set(staff_roles(user).values_list("role", flat=True))
    context = {
        # A pickup point's clerk has no other way in: the counter page is their first step.
        "at_counter": points_staffed_by(user).exists(),
        "member": member,
        **_volunteer_home(user, member),
        **_recipient_home(user, member),
        **_base_home(user, roles),
        **_staff_home(request, roles),
    }
    return render(request, "home.html", context)


def _volunteer_home(user, member) -> dict:
    from orders import hall, selectors

    if member is None or not member.may_provide:
        return {}
    booked = list(selectors.live_assignments_of(user)[:HOME_SHOWN])
    new_needs = []
    if member.is_verified:
        # The hall's first page (shared and cached), their own street's needs first.
        mine = {a.request_id for a in booked}
        needs = [req for req in hall.page().needs if req.pk not in mine]
        needs.sort(key=lambda req: req.street_id != member.street_id)  # stable: soonest kept
        new_needs = needs[:HOME_SHOWN]
    return {"is_volunteer": True, "booked": booked, "new_needs": new_needs}


def _recipient_home(user, member) -> dict:
    from accounts.models import Member
    from orders import selectors

    if member is None or not (member.may_receive or member.role == Member.Role.FAMILY):
        return {}
    cared_for = selectors.cared_for_ids(user)
    return {
        "is_recipient": True,
        "is_family": member.role == Member.Role.FAMILY,
        "upcoming": selectors.upcoming_services_for(user, limit=HOME_SHOWN, cared_for=cared_for),
        "awaiting": selectors.services_awaiting_recipient(
            user, limit=HOME_SHOWN, cared_for=cared_for
        ),
    }


def _base_home(user, roles: set) -> dict:
    from branches.models import StaffRole
    from orders import selectors

    if StaffRole.Role.BASE_STAFF not in roles:
        return {}
    return {"is_base_staff": True, "base": selectors.base_work(user, limit=HOME_SHOWN)}


def _staff_home(request, roles: set) -> dict:
    from branches.models import StaffRole
    from reports.queues import queues_for

    Role = StaffRole.Role
    works = roles & {Role.STREET_STAFF, Role.ADVISOR, Role.HEAD_OFFICE}
    if not (works or request.user.is_superuser or Role.OFFICIAL in roles):
        return {}
    office = bool(works) or request.user.is_superuser
    return {
        "is_office_staff": office,
        "is_official": Role.OFFICIAL in roles,
        "queues": queues_for(request.user, request=request) if office else [],
    }


@require_safe
def favicon(request):
    # Browsers ask for /favicon.ico on pages (the admin's) that do not name an icon.
    return redirect(static("favicon.svg"), permanent=True)


def _check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def _check_cache() -> str:
    cache.set("healthz", "1", timeout=10)
    if cache.get("healthz") != "1":
        raise RuntimeError("cache did not return what was stored")
    return "ok"


def _check_broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "eager"  # no broker configured: tasks run in the web process
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return "ok"


CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}


@never_cache
@require_safe
def healthz(request):
    report, healthy = {}, True
    for name, check in CHECKS.items():
        try:
            report[name] = check()
        except Exception as exc:  # any failure means "down", and the reason is reported
            log.warning("healthz: %s is down: %s", name, exc)
            report[name] = f"down: {exc.__class__.__name__}"
            healthy = False
    report["status"] = "ok" if healthy else "down"
    return JsonResponse(report, status=200 if healthy else 503)
