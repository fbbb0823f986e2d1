from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NewsConfig(AppConfig):
    name = "news"
    verbose_name = _("News centre")

    def ready(self) -> None:
        from branches import permissions

        # Head office and street staff write news, officials read it; the admin scopes each
        # page to the district or the street (news.admin).
        writer = ("news.view_news", "news.add_news", "news.change_news")
        permissions.grant("head_office", *writer)
        permissions.grant("street_staff", *writer)
        permissions.grant("official", "news.view_news")
