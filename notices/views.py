"""我的消息: the member's inbox, reading messages, their channels, and the advisor's queue."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from notices import selectors, services
from notices.events import render as render_message
from notices.forms import ChannelForm
from notices.models import Notification
from timebank.inputs import bad_request


def _page(request, queryset):
    page = Paginator(queryset, selectors.INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    # Words in the reader's language, put beside each message for the template.
    page.rows = [(note, render_message(note)) for note in page.object_list]
    return page


@login_required
@require_GET
def inbox(request):
    page = _page(request, selectors.inbox_of(request.user))
    return render(request, "notices/inbox.html", {"page": page})


@login_required
@require_POST
def read(request, pk: int):
    """Open a message: it is marked read, then the reader goes where it points."""
    try:
        note = services.mark_read(user=request.user, notification_id=pk)
    except Notification.DoesNotExist:
        raise Http404 from None  # not there, or another person's
    target = note.url
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notices:inbox")


@login_required
@require_POST
def read_all(request):
    done = services.mark_all_read(user=request.user)
    if done:
        messages.success(request, _("All your messages are marked as read."))
    return redirect("notices:inbox")


@login_required
@require_POST
def channels(request):
    """The channel choices of /me/: saved, then back to /me/."""
    current = selectors.channel_settings(request.user)
    form = ChannelForm(
        request.POST,
        initial={"sms": current.sms, "wechat": current.wechat},
        has_phone=current.has_phone,
        wechat_bound=current.wechat_bound,
    )
    if not form.is_valid():
        return bad_request(request)  # only a hand-made request sends what our boxes do not
    services.set_channels(
        user=request.user, sms=form.cleaned_data["sms"], wechat=form.cleaned_data["wechat"]
    )
    messages.success(request, _("Your choice of how to receive messages is saved."))
    return redirect("accounts:profile")


@login_required
@require_GET
def advised(request):
    """Advisors and street staff: messages of their street's members without a phone."""
    street_ids = selectors.advised_street_ids(request.user)
    if street_ids is None:
        raise PermissionDenied
    queryset = selectors.advised_messages(street_ids)
    unread = queryset.filter(read_at__isnull=True).count()
    page = _page(request, queryset)
    return render(request, "notices/advised.html", {"page": page, "unread": unread})
