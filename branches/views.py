from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from branches import services
from branches.forms import BaseApplicationForm
from branches.models import ServiceBase
from branches.private_files import private_file_response
from branches.selectors import bases_visible_to


@login_required
@require_http_methods(["GET", "POST"])
def apply_for_base(request):
    form = BaseApplicationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.apply_for_base(**data, actor=request.user)
        except services.OrganisationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("Thank you. The street branch reviews your application, then head office."),
            )
            return redirect("branches:bases")
    return render(request, "branches/apply.html", {"form": form})


@login_required
def bases(request):
    """Bases the user works with (staff) or applied for (an institution's contact)."""
    visible = ServiceBase.objects.filter(
        Q(pk__in=bases_visible_to(request.user).values("pk")) | Q(applied_by=request.user)
    ).select_related("street")
    return render(request, "branches/bases.html", {"bases": visible.order_by("name")})


@login_required
def base_document(request, pk: int):
    """A base's licence scan, for its applicant and the staff who see the base; others 404."""
    base = get_object_or_404(ServiceBase, pk=pk)
    if (
        base.applied_by_id != request.user.pk
        and not bases_visible_to(request.user).filter(pk=base.pk).exists()
    ):
        raise Http404
    return private_file_response(base.document)
