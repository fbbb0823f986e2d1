from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HonourConfig(AppConfig):
    name = "honour"
    verbose_name = _("Honour")

    def ready(self) -> None:
        from branches import permissions
        from honour import admin_admission, admin_awards, admin_certificates, admin_levels

        for part in (admin_levels, admin_certificates, admin_awards, admin_admission):
            for role, perms in part.GRANTS.items():
                permissions.grant(role, *perms)
        admin_levels.connect()  # honour levels follow the ledger's service credits
