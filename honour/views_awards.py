"""Honour pages: awards (URLs collected by honour/urls.py)."""

urlpatterns: list = []
