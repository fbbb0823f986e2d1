"""Phone pages for volunteers, bases, advisors, elders and families. Thin: services decide."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.models import Branch
from orders import closing_reads, hall, selectors, services
from orders.closing_reads import duration_text
from orders.forms import (
    CompleteForm,
    EvaluationForm,
    LocationFields,
    NeedFilterForm,
    NeedForm,
    OptionalReasonForm,
    ReasonForm,
    SignInForm,
)
from orders.models import Assignment, Evaluation, ServiceRequest, SignRecord
from orders.services import OrderError
from orders.templatetags.orders_tags import stars
from timebank.policy import get_policy
from timebank.qr import qr_svg

AStatus = Assignment.Status


def _request_for(user, pk: int) -> ServiceRequest:
    return get_object_or_404(selectors.requests_visible_to(user), pk=pk)


def _assignment(pk: int) -> Assignment:
    return get_object_or_404(
        Assignment.objects.select_related("request", "request__street", "request__base"), pk=pk
    )


# How much of each section /orders/ shows: the page costs the same after years of service.
LIVE_SHOWN = 50
DONE_SHOWN = 20
TO_CONFIRM_SHOWN = 20
POSTED_SHOWN = 30


@login_required
def my_orders(request):
    """我的订单: a volunteer's upcoming, today's and done services; what others must act on."""
    user = request.user
    today = timezone.localdate()
    live = list(selectors.live_assignments_of(user)[:LIVE_SHOWN])
    to_confirm = list(selectors.assignments_to_confirm(user, limit=TO_CONFIRM_SHOWN))
    context = {
        "today": [a for a in live if timezone.localdate(a.request.starts_at) <= today],
        "upcoming": [a for a in live if timezone.localdate(a.request.starts_at) > today],
        "done": list(selectors.ended_assignments_of(user, limit=DONE_SHOWN)),
        "to_confirm": to_confirm,
        "rate_ids": closing_reads.rateable_ids(user, to_confirm),
        "posted": list(selectors.requests_posted_for(user, limit=POSTED_SHOWN)),
        "may_post": NeedForm(user=user).poster != "elder" or _elder_may_post(user),
        **_grab_context(user),
    }
    return render(request, "orders/my_orders.html", context)


def _elder_may_post(user) -> bool:
    from timebank.policy import get_policy

    member = getattr(user, "member", None)
    return "elder" in get_policy().posters and member is not None and member.may_receive


@login_required
def available(request):
    """Published needs with open places, a page at a time: filter by street, category, date;
    nearest first given a location. "More" pages on from the last need shown."""
    filters = NeedFilterForm(request.GET)
    chosen = filters.chosen()
    cursor = chosen.pop("after", "")
    query = {name: str(value) for name, value in chosen.items()}
    near = hall.rounded(filters.near())
    found = hall.read(
        request,
        cursor=cursor,
        shared=not len(messages.get_messages(request)),
        street_id=chosen.get("street"),
        category_id=chosen.get("category"),
        day=chosen.get("day"),
        near=near,
    )
    if found.html:
        return HttpResponse(found.html)
    page = found.page
    context = {
        "streets": Branch.objects.filter(kind=Branch.Kind.STREET).order_by("name"),
        "categories": selectors.active_categories(),
        # The rounded place the hall was sorted by: a shared page never carries another
        # volunteer's exact location.
        "filters": {**query, **({"lat": near[0], "lng": near[1]} if near else {})},
        "needs": page.needs,
        "later": page.later,
        "grab": not found.problems,
        "problems": found.problems,
        **_hall_links(query, page),
    }
    return hall.draw(request, found, context)


def _hall_links(query: dict, page: hall.HallPage) -> dict:
    """更多 and 回到第一页, each with the filters chosen."""
    following = {**query, "after": page.next_cursor}
    return {
        "next_url": f"?{urlencode(following)}" if page.next_cursor else "",
        "first_url": f"?{urlencode(query)}" if page.later else "",
    }


def _provider_problems(user) -> list[str]:
    from accounts.selectors import provider_problems

    return provider_problems(user)


def _grab_context(user) -> dict:
    """Grab buttons are for volunteers only; one who may not grab yet sees the first reason."""
    from accounts.selectors import member_of

    member = member_of(user)
    if member is None or not member.may_provide:
        return {"is_volunteer": False, "grab_problem": ""}
    problems = _provider_problems(user)
    return {"is_volunteer": True, "grab_problem": problems[0] if problems else ""}


@login_required
def detail(request, pk: int):
    req = _request_for(request.user, pk)
    user = request.user
    assignments = list(
        req.assignments.select_related(
            "volunteer", "place", "evaluation__author", "evaluation__on_behalf_of"
        ).order_by("pk")
    )
    manage = selectors.may_manage_request(user, req)
    role = selectors.completion_role(user, req)
    rights = selectors.rating_rights(user)
    may_evaluate = selectors.may_evaluate(user, req, rights=rights)
    rate_ids = (
        closing_reads.rateable_ids(user, assignments, rights=rights) if may_evaluate else set()
    )
    # 服务对象 only for a named person, not the base's name a second time.
    recipient = req.recipient_display if (req.recipient_id or req.recipient_name) else ""
    if req.base_id and recipient == str(req.base):
        recipient = ""
    context = {
        "req": req,
        "recipient": recipient,
        "mine": next((a for a in assignments if a.volunteer_id == user.pk), None),
        "manage": manage,
        "assignments": assignments if manage or role else [],
        # Rating buttons only where the rate page lets this user in (one check, one place).
        "rate_ids": rate_ids,
        # What one who neither manages nor confirms may rate, or has rated (an elder whose
        # base confirms, say).
        "to_rate": [a for a in assignments if a.pk in rate_ids],
        "rated": [a for a in assignments if hasattr(a, "evaluation")] if may_evaluate else [],
        "completion_role": role,
        "may_evaluate": may_evaluate,
        "may_edit": req.status == ServiceRequest.Status.DRAFT
        and selectors.may_edit_draft(user, req),
        "reason_form": ReasonForm(),
        **_grab_context(user),
    }
    return render(request, "orders/detail.html", context)


@login_required
@require_POST
def grab(request, pk: int):
    version, kept = hall.kept_refusal(pk)  # in a storm most grabs end here: the need is full
    if kept:
        return _refused(request, pk, *kept)
    # What a refusal reads, and no more.
    fields = ("title", "status", "starts_at", "filled", "places")
    req = get_object_or_404(
        ServiceRequest.objects.only(*fields), pk=pk, status=ServiceRequest.Status.PUBLISHED
    )
    refusal = services.grab_refusal(req)  # full or closed: answered without a transaction
    if refusal:
        html = render_to_string("orders/_grab_result.html", {"req": req, "error": refusal})
        hall.keep_refusal(pk, version, html, refusal)
        return _refused(request, pk, html, refusal)
    try:
        assignment = services.grab_place(service_request=req, volunteer=request.user)
    except OrderError as exc:  # this volunteer's own reason, or a race lost: not kept
        html = render_to_string("orders/_grab_result.html", {"req": req, "error": exc.message})
        return _refused(request, pk, html, exc.message)
    text = _("You have a place. The poster will confirm you.")
    if assignment.status == AStatus.CONFIRMED:
        text = _("You have a place, and it is confirmed.")
    if request.htmx:
        return render(request, "orders/_grab_result.html", {"req": req, "ok": text})
    messages.success(request, text)
    return redirect("orders:mine")


def _refused(request, pk: int, html: str, message: str) -> HttpResponse:
    if request.htmx:
        return HttpResponse(html)
    messages.error(request, message)
    return redirect("orders:detail", pk=pk)


@login_required
def post_need(request):
    form = NeedForm(request.POST or None, user=request.user)
    if form.poster == "elder" and not _elder_may_post(request.user):
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        try:
            req = services.post_request(actor=request.user, **form.service_kwargs())
        except OrderError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Posted. The street branch will review it."))
            return redirect("orders:detail", pk=req.pk)
    return render(request, "orders/post_need.html", {"form": form})


@login_required
def edit_need(request, pk: int):
    """Correct a draft (e.g. one returned with a rejection) and send it again."""
    req = _request_for(request.user, pk)
    if not selectors.may_edit_draft(request.user, req):
        raise Http404
    if req.status != "draft":
        raise PermissionDenied
    form = NeedForm(request.POST or None, user=request.user, editing=req)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_draft(service_request=req, actor=request.user, **form.service_kwargs())
        except OrderError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Sent to the street branch again."))
            return redirect("orders:detail", pk=req.pk)
    return render(request, "orders/post_need.html", {"form": form, "editing": req})


@login_required
@require_POST
def submit_need(request, pk: int):
    req = _request_for(request.user, pk)
    _call(
        request,
        services.submit_request,
        service_request=req,
        actor=request.user,
        ok=_("Sent to the street branch again."),
    )
    return redirect("orders:detail", pk=pk)


@login_required
@require_POST
def cancel_need(request, pk: int):
    req = _request_for(request.user, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        _refuse(request, form)
        return redirect("orders:detail", pk=pk)
    _call(
        request,
        services.cancel_request,
        service_request=req,
        actor=request.user,
        reason=form.cleaned_data["reason"],
        ok=_("The need is cancelled; all coins are freed."),
    )
    return redirect("orders:detail", pk=pk)


def _refuse(request, form) -> None:
    """A refused one-field form on a page that only redirects: its message, as a message."""
    messages.error(request, next(iter(form.errors.values()))[0])


def _call_with_reason(request, fn, *, ok: str, **kwargs) -> bool:
    """``_call`` with the optional reason the page posted, once its form accepts it."""
    form = OptionalReasonForm(request.POST)
    if not form.is_valid():
        _refuse(request, form)
        return False
    return _call(request, fn, ok=ok, reason=form.cleaned_data["reason"], **kwargs)


def _call(request, fn, *, ok: str, **kwargs) -> bool:
    try:
        fn(**kwargs)
    except OrderError as exc:
        messages.error(request, exc.message)
        return False
    messages.success(request, ok)
    return True


@login_required
def card(request, pk: int):
    """The sign-in card: QR code and short code, for the base's screen or the elder's wall."""
    req = _request_for(request.user, pk)
    if not selectors.may_see_checkin_card(request.user, req):
        raise Http404
    if not req.checkin_code:
        raise PermissionDenied
    url = request.build_absolute_uri(reverse("orders:checkin") + f"?code={req.checkin_code}")
    return render(request, "orders/card.html", {"req": req, "qr_svg": qr_svg(url), "url": url})


@login_required
def checkin(request):
    """签到: type the short code, or arrive here by scanning the QR code (code in the URL)."""
    initial = {"code": request.GET.get("code", ""), "method": "qr" if "code" in request.GET else ""}
    form = SignInForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        assignment = selectors.assignment_for_code(request.user, code)
        if assignment is None:
            form.add_error(
                "code",
                _("No service of yours uses this sign-in code. Please check it and try again."),
            )
        else:
            method = (
                SignRecord.Method.QR
                if form.cleaned_data["method"] == "qr"
                else SignRecord.Method.CODE
            )
            try:
                services.sign_in(
                    assignment=assignment,
                    actor=request.user,
                    code=code,
                    method=method,
                    **form.location(),
                )
            except OrderError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Signed in. Thank you for coming!"))
                return redirect("orders:mine")
    return render(request, "orders/checkin.html", {"form": form})


@login_required
def sign_out(request, pk: int):
    """签退, in two steps: the page shows the duration about to be recorded, the confirm button
    records it. A second tap (or a reload) finds the service signed out and says so."""
    assignment = _assignment(pk)
    if assignment.volunteer_id != request.user.pk:
        raise PermissionDenied
    if assignment.status != AStatus.SIGNED_IN:
        return _signed_out_already(request, assignment)
    if request.method != "POST":
        minutes = closing_reads.signed_in_minutes(assignment)
        context = {"a": assignment, "req": assignment.request, "duration": duration_text(minutes)}
        return render(request, "orders/sign_out.html", context)
    form = LocationFields(request.POST)
    location = form.location() if form.is_valid() else {}
    try:
        done = services.sign_out(assignment=assignment, actor=request.user, **location)
    except OrderError as exc:
        assignment.refresh_from_db()
        if assignment.status != AStatus.SIGNED_IN:  # the other tap won
            return _signed_out_already(request, assignment)
        messages.error(request, exc.message)
        return redirect("orders:mine")
    messages.success(
        request,
        _("Signed out. %(duration)s recorded; the service now waits for confirmation.")
        % {"duration": duration_text(done.actual_minutes)},
    )
    return redirect("orders:mine")


def _signed_out_already(request, assignment: Assignment):
    if assignment.signed_out_at is not None:
        messages.info(
            request,
            _("You have already signed out of this service (%(duration)s recorded).")
            % {"duration": duration_text(closing_reads.signed_in_minutes(assignment))},
        )
    else:
        messages.error(request, _("You have not signed in to this service."))
    return redirect("orders:mine")


@login_required
@require_POST
def cancel_place(request, pk: int):
    assignment = _assignment(pk)
    _call_with_reason(
        request,
        services.cancel_assignment,
        assignment=assignment,
        actor=request.user,
        ok=_("Your place is cancelled."),
    )
    if assignment.volunteer_id == request.user.pk:
        return redirect("orders:mine")
    return redirect("orders:detail", pk=assignment.request_id)


@login_required
@require_POST
def confirm_place(request, pk: int):
    assignment = _assignment(pk)
    _call(
        request,
        services.confirm_assignment,
        assignment=assignment,
        actor=request.user,
        ok=_("Volunteer confirmed."),
    )
    return redirect("orders:detail", pk=assignment.request_id)


@login_required
@require_POST
def decline_place(request, pk: int):
    assignment = _assignment(pk)
    _call_with_reason(
        request,
        services.decline_assignment,
        assignment=assignment,
        actor=request.user,
        ok=_("Volunteer declined; the place is open again."),
    )
    return redirect("orders:detail", pk=assignment.request_id)


@login_required
def complete(request, pk: int):
    """确认完成: the base, the elder, family or staff confirm the hours, seeing the signed-in
    time beside the agreed one."""
    assignment = _assignment(pk)
    req = assignment.request
    if selectors.completion_role(request.user, req, assignment=assignment) is None:
        raise PermissionDenied
    actual = closing_reads.signed_in_minutes(assignment)
    form = CompleteForm(request.POST or None, agreed=req.duration_minutes, actual=actual)
    if request.method == "POST" and form.is_valid():
        try:
            services.complete_assignment(
                assignment=assignment,
                actor=request.user,
                minutes=form.cleaned_data["minutes"],
                gap_confirmed=form.cleaned_data["gap_confirmed"],
            )
        except services.CreditGapError as exc:
            form.add_error("gap_confirmed", exc.message)
        except OrderError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Confirmed. The time coins have moved."))
            return redirect("orders:detail", pk=req.pk)
    agreed = req.duration_minutes
    context = {
        "form": form,
        "assignment": assignment,
        "req": req,
        "agreed": duration_text(agreed),
        "actual": None if actual is None else duration_text(actual),
        "still_signed_in": assignment.signed_out_at is None,
        "unit": duration_text(get_policy().credit_unit_minutes),
        "far_at_best": closing_reads.credit_gap_is_far(
            credited=form.fields["minutes"].initial, actual=actual, agreed=agreed
        ),
    }
    return render(request, "orders/complete.html", context)


@login_required
def rate(request, pk: int):
    """评论、签名: rating, comment and an optional finger signature."""
    assignment = _assignment(pk)
    req = assignment.request
    if not selectors.may_evaluate(request.user, req, assignment=assignment):
        raise PermissionDenied
    evaluation = Evaluation.objects.filter(assignment=assignment).first()
    if evaluation is not None:  # rated already: show it, read-only
        return render(
            request,
            "orders/rate.html",
            {"evaluation": evaluation, "assignment": assignment, "req": req},
        )
    form = EvaluationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.evaluate_assignment(
                assignment=assignment, actor=request.user, **form.cleaned_data
            )
        except OrderError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Thank you for your rating. It is saved: %(stars)s")
                % {"stars": stars(saved.rating)},
            )
            return redirect("orders:detail", pk=req.pk)
    # Staff or family rating for the elder see whom they rate for (the record says so too).
    for_elder = req.recipient if req.recipient_id != request.user.pk else None
    context = {"form": form, "assignment": assignment, "req": req, "for_elder": for_elder}
    return render(request, "orders/rate.html", context)


@login_required
def signature(request, pk: int):
    """The stored signature image, for those who may see the service."""
    assignment = _assignment(pk)
    req = assignment.request
    user = request.user
    if not (
        user.pk == assignment.volunteer_id
        or selectors.may_manage_request(user, req)
        or selectors.completion_role(user, req)
        or selectors.may_evaluate(user, req)
    ):
        raise PermissionDenied
    evaluation = getattr(assignment, "evaluation", None)
    if evaluation is None or not evaluation.signature:
        raise PermissionDenied
    with evaluation.signature.open("rb") as fh:
        return HttpResponse(fh.read(), content_type="image/png")
