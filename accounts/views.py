import time

from allauth.account.authentication import get_authentication_records
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import ElderOnBehalfForm, RegistrationForm, RelativeForm
from accounts.models import Member, Relative
from accounts.selectors import member_of, members_visible_to, provider_problems
from accounts.wechat_mp.selectors import wechat_binding
from branches.models import Branch, StaffRole
from branches.private_files import private_file_response
from branches.selectors import staff_roles
from notices.selectors import channel_settings


def _form_error(form, exc: services.AccountsError) -> None:
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def _missing_steps(member: Member | None, user) -> list[str]:
    if member is None:
        return [_("Register with your real name.")]
    if member.may_provide:
        return provider_problems(user)
    if member.status == Member.Status.APPLIED:
        return [_("Your real-name registration has not been approved yet.")]
    return []


def _work_places(user, roles: list[StaffRole]) -> list[tuple[str, str]]:
    """Where a staff member does their work, as (label, url), each place once."""
    kinds = {role.role for role in roles}
    places = []
    if user.is_staff:
        places.append((_("Management (admin)"), reverse("admin:index")))
    if kinds & {StaffRole.Role.ADVISOR, StaffRole.Role.STREET_STAFF}:
        places.append((_("Register an elder on their behalf"), reverse("accounts:register_elder")))
        places.append((_("Messages of the elders you serve"), reverse("notices:advised")))
    if StaffRole.Role.BASE_STAFF in kinds:
        places.append((_("Service orders"), reverse("orders:mine")))
        places.append((_("Service bases"), reverse("branches:bases")))
    return places


@login_required
def profile(request):
    member = member_of(request.user)
    if member is not None:
        member.user = request.user  # the page shows the member's name and phone: no second read
    relatives = Relative.objects.filter(member=member).select_related("relative") if member else []
    roles = list(staff_roles(request.user).order_by("role", "branch__name"))
    context = {
        "member": member,
        # Staff without a membership are not asked to register as members.
        "missing": _missing_steps(member, request.user) if member or not roles else [],
        "trainings": member.trainings.all() if member else [],
        "insurances": member.insurances.all() if member else [],
        "relatives": relatives,
        "staff_roles": roles,
        "work_places": _work_places(request.user, roles) if roles else [],
        "message_channels": channel_settings(request.user),
        **wechat_binding(request),
    }
    return render(request, "accounts/profile.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def register(request):
    if member_of(request.user) is not None:
        messages.info(request, _("You have already registered."))
        return redirect("accounts:profile")
    form = RegistrationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.register_member(
                user=request.user,
                role=data["role"],
                street=data["street"],
                full_name=data["full_name"],
                id_number=data["id_number"],
                emergency_contact_name=data["emergency_contact_name"],
                emergency_contact_phone=data["emergency_contact_phone"],
                assessment_level=data["assessment_level"],
                guardian_name=data["guardian_name"],
                guardian_phone=data["guardian_phone"],
                id_document_front=data["id_document_front"],
                id_document_back=data["id_document_back"],
            )
        except services.AccountsError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request, _("Thank you. Your street branch will review your registration.")
            )
            return redirect("accounts:profile")
    return render(request, "accounts/register.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def register_elder(request):
    streets = [
        role.branch
        for role in staff_roles(request.user).filter(
            role__in=(StaffRole.Role.ADVISOR, StaffRole.Role.STREET_STAFF)
        )
    ]
    if not streets:
        raise PermissionDenied
    street_qs = Branch.objects.filter(pk__in=[s.pk for s in streets])
    form = ElderOnBehalfForm(request.POST or None, request.FILES or None, streets=street_qs)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            member = services.register_elder_on_behalf(
                actor=request.user,
                street=data["street"],
                full_name=data["full_name"],
                id_number=data["id_number"],
                assessment_level=data["assessment_level"],
                phone=data["phone"],
                emergency_contact_name=data["emergency_contact_name"],
                emergency_contact_phone=data["emergency_contact_phone"],
                id_document_front=data["id_document_front"],
                id_document_back=data["id_document_back"],
            )
        except services.AccountsError as exc:
            _form_error(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s is registered and waits for review.") % {"name": member.user},
            )
            return redirect("accounts:register_elder")
    return render(request, "accounts/register_elder.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def relatives(request):
    member = member_of(request.user)
    if member is None:
        return redirect("accounts:register")
    form = RelativeForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.link_relative(
                member=member,
                relative_phone=data["relative_phone"],
                relation=data["relation"],
                proof=data["proof"],
                actor=request.user,
            )
        except services.AccountsError as exc:
            _form_error(form, exc)
        else:
            # The same answer whether or not the number is registered (no account enumeration).
            messages.success(
                request,
                _(
                    "Your request is recorded. If this number belongs to a registered user, "
                    "your street branch will check the proof and confirm the link."
                ),
            )
            return redirect("accounts:relatives")
    links = Relative.objects.filter(member=member).select_related("relative")
    return render(request, "accounts/relatives.html", {"form": form, "links": links})


ID_DOCUMENT_SIDES = {"front": "id_document_front", "back": "id_document_back"}


@login_required
def id_document(request, pk: int, side: str):
    """An ID card photo, for the member themself and the staff who see them; others 404."""
    if side not in ID_DOCUMENT_SIDES:
        raise Http404
    member = get_object_or_404(members_visible_to(request.user), pk=pk)
    return private_file_response(getattr(member, ID_DOCUMENT_SIDES[side]))


@login_required
def relative_proof(request, pk: int):
    """The proof attached to a relative link, for whoever may see the declaring member."""
    link = get_object_or_404(Relative, pk=pk)
    if not members_visible_to(request.user).filter(pk=link.member_id).exists():
        raise Http404
    return private_file_response(link.proof)


CODE_LOGIN_FRESH_SECONDS = 10 * 60


def _recent_code_login(request) -> bool:
    now = time.time()
    return any(
        record.get("method") == "code" and now - record.get("at", 0) <= CODE_LOGIN_FRESH_SECONDS
        for record in get_authentication_records(request, request.user)
    )


@login_required
@require_http_methods(["GET", "POST"])
def new_password(request):
    """Forgotten password: after logging in with an SMS code, set a new one without the old."""
    if not _recent_code_login(request):
        return redirect("account_change_password")
    form = SetPasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)
        messages.success(request, _("Your new password is set."))
        return redirect("accounts:profile")
    return render(request, "accounts/new_password.html", {"form": form})
