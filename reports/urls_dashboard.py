"""The dashboard (/reports/)."""

from django.urls import path

from reports import views

urlpatterns = [
    path("", views.dashboard_view, name="dashboard"),
]
