"""Honour levels (CN §6.7.3), stored: each member's level and hours served, and the date each
level was reached, kept in step with the ledger.

The ledger is the truth (``ledger.spending.minutes_served``: posted service credits less their
reversals; grants, gifts and donations never count) and ``ledger.honour.level_for_minutes``
turns it into a level against the policy's thresholds. When the ledger writes a service credit
or a reversal of one it sends ``ledger.signals.service_minutes_changed``; ``recompute`` runs
inside that transaction, so the stored level never disagrees with committed books.

Lock order (docs/architecture.md): a member's ``HonourStatus`` row is taken last, after the
ledger's accounts and daily counters, in user id order. Two completions for one volunteer
already queue on the volunteer's account, so the row never sees two writers at once; the
backfill (``recompute_all``) holds one status row at a time and waits for nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from branches.models import StaffRole
from branches.selectors import staff_roles
from honour.models import HonourStatus, LevelReached, LevelRight
from ledger.honour import level_for_minutes, level_name
from ledger.models import Account, Transfer
from ledger.services import hours
from ledger.signals import MOVED, service_minutes_changed
from ledger.spending import minutes_served
from timebank.policy import MINUTES_PER_HOUR, get_policy
from timebank.transactions import service_transaction

TOP_LEVEL = 5


class HonourError(Exception):
    """A refused change to the honour records; ``message`` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = str(message)

    def __str__(self) -> str:
        return self.message


def connect() -> None:
    """Follow the ledger (called once from HonourConfig.ready)."""
    service_minutes_changed.connect(_on_service_minutes_changed, dispatch_uid="honour.levels")


def _on_service_minutes_changed(sender, *, user_ids, **kwargs) -> None:
    for user_id in sorted(user_ids):  # status rows in id order, as every lock is taken
        recompute(user_id=user_id)


# --- recomputing ------------------------------------------------------------------------------


@service_transaction
def recompute(*, user_id: int, backfill: bool = False) -> bool:
    """Bring the member's stored level, hours and levels reached in line with the ledger.

    Returns whether anything changed. ``backfill`` (existing data): a level reached now is
    dated when the books crossed its threshold, not today.
    """
    status = _lock_status(user_id)
    minutes = minutes_served(User(pk=user_id))
    level = level_for_minutes(minutes)
    changed = (status.level, status.minutes_served) != (level, minutes)
    if changed:
        HonourStatus.objects.filter(pk=status.pk).update(
            level=level, minutes_served=minutes, updated_at=timezone.now()
        )
    if level != status.level or backfill:  # the rows follow the level; a backfill checks
        changed |= _record_levels(user_id, level, backfill=backfill)
    return changed


def _lock_status(user_id: int) -> HonourStatus:
    locked = HonourStatus.objects.select_for_update(no_key=True)
    status = locked.filter(user_id=user_id).first()
    if status is None:
        # Another transaction may be inserting the same member's row: this waits for it.
        HonourStatus.objects.bulk_create([HonourStatus(user_id=user_id)], ignore_conflicts=True)
        status = locked.get(user_id=user_id)
    return status


def _record_levels(user_id: int, level: int, *, backfill: bool) -> bool:
    """A row per level held (reached now, or when the books crossed it); a level no longer
    held gets its ``lost_at``, and reaching it again later makes a new row."""
    now = timezone.now()
    held = set(
        LevelReached.objects.filter(user_id=user_id, lost_at__isnull=True).values_list(
            "level", flat=True
        )
    )
    lost = [n for n in held if n > level]
    if lost:
        LevelReached.objects.filter(user_id=user_id, lost_at__isnull=True, level__in=lost).update(
            lost_at=now
        )
    new = [n for n in range(1, level + 1) if n not in held]
    if new:
        when = _reached_times(user_id) if backfill else {}
        LevelReached.objects.bulk_create(
            [LevelReached(user_id=user_id, level=n, reached_at=when.get(n, now)) for n in new]
        )
    return bool(lost or new)


