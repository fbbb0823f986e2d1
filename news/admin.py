"""The news centre in Django admin (新闻中心).

Head office writes its district's items, whole-district or for any of its streets; street
staff write their own street's items only and never see another street's or the
whole-district ones; district officials read their district's items. Out-of-scope items
are a 404. Every save goes through ``news.services`` (sanitized body, re-encoded picture,
the writer's scope checked again) and is kept in the item's history with who saved it.
Items are withdrawn, never deleted.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.http import Http404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.adminutils import PrivateFileInput, ScopedAdmin, role_rows, run_for_each
from branches.models import Branch
from branches.private_files import private_file_response
from exchange.admin import HistoryToRead
from news import services
from news.html import sanitize_body
from news.images import prepare_image
from news.models import News
from news.selectors import StaffScope, news_for_admin, staff_scope
from news.services import NewsError
from timebank.forms import ModelForm


def _scope(request) -> StaffScope:
    """The user's news roles, read once per request (the admin asks on every page)."""
    if not hasattr(request, "_news_scope"):
        request._news_scope = staff_scope(request.user, role_rows(request))
    return request._news_scope


class PictureInput(PrivateFileInput):
    link_label = gettext_lazy("View the news picture")


class NewsForm(ModelForm):
    image = forms.FileField(
        label=gettext_lazy("news picture"),
        required=False,
        widget=PictureInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=gettext_lazy(
            "A JPEG, PNG or WebP picture of at most 5 MB; "
            "it is stored at most 1600 pixels wide, without its camera data."
        ),
    )
    actor = None  # the user saving, set by NewsAdmin.get_form

    class Meta:
        model = News
        fields = (
            "title",
            "category",
            "district",
            "street",
            "pinned",
            "publish_at",
            "image",
            "body",
        )
        help_texts = {  # the admin shows help texts unescaped: no angle brackets here
            "body": gettext_lazy(
                "Type the text; a blank line starts a new paragraph. Formatting kept: "
                "paragraphs (p), line breaks (br), bold (strong), italics (em), lists (ul, ol, "
                "li), headings (h2, h3), quotations (blockquote) and links (a href); anything "
                "else is removed when saved."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.image:
            self.fields["image"].widget.link = reverse(
                "admin:news_news_image", args=[self.instance.pk]
            )
        district = self.fields.get("district")
        if district is not None and not self.instance.pk:
            choices = list(district.queryset[:2])
            if len(choices) == 1:  # street staff: their street's district, nothing to choose
                district.initial = choices[0].pk

    def clean_image(self):
        image = self.cleaned_data.get("image")
        if image and not hasattr(image, "storage"):  # a new upload (not the stored file)
            return prepare_image(image)
        return image

    def clean_body(self):
        body = sanitize_body(self.cleaned_data.get("body", ""))
        if not body:
            raise forms.ValidationError(_("Please write the text of the news item."))
        return body

    def clean(self):
        cleaned = super().clean()
        district, street = cleaned.get("district"), cleaned.get("street")
        if district is not None and "street" not in self.errors:
            try:
                services.check_placement(actor=self.actor, district=district, street=street)
            except NewsError as exc:
                self.add_error("street" if street else "district", exc.message)
        return cleaned


@admin.register(News)
class NewsAdmin(HistoryToRead, ScopedAdmin):
    """History in words (exchange's history list: choices by label, local times, names)."""

    form = NewsForm
    REASONS = {"withdrawn": gettext_lazy("Withdrawn news")}  # the reasons news.services records
    list_display = ("title", "category", "placement", "pinned", "publish_at", "state", "author")
    list_filter = ("category", "pinned")
    list_select_related = ("district", "street", "author")
    search_fields = ("title",)
    date_hierarchy = None
    actions = ["withdraw"]
    list_per_page = 50
    show_full_result_count = False

    def scope(self, request, queryset):
        return news_for_admin(request.user, queryset)

    # --- who may do what ----------------------------------------------------------------

    def _is_staff(self, request) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None) -> bool:
        if not self._is_staff(request):
            return False
        if request.user.is_superuser:
            return True
        scope = _scope(request)
        if obj is None:
            return bool(scope.read_districts or scope.streets)
        return scope.may_read(obj)

    def has_module_permission(self, request) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request) -> bool:
        return self._is_staff(request) and (request.user.is_superuser or _scope(request).writes)

    def get_object(self, request, object_id, from_field=None):
        news = super().get_object(request, object_id, from_field)
        if news is not None:  # the form writes the posted placement into the same object
            news.stored_placement = (news.district_id, news.street_id)
        return news

    def has_change_permission(self, request, obj=None) -> bool:
        if not self.has_add_permission(request):
            return False
        if obj is None or request.user.is_superuser:
            return True
        # Who may change an item is decided by where it is stored, not where a refused form
        # would move it (the form says why it refuses).
        district_id, street_id = getattr(obj, "stored_placement", (obj.district_id, obj.street_id))
        return _scope(request).may_write(district_id=district_id, street_id=street_id)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # withdrawn, never deleted: the history stays readable

    # --- the form -----------------------------------------------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        shown = ("author", "withdrawn_at", "created_at", "updated_at")
        return ("picture", *shown) if self._read_only(request, obj) else shown

    def get_fields(self, request, obj=None):
        fields = list(NewsForm.Meta.fields)
        if self._read_only(request, obj):  # the picture as a link, never as a file's URL
            fields = ["picture" if name == "image" else name for name in fields]
            return fields + [f for f in self.get_readonly_fields(request, obj) if f != "picture"]
        return fields + list(self.get_readonly_fields(request, obj))

    def _read_only(self, request, obj) -> bool:
        return obj is not None and not self.has_change_permission(request, obj)

    @admin.display(description=gettext_lazy("news picture"))
    def picture(self, obj: News) -> str:
        if not obj.image:
            return self.get_empty_value_display()
        link = reverse("admin:news_news_image", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', link, PictureInput.link_label)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        user = request.user
        if db_field.name in ("district", "street") and not user.is_superuser:
            scope = _scope(request)
            streets = Branch.objects.filter(kind=Branch.Kind.STREET).filter(
                pk__in=scope.streets
            ) | Branch.objects.filter(kind=Branch.Kind.STREET, parent_id__in=scope.head_districts)
            if db_field.name == "street":
                kwargs["queryset"] = streets.order_by("name")
            else:
                kwargs["queryset"] = Branch.objects.filter(kind=Branch.Kind.DISTRICT).filter(
                    pk__in=[*scope.head_districts, *streets.values_list("parent_id", flat=True)]
                )
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name in ("district", "street"):  # branches are kept on their own pages
            widget = field.widget
            widget.can_add_related = widget.can_change_related = widget.can_view_related = False
        return field

    def save_model(self, request, obj, form, change):
        services.save_news(actor=request.user, news=obj)

    # --- list columns -------------------------------------------------------------------

    @admin.display(description=gettext_lazy("published to"))
    def placement(self, obj: News) -> str:
        if obj.street_id:
            return obj.street.name
        return _("Whole district: %(district)s") % {"district": obj.district.name}

    @admin.display(description=gettext_lazy("news status"))
    def state(self, obj: News) -> str:
        if obj.is_withdrawn:
            return _("Withdrawn news")
        if obj.is_scheduled:
            return _("Scheduled news")
        return _("Published news")

    # --- withdraw -----------------------------------------------------------------------

    @admin.action(description=gettext_lazy("Withdraw the selected news"), permissions=["change"])
    def withdraw(self, request, queryset):
        run_for_each(
            self,
            request,
            queryset.select_related("district", "street"),
            lambda news: services.withdraw_news(actor=request.user, news=news),
            error_class=NewsError,
            done_message=_("Withdrawn: %(count)s news items."),
        )

    # --- the picture --------------------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/picture/", wrap(self.image_view), name="news_news_image"),
            *super().get_urls(),
        ]

    def image_view(self, request, object_id):
        news = self.get_object(request, object_id) if self._is_id(object_id) else None
        if news is None or not self.has_view_permission(request, news):
            raise Http404
        return private_file_response(news.image)
