from django.urls import path

from ledger import views

app_name = "ledger"
urlpatterns = [
    path("", views.my_coins, name="my_coins"),
]
