from django.urls import path

from accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.profile, name="profile"),
    path("register/", views.register, name="register"),
    path("relatives/", views.relatives, name="relatives"),
    path("password/", views.new_password, name="new_password"),
    path("elders/new/", views.register_elder, name="register_elder"),
    path("documents/<int:pk>/id-<str:side>/", views.id_document, name="id_document"),
    path("relatives/<int:pk>/proof/", views.relative_proof, name="relative_proof"),
]
