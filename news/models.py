"""News and notices (新闻中心): written by head office and street staff."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from branches.models import Branch
from branches.private_files import RandomName, private_storage


class News(models.Model):
    """One news item or notice, for a whole district (``street`` empty) or one street.

    ``body`` is HTML already sanitized to a small allow-list (news.html) by the services;
    ``image`` is a re-encoded copy without metadata, served by a view that checks the reader.
    """

    class Category(models.TextChoices):
        NOTICE = "notice", _("Notices and announcements")
        NEWS = "news", _("News and updates")
        POLICY = "policy", _("Policy explained")
        ACTIVITY = "activity", _("Activities and volunteers wanted")

    title = models.CharField(_("news title"), max_length=120)
    body = models.TextField(_("news text"))
    image = models.FileField(
        _("news picture"),
        upload_to=RandomName("news-images"),
        storage=private_storage,
        blank=True,
    )
    category = models.CharField(
        _("news category"), max_length=16, choices=Category.choices, default=Category.NOTICE
    )
    district = models.ForeignKey(
        Branch,
        verbose_name=_("district"),
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Branch.Kind.DISTRICT},
    )
    street = models.ForeignKey(
        Branch,
        verbose_name=_("street"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": Branch.Kind.STREET},
        help_text=_("Leave empty to publish to the whole district."),
    )
    pinned = models.BooleanField(_("pinned to the top"), default=False)
    publish_at = models.DateTimeField(
        _("publish at"),
        default=timezone.now,
        help_text=_("A time in the future schedules the item: readers see it from then on."),
    )
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("news item")
        verbose_name_plural = _("news and notices")
        ordering = ["-pinned", "-publish_at", "-pk"]
        indexes = [
            models.Index(
                fields=["district", "street", "-pinned", "-publish_at"], name="news_scope_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("news:detail", args=[self.pk])

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def is_scheduled(self) -> bool:
        return self.publish_at > timezone.now()
