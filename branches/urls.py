from django.urls import path

from branches import views

app_name = "branches"
urlpatterns = [
    path("bases/", views.bases, name="bases"),
    path("bases/apply/", views.apply_for_base, name="apply_for_base"),
    path("bases/<int:pk>/document/", views.base_document, name="base_document"),
]
