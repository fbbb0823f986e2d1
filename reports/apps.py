from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from branches import permissions

        # Head office keeps its district's guarantee fund and reads its people's exports;
        # officials read the fund. The admin scopes each page to the district (reports.admin).
        permissions.grant(
            "head_office",
            "reports.view_guaranteefund",
            "reports.add_guaranteefund",
            "reports.change_guaranteefund",
            "reports.view_exportjob",
            "reports.view_exportlog",
        )
        permissions.grant("official", "reports.view_guaranteefund")
