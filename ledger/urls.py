from django.urls import path

from ledger import views

app_name = "ledger"
urlpatterns = [
    path("", views.my_coins, name="my_coins"),
    path("base/<int:base_id>/", views.base_coins, name="base_coins"),
]
