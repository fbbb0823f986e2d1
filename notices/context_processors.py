"""The messages link and unread badge in the site's header (templates/base.html)."""

from functools import partial

from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from notices.selectors import UNREAD_CAP, unread_count


def unread(request):
    """Drawn only when a template shows it (the admin's pages never do), once per page."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_messages": partial(nav_messages_html, request)}


def nav_messages_html(request, count: int | None = None) -> str:
    """The header's "消息" link with its unread badge ("3", said "3 条未读消息" to screen
    readers). Also filled into pages drawn once for many people (orders.hall's slot, which
    brings the ``count`` it found cached), so it is made here without a template."""
    if count is None:
        count = unread_count(getattr(request, "user", None))
    link, label = reverse("notices:inbox"), _("Messages")
    if not count:
        return format_html('<a class="nav-messages" href="{}">{}</a>', link, label)
    shown = f"{UNREAD_CAP}+" if count > UNREAD_CAP else str(count)
    return format_html(
        '<a class="nav-messages" href="{}">{} <span class="nav-badge">'
        '<span aria-hidden="true">{}</span><span class="visually-hidden">{}</span></span></a>',
        link,
        label,
        shown,
        _("%(count)s unread") % {"count": shown},
    )
