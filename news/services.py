"""Writing news: every change goes through here, checked against the writer's scope.

Head office writes anything of its district (whole-district or any of its streets); street
staff write their own street's items only. Bodies are sanitized and pictures re-encoded
before anything is stored, whoever calls.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Branch
from news.html import sanitize_body
from news.images import PreparedImage, prepare_image
from news.models import News
from news.selectors import staff_scope
from timebank.transactions import service_transaction


class NewsError(Exception):
    def __init__(self, message: str, code: str = "invalid"):
        super().__init__(message)
        self.message, self.code = message, code


def check_placement(*, actor, district: Branch | None, street: Branch | None) -> None:
    """Refuse a district or street the actor may not publish to (or that do not match)."""
    if district is None or district.kind != Branch.Kind.DISTRICT:
        raise NewsError(_("Please choose the district of this news item."), code="district")
    if street is not None and (
        street.kind != Branch.Kind.STREET or street.parent_id != district.pk
    ):
        raise NewsError(_("This street is not in the chosen district."), code="street")
    if actor.is_superuser:
        return
    if not staff_scope(actor).may_write(
        district_id=district.pk, street_id=street.pk if street else None
    ):
        if street is None:
            message = _("Only head office may publish to the whole district.")
        else:
            message = _("You may publish news only for your own street.")
        raise NewsError(message, code="forbidden")


def _prepared(news: News) -> None:
    """Re-encode a picture that has not been through ``prepare_image`` yet."""
    image = news.image
    if not image or image._committed:
        return
    if not isinstance(image.file, PreparedImage):
        try:
            news.image = prepare_image(image.file)
        except ValidationError as exc:
            raise NewsError(exc.messages[0], code="image") from None


@service_transaction
def save_news(*, actor, news: News) -> News:
    """Store a new or edited item (built by a form, or by ``publish_news``)."""
    if news.pk is not None:
        stored = News.objects.select_for_update().filter(pk=news.pk).first()
        if stored is None:
            raise NewsError(_("This news item no longer exists."), code="gone")
        # Moving an item needs the right to write both where it was and where it goes.
        check_placement(actor=actor, district=stored.district, street=stored.street)
    else:
        news.author = actor
    check_placement(actor=actor, district=news.district, street=news.street)
    news.title = news.title.strip()
    news.body = sanitize_body(news.body)
    if not news.title or not news.body:
        raise NewsError(_("A news item needs a title and a text."), code="empty")
    _prepared(news)
    news._history_user = actor
    news.save()
    return news


def publish_news(
    *,
    actor,
    title: str,
    body: str,
    district: Branch,
    street: Branch | None = None,
    category: str = News.Category.NOTICE,
    pinned: bool = False,
    publish_at: datetime | None = None,
    image=None,
) -> News:
    """A new item; ``publish_at`` in the future schedules it (default: now)."""
    news = News(
        title=title,
        body=body,
        district=district,
        street=street,
        category=category,
        pinned=pinned,
        publish_at=publish_at or timezone.now(),
    )
    if image is not None:
        news.image = image
    return save_news(actor=actor, news=news)


@service_transaction
def withdraw_news(*, actor, news: News) -> News:
    """Take an item off the news centre; it stays in admin with its history."""
    locked = (
        News.objects.select_for_update(of=("self",))
        .select_related("district", "street")
        .get(pk=news.pk)
    )
    check_placement(actor=actor, district=locked.district, street=locked.street)
    if locked.withdrawn_at is not None:
        raise NewsError(_("This news item has already been withdrawn."), code="withdrawn")
    locked.withdrawn_at = timezone.now()
    locked._history_user = actor
    locked._change_reason = "withdrawn"
    locked.save(update_fields=["withdrawn_at", "updated_at"])
    return locked
