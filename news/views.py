"""The public news centre: the list, each item's page and its picture."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from branches.private_files import private_file_response
from news.html import safe_body
from news.models import News
from news.selectors import visible_news

PER_PAGE = 20


@require_safe
def news_list(request):
    """Pinned first, then the newest; a member reads their district's and street's items."""
    news = visible_news(request.user).defer("body")
    category = request.GET.get("category", "")
    if category in News.Category.values:
        news = news.filter(category=category)
    else:
        category = ""
    page = Paginator(news, PER_PAGE).get_page(request.GET.get("page"))
    context = {"page": page, "categories": News.Category.choices, "category": category}
    return render(request, "news/list.html", context)


@require_safe
def news_detail(request, pk: int):
    """One item; withdrawn, scheduled or another street's items are a 404."""
    news = get_object_or_404(visible_news(request.user), pk=pk)
    return render(request, "news/detail.html", {"news": news, "body": safe_body(news.body)})


@require_safe
def news_image(request, pk: int):
    """An item's picture, to whoever may read the item."""
    news = get_object_or_404(
        visible_news(request.user).select_related(None).only("pk", "image"), pk=pk
    )
    response = private_file_response(news.image)
    response["Cache-Control"] = "private, max-age=3600"
    return response
