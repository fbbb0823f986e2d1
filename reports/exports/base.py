"""Exports: one small class per export, one registry.

Each export names itself, says which formats and which viewers it serves, lists its columns
and yields its rows straight from the database (an iterator, never a list of all rows). The
writers (``reports.exports.writers``) turn columns and rows into CSV or XLSX; an export with
a PDF writes it itself (``write_pdf``). The pages (``reports.export_views``) decide from
``count()`` whether to stream at once or hand the work to a Celery job.

An export sees only what its ``scope`` covers: every query starts from ``scope.*_q``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from django.db.models import QuerySet

from branches.models import StaffRole
from reports.period import Period
from reports.scope import Scope

KINDS = ("text", "int", "hours", "date", "datetime")
FORMATS = ("csv", "xlsx", "pdf")
# Rows read from the database at a time (``QuerySet.iterator(chunk_size=...)``).
CHUNK_SIZE = 2000

# Characters a file name may not carry on Windows or in a header; runs of them become "-".
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|\s·]+')


@dataclass(frozen=True)
class Column:
    header: str  # a lazy translation: the heading in the file
    kind: str = "text"  # one of KINDS; "hours" values are integer minutes

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}")


class Export:
    """One export. Subclasses set the class attributes and write ``columns`` and ``rows``
    (and ``count``, the number of rows ``rows`` yields)."""

    name: ClassVar[str]
    title: ClassVar[str]
    formats: ClassVar[tuple[str, ...]]
    reaches: ClassVar[tuple[str, ...]] = ("district", "street", "base")
    head_office_only: ClassVar[bool] = False
    needs_reason: ClassVar[bool] = False
    full_id_numbers: ClassVar[bool] = False

    def __init__(self, scope: Scope, period: Period, user):
        self.scope = scope
        self.period = period
        self.user = user

    # --- who may have it -----------------------------------------------------------------

    @classmethod
    def allowed(cls, user, scope: Scope) -> bool:
        """Whether ``user``, reading at ``scope``, may have this export."""
        if scope.reach not in cls.reaches:
            return False
        if cls.head_office_only:
            return is_head_office(user, scope)
        return True

    # --- contents ------------------------------------------------------------------------

    def columns(self) -> list[Column]:
        raise NotImplementedError

    def rows(self) -> Iterator[tuple]:
        raise NotImplementedError

    def count(self) -> int:
        raise NotImplementedError

    def write_pdf(self, out) -> None:
        raise NotImplementedError

    # --- naming and records ----------------------------------------------------------------

    def filename(self, fmt: str) -> str:
        """``服务记录-虹桥-2026-11.xlsx``: what, where, when."""
        parts = [str(self.title), self.scope.label, self.period.label]
        stem = "-".join(_UNSAFE_IN_NAME.sub("-", part).strip("-") for part in parts)
        return f"{stem}.{fmt}"

    def params(self) -> dict[str, str]:
        """What an ExportJob or ExportLog records of the request: the narrowing, the period,
        and the district and street the rows came from."""
        out = {**self.scope.query(), **self.period.query()}
        out["district"] = str(self.scope.district.pk)
        if self.scope.street is not None:
            out["street"] = str(self.scope.street.pk)
        return out


class QuerysetExport(Export):
    """An export whose rows are one queryset's ``values_list`` rows, each passed through
    ``row``."""

    fields: tuple[str, ...] = ()

    def queryset(self) -> QuerySet:
        raise NotImplementedError

    def row(self, values: tuple) -> tuple:
        return values

    def count(self) -> int:
        return self.queryset().order_by().count()

    def rows(self) -> Iterator[tuple]:
        values = self.queryset().values_list(*self.fields)
        for item in values.iterator(chunk_size=CHUNK_SIZE):
            yield self.row(item)


REGISTRY: dict[str, type[Export]] = {}


def register(cls: type[Export]) -> type[Export]:
    """Class decorator: add an export to ``REGISTRY`` under its ``name``."""
    if not set(cls.formats) <= set(FORMATS) or not cls.formats:
        raise ValueError(f"{cls.__name__}: formats must be a subset of {FORMATS}")
    if REGISTRY.get(cls.name, cls) is not cls:
        raise ValueError(f"two exports are named {cls.name!r}")
    REGISTRY[cls.name] = cls
    return cls


def exports_for(user, scope: Scope) -> list[type[Export]]:
    """The exports ``user`` may have at ``scope``, in registration order."""
    return [cls for cls in REGISTRY.values() if cls.allowed(user, scope)]


def is_head_office(user, scope: Scope) -> bool:
    """Head-office staff of the scope's district, reading at the district's reach (officials
    read the same figures but are not head office)."""
    if scope.reach != "district" or not (user and user.is_authenticated):
        return False
    return StaffRole.objects.filter(
        user=user, role=StaffRole.Role.HEAD_OFFICE, branch=scope.district
    ).exists()