def _reached_times(user_id: int) -> dict[int, datetime]:
    """When the member's served minutes last rose to each threshold, from the books."""
    thresholds = [h * MINUTES_PER_HOUR for h in get_policy().honour_thresholds_hours]
    total, reached = 0, {}
    for at, change in _service_changes(user_id):
        before, total = total, total + change
        for level, minutes in enumerate(thresholds, start=1):
            if before < minutes <= total:
                reached[level] = at
    return reached


def _service_changes(user_id: int) -> list[tuple[datetime, int]]:
    accounts = Account.objects.filter(kind=Account.Kind.MEMBER, user_id=user_id).values("pk")
    credits = Transfer.objects.filter(
        credit_account__in=accounts, code=Transfer.Code.SERVICE, kind__in=MOVED
    ).values_list("created_at", "amount")
    reversals = Transfer.objects.filter(
        debit_account__in=accounts,
        code=Transfer.Code.REVERSAL,
        reverses__code=Transfer.Code.SERVICE,
    ).values_list("created_at", "amount")
    return sorted([*credits, *((at, -amount) for at, amount in reversals)])


def recompute_all() -> dict[str, int]:
    """Every member who ever served (or has a stored level), one transaction each.

    For existing data and the demo; running it again changes nothing.
    """
    served = Transfer.objects.filter(
        code=Transfer.Code.SERVICE, kind__in=MOVED, credit_account__kind=Account.Kind.MEMBER
    ).values_list("credit_account__user_id", flat=True)
    user_ids = set(served.distinct()) | set(HonourStatus.objects.values_list("user_id", flat=True))
    changed = sum(recompute(user_id=pk, backfill=True) for pk in sorted(user_ids))
    return {"members": len(user_ids), "changed": changed}


# --- the rights of each level ---------------------------------------------------------------


@service_transaction
def set_level_right(*, level: int, text: str, actor) -> LevelRight:
    """Head office writes the rights that come with a level (shown on every member's page)."""
    is_head_office = staff_roles(actor).filter(role=StaffRole.Role.HEAD_OFFICE).exists()
    if not (actor.is_superuser or is_head_office):
        raise HonourError(_("Only head-office staff may change the rights of a level."))
    if not 1 <= level <= TOP_LEVEL:
        raise HonourError(_("There is no such honour level."))
    right, _created = LevelRight.objects.update_or_create(
        level=level, defaults={"text": text.strip()}
    )
    return right


# --- the member's page ------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelLine:
    level: int
    name: str
    hours: int  # the threshold
    reached_at: datetime | None
    rights: str

    @property
    def stars(self) -> str:
        return "★" * self.level


@dataclass(frozen=True)
class Honour:
    level: int
    minutes_served: int
    lines: list[LevelLine]

    @property
    def name(self) -> str:
        return level_name(self.level)

    @property
    def stars(self) -> str:
        return "★" * self.level

    @property
    def empty_stars(self) -> str:
        return "☆" * (TOP_LEVEL - self.level)

    @property
    def progress(self) -> str:
        """再服务 48 小时升为三星, in words; at the top, say so."""
        if self.level >= len(self.lines):
            return _("You have reached the highest level: %(level)s.") % {"level": self.name}
        to_go = self.lines[self.level].hours * MINUTES_PER_HOUR - self.minutes_served
        return _("Serve %(hours)s more to reach %(level)s.") % {
            "hours": hours(to_go),
            "level": level_name(self.level + 1),
        }


def honour_of(user) -> Honour:
    """The member's level as stored (computed from the books if never stored yet)."""
    status = HonourStatus.objects.filter(user=user).first()
    if status is not None:
        level, minutes = status.level, status.minutes_served
    else:
        minutes = minutes_served(user)
        level = level_for_minutes(minutes)
    held = LevelReached.objects.filter(user=user, lost_at__isnull=True)
    reached = dict(held.values_list("level", "reached_at"))
    rights = dict(LevelRight.objects.values_list("level", "text"))
    lines = [
        LevelLine(
            level=n,
            name=level_name(n),
            hours=threshold,
            reached_at=reached.get(n) if n <= level else None,
            rights=rights.get(n, ""),
        )
        for n, threshold in enumerate(get_policy().honour_thresholds_hours, start=1)
    ]
    return Honour(level=level, minutes_served=minutes, lines=lines)
