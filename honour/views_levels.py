"""Honour pages: levels (URLs collected by honour/urls.py)."""

urlpatterns: list = []
