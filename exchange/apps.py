from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


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
        permissions.grant("head_office", *catalogue)
        permissions.grant(
            "street_staff", "exchange.view_pickuppoint", "exchange.view_exchangeorder"
        )
        permissions.grant("official", "exchange.view_item", "exchange.view_exchangeorder")
