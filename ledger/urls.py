from django.urls import path

from ledger import donation_views, gift_views, views

app_name = "ledger"
urlpatterns = [
    path("", views.my_coins, name="my_coins"),
    path("base/<int:base_id>/", views.base_coins, name="base_coins"),
    path("gift/", gift_views.gift, name="gift"),
    path("donate/", donation_views.donate, name="donate"),
]
