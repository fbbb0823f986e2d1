"""Names as shown to other members: the family name and a star per other character."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """``张三丰`` → ``张**``; other members never see a full name (or a phone number)."""
    name = (name or "").strip()
    if not name:
        return "**"
    return name[0] + "*" * max(1, len(name) - 1)
