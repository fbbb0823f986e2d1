from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


@checks.register()
def pickup_window_fits_the_policy(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """An order's hold lasts its pickup window: past the policy's limit on open holds the
    nightly audit would report every waiting order as stale."""
    from django.conf import settings

    from timebank.policy import get_policy

    days, limit = settings.EXCHANGE_PICKUP_DAYS, get_policy().pending_max_age_days
    if 1 <= days < limit:
        return []
    return [
        checks.Error(
            f"EXCHANGE_PICKUP_DAYS={days} must be at least 1 and below the policy's "
            f"pending_max_age_days ({limit}).",
            id="exchange.E001",
        )
    ]


class ExchangeConfig(AppConfig):
    name = "exchange"
    verbose_name = _("Exchange catalogue")

    def ready(self) -> None:
        from branches import permissions

        catalogue = (
            "exchange.view_pickuppoint",
            "exchange.add_pickuppoint",
            "exchange.change_pickuppoint",
            "exchange.view_item",
            "exchange.add_item",
            "exchange.change_item",
            "exchange.view_stock",
            "exchange.add_stock",
            "exchange.change_stock",
            "exchange.view_exchangeorder",
        )
        # Head office keeps the catalogue; street staff read their street's points and
        # orders; officials read everything in their district (admin scopes each page).
        permissions.grant("head_office", *catalogue)
        permissions.grant(
            "street_staff", "exchange.view_pickuppoint", "exchange.view_exchangeorder"
        )
        permissions.grant(
            "official",
            "exchange.view_item",
            "exchange.view_pickuppoint",
            "exchange.view_exchangeorder",
        )
