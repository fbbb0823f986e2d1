"""Honour pages: certificates (URLs collected by honour/urls.py)."""

urlpatterns: list = []
