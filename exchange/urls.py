from django.urls import path

from exchange import views

app_name = "exchange"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("items/<int:pk>/", views.item, name="item"),
    path("items/<int:pk>/photo/", views.photo, name="photo"),
    path("orders/", views.my_orders, name="orders"),
    path("orders/<uuid:pk>/cancel/", views.cancel, name="cancel"),
    path("point/", views.collect, name="collect"),
]
