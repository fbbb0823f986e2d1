from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Service orders")

    def ready(self) -> None:
        from branches import permissions

        # The admin queues (后台订单审核列表): each role sees only the queue it decides.
        queue = ("orders.view_servicerequest", "orders.view_assignment")
        permissions.grant(
            "street_staff",
            *queue,
            "orders.view_streetqueuerequest",
            "orders.change_streetqueuerequest",
            "orders.view_servicecategory",
        )
        permissions.grant(
            "head_office",
            *queue,
            "orders.view_headofficequeuerequest",
            "orders.change_headofficequeuerequest",
            "orders.view_servicecategory",
            "orders.add_servicecategory",
            "orders.change_servicecategory",
        )
        permissions.grant("advisor", *queue)
        permissions.grant("official", *queue)
