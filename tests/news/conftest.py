from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from news.models import News
from news.services import publish_news


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = str(tmp_path / "private")


@pytest.fixture
def post_news(head_office, district):
    """``post_news(title, street=None, hours_ago=1, **fields)``: an item written by head
    office, published ``hours_ago`` hours ago (negative: scheduled)."""

    def post(title: str, *, street=None, hours_ago: float = 1, actor=None, **fields) -> News:
        return publish_news(
            actor=actor or head_office,
            title=title,
            body=fields.pop("body", f"<p>{title}的内容</p>"),
            district=district,
            street=street,
            publish_at=timezone.now() - timedelta(hours=hours_ago),
            **fields,
        )

    return post
