"""发送失败的消息: staff see the messages that could not be sent to their members and send
them again. Read-only otherwise: sending goes through ``notices.services`` only.

Who sees what: head office its district's members and staff, street staff and advisors their
street's members, nobody else (base staff, officials); another street's delivery is a 404.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.adminutils import (
    LargeList,
    NoWritesMixin,
    QuickLinksChangeList,
    ScopedAdmin,
    roles_of,
)
from branches.models import StaffRole
from notices import services
from notices.events import render
from notices.models import Delivery
from notices.selectors import mask_address

Role = StaffRole.Role
VIEW_ROLES = {Role.HEAD_OFFICE, Role.STREET_STAFF, Role.ADVISOR}
SHOWN = (
    "recipient_name",
    "event_title",
    "channel",
    "status",
    "masked_address",
    "attempts",
    "last_error",
    "not_before",
    "sent_at",
    "created_at",
    "updated_at",
)


def _scope_filter(request) -> Q:
    """Deliveries to members of the streets the user serves, and for head office to its
    district's staff too (the coin check's alarm), read once per request."""
    if not hasattr(request, "_delivery_scope"):
        roles = StaffRole.objects.filter(user=request.user, role__in=VIEW_ROLES).values_list(
            "role", "branch_id"
        )
        districts = [branch for role, branch in roles if role == Role.HEAD_OFFICE]
        streets = [branch for role, branch in roles if role != Role.HEAD_OFFICE]
        staff_of_districts = StaffRole.objects.filter(
            Q(branch_id__in=districts) | Q(branch__parent_id__in=districts),
            user_id=OuterRef("notification__recipient_id"),
        )
        request._delivery_scope = (
            Q(notification__recipient__member__street__parent_id__in=districts)
            | Q(notification__recipient__member__street_id__in=streets)
            | Q(Exists(staff_of_districts))
        )
    return request._delivery_scope


class FailedOnly(QuickLinksChangeList):
    """The list shows failed deliveries only; each one's page and history stay reachable
    after it is sent again."""

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        return queryset.filter(status=Delivery.Status.FAILED)


@admin.register(Delivery)
class FailedDeliveryAdmin(NoWritesMixin, LargeList, ScopedAdmin):
    list_display = (
        "recipient_name",
        "event_title",
        "channel",
        "masked_address",
        "attempts",
        "short_error",
        "updated_at",
        "resend_button",
    )
    list_display_links = ("recipient_name",)
    list_filter = ("channel",)
    list_select_related = ("notification__recipient",)
    search_fields = ("notification__recipient__full_name",)
    fields = SHOWN
    readonly_fields = SHOWN
    actions = ["resend_selected"]

    def scope(self, request, queryset):
        return queryset.filter(_scope_filter(request))

    def get_changelist(self, request, **kwargs):
        return FailedOnly

    def changelist_view(self, request, extra_context=None):
        extra_context = {"title": _("Messages that failed to send"), **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    # --- who may do what ------------------------------------------------------------------

    def has_view_permission(self, request, obj=None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return user.is_superuser or bool(roles_of(request) & VIEW_ROLES)

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    # --- columns --------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("recipient"))
    def recipient_name(self, obj: Delivery) -> str:
        recipient = obj.notification.recipient
        return recipient.full_name or recipient.username

    @admin.display(description=gettext_lazy("Message"))
    def event_title(self, obj: Delivery) -> str:
        return render(obj.notification).title

    @admin.display(description=gettext_lazy("sent to"))
    def masked_address(self, obj: Delivery) -> str:
        return mask_address(obj.channel, obj.address)

    @admin.display(description=gettext_lazy("last error"))
    def short_error(self, obj: Delivery) -> str:
        return Truncator(obj.last_error).chars(80)

    @admin.display(description=gettext_lazy("Resend the message"))
    def resend_button(self, obj: Delivery) -> str:
        if obj.status != Delivery.Status.FAILED:
            return ""
        # The rows sit inside the list's form (with its CSRF token): the button POSTs it here.
        return format_html(
            '<button type="submit" class="button" formaction="{}" aria-label="{}">{}</button>',
            reverse("admin:notices_delivery_resend", args=(obj.pk,)),
            _("Resend the message to %(name)s") % {"name": self.recipient_name(obj)},
            _("Resend the message"),
        )

    # --- sending again --------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view(self.resend_view)
        return [
            path("<path:object_id>/resend/", view, name="notices_delivery_resend"),
            *super().get_urls(),
        ]

    def _resend(self, request, delivery: Delivery) -> bool:
        try:
            services.resend_delivery(actor=request.user, delivery_id=delivery.pk)
        except services.NoticeError as exc:
            self.message_user(request, f"{self.recipient_name(delivery)}: {exc}", messages.ERROR)
            return False
        return True

    def resend_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise Http404
        if not self._is_id(object_id):
            raise Http404
        delivery = self.get_object(request, object_id)  # scoped: another street's is a 404
        if self._resend(request, delivery):
            self.message_user(
                request,
                _("The message to %(name)s will be sent again.")
                % {"name": self.recipient_name(delivery)},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(reverse("admin:notices_delivery_changelist"))

    @admin.action(description=gettext_lazy("Resend the message"))
    def resend_selected(self, request, queryset):
        queryset = queryset.select_related("notification__recipient").order_by("pk")
        done = sum(self._resend(request, delivery) for delivery in queryset)
        if done:
            self.message_user(
                request,
                _("Messages to be sent again: %(count)s.") % {"count": done},
                messages.SUCCESS,
            )
