from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("", views.my_orders, name="mine"),
    path("available/", views.available, name="available"),
    path("new/", views.post_need, name="new"),
    path("checkin/", views.checkin, name="checkin"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/grab/", views.grab, name="grab"),
    path("<int:pk>/edit/", views.edit_need, name="edit"),
    path("<int:pk>/submit/", views.submit_need, name="submit"),
    path("<int:pk>/cancel/", views.cancel_need, name="cancel"),
    path("<int:pk>/card/", views.card, name="card"),
    path("a/<int:pk>/sign-out/", views.sign_out, name="sign_out"),
    path("a/<int:pk>/cancel/", views.cancel_place, name="cancel_place"),
    path("a/<int:pk>/confirm/", views.confirm_place, name="confirm_place"),
    path("a/<int:pk>/decline/", views.decline_place, name="decline_place"),
    path("a/<int:pk>/complete/", views.complete, name="complete"),
    path("a/<int:pk>/rate/", views.rate, name="rate"),
    path("a/<int:pk>/signature.png", views.signature, name="signature"),
]
