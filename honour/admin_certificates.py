"""Honour in Django admin: certificates."""

# Role permissions this part needs: {"head_office": ["honour.view_…", …], …}
GRANTS: dict[str, list[str]] = {}
