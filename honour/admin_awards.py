"""Honour in Django admin: awards."""

# Role permissions this part needs: {"head_office": ["honour.view_…", …], …}
GRANTS: dict[str, list[str]] = {}
