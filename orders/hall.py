"""The order hall's pages (抢单大厅): keyset-paged, and shared between volunteers in the cache.

A page of the hall is the same for every volunteer who asks with the same filters and cursor;
only the CSRF token and path are theirs, and whether they may grab (the page of one who may
not is drawn for them alone). So the rows of a page, and the page itself, are cached under
the hall's version, which every change of a need's publication or of its taken places moves
on (``bump``): a cached page is at most one change behind for the moment a transaction takes
to commit, never a page of needs closed since. The grab service decides anyway: it re-reads
and re-checks the need under its lock."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial

from django.core.cache import cache
from django.db import connection, transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import get_language

from notices.selectors import unread_cache_key
from orders import selectors
from orders.models import ServiceRequest

log = logging.getLogger(__name__)

PAGE_SIZE = 20  # a phone screen or three of cards; the page's cost does not grow with the hall
CACHE_SECONDS = 20  # a bound on staleness should a bump be lost (a cache restart)
# A location is rounded (about 100 m) before it sorts the hall: volunteers at the same place
# share a page, and the distances shown are the ones the order was made with.
NEAR_DECIMALS = 3
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MAX_CURSOR_PART = 20  # digits: microseconds since 1970 and a bigint id both fit


@dataclass
class HallPage:
    needs: list[ServiceRequest]
    next_cursor: str  # "" on the last page
    later: bool  # a page after the first (its cursor was one of ours)
    cache_key: str = ""  # where its rows are cached ("" without a cache)


# --- the version -------------------------------------------------------------------------


def _prefix() -> str:
    """Pages belong to one database: two sharing a cache (parallel test runs, a staging
    copy) never read each other's."""
    return f"orders:hall:{connection.settings_dict['NAME']}"


def _fresh_version() -> int:
    """A new version: anywhere, so no page or refusal kept under an earlier one is current
    (versions are only ever compared for equality)."""
    return secrets.randbelow(2**62)


# A version unused this long is dropped, and a new one starts: what was kept under the old one
# (for CACHE_SECONDS at most) has long expired. The bound keeps a district's years of needs
# from leaving a key each in the cache.
VERSION_SECONDS = 24 * 3600


def _hall_key() -> str:
    return f"{_prefix()}:version"


def _need_key(pk: int) -> str:
    return f"{_prefix()}:need:{pk}:version"


def bump(need_pk: int | None = None) -> None:
    """A need's publication or taken places changed: pages cached before are stale, and so
    are the refusals of that need (``need_pk``) kept before.

    Moved on commit, so that no page read before the commit is cached as current; and at
    once too, so a transaction that is never committed as such (a test's) is seen as well.
    A cache that is down must not undo the change that bumps: its error is only logged.
    """
    keys = [_hall_key()] if need_pk is None else [_hall_key(), _need_key(need_pk)]
    _bump(keys)
    transaction.on_commit(partial(_bump, keys), robust=True)


def _bump(keys: list[str]) -> None:
    try:  # new versions for all, in one round trip
        cache.set_many({key: _fresh_version() for key in keys}, timeout=VERSION_SECONDS)
    except Exception:  # the cache is an optimisation: the change it follows stands
        log.warning("order hall: could not bump the cache version", exc_info=True)


def _version(key: str | None = None) -> int:
    """The version at ``key`` (the hall's by default), started if the cache has none."""
    key = key or _hall_key()
    version = cache.get(key)
    if version is None:
        cache.add(key, _fresh_version(), timeout=VERSION_SECONDS)
        version = cache.get(key)
    return version


# --- a refused grab ------------------------------------------------------------------------
# When a need fills, the volunteers who came too late go on pressing "grab": each is answered
# from the cache, without reading the need, until the need's own version moves (a place freed,
# the need closed or published again), which is when the answer may change. Grabs of other
# needs leave it kept: in a storm's first second fifty needs fill one after another. A kept
# answer can only refuse; a grab that may succeed always goes to the service, which decides
# under the lock.


def _refusal_key(pk: int) -> str:
    return f"{_prefix()}:refused:{pk}:{get_language()}"


def kept_refusal(pk: int) -> tuple[int | None, tuple[str, str] | None]:
    """The need's version, read before the need is, and the refusal of need ``pk`` (its
    fragment and message, in the current language) if one was kept at that version."""
    found = _cache_get_many({"version": _need_key(pk), "refused": _refusal_key(pk)})
    version, kept = found.get("version"), found.get("refused")
    if version is not None and kept and kept[0] == version:
        return version, (kept[1], kept[2])
    if version is None:  # first asked of this need since the cache had its version
        version = _version_or_none(_need_key(pk))
    return version, None


def keep_refusal(pk: int, version: int | None, html: str, message: str) -> None:
    """Keep a refusal under the need's version read before the need was: if a change moved
    the version since, the kept refusal is already stale and is never served."""
    if version is not None:
        _cache_set(_refusal_key(pk), (version, html, message), CACHE_SECONDS)


# --- cursors -------------------------------------------------------------------------------


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(microseconds=1)


def encode_cursor(key: tuple) -> str:
    """The last need's place in the order: (band,) starts_at, id, as dotted integers."""
    *band, starts_at, pk = key
    return ".".join(str(part) for part in (*band, _micros(starts_at), pk))


def decode_cursor(text: str, *, near: bool) -> tuple | None:
    """The key a cursor names, or None (the first page) for anything that is not one of ours:
    a cursor is typed into a URL as easily as it is followed."""
    parts = (text or "").split(".")
    if len(parts) != (3 if near else 2):
        return None
    if not all(p.isascii() and p.isdigit() and len(p) <= _MAX_CURSOR_PART for p in parts):
        return None
    *band, micros, pk = (int(p) for p in parts)
    try:
        starts_at = _EPOCH + timedelta(microseconds=micros)
    except OverflowError:
        return None
    if pk > selectors.MAX_ID or (band and band[0] > selectors.NO_PLACE_BAND):
        return None
    return (*band, starts_at, pk)


# --- a page --------------------------------------------------------------------------------


def rounded(near: tuple[float, float] | None) -> tuple[float, float] | None:
    if near is None:
        return None
    return round(near[0], NEAR_DECIMALS), round(near[1], NEAR_DECIMALS)


@dataclass
class Hall:
    """What one request of the hall found in the cache, or read."""

    problems: list[str]  # why this volunteer may not grab ([] : they may)
    html: str = ""  # the whole page, current and made theirs; "" : draw it (``draw``)
    key: str = ""  # where the page, once drawn, is shared ("" : it is this viewer's alone)
    page: HallPage | None = None  # the needs, read only when the page is drawn
    version: int | None = None  # the hall's version the page is drawn at
    unread: int | None = None  # the viewer's unread messages, if the cache had them


def read(request, *, cursor: str = "", shared: bool = True, **filters) -> Hall:
    """The hall for this volunteer. A page is the same for every volunteer of one language
    and kind who may grab, with the same filters and cursor: the whole page is cached with
    the hall's version it was drawn at and what the clock changes (needs started since, an
    early-access note ended), and only the CSRF token and the path are each viewer's. One
    round trip fetches the version, the page and why this volunteer may not grab; a page of
    another version is drawn again. ``filters``: ``street_id``, ``category_id``, ``day``,
    ``near``; ``shared=False`` (the viewer has messages to see) draws the page for them
    alone."""
    near = rounded(filters.get("near"))
    wanted = (filters.get("street_id"), filters.get("category_id"), filters.get("day"), near)
    after = decode_cursor(cursor, near=near is not None)
    lang, prefix = get_language(), _prefix()
    keys = {
        "version": _hall_key(),
        "problems": problems_key(request.user.pk, lang),
        "page": f"{prefix}:page:{_key_text(wanted, after)}:{lang}:{int(request.user.is_staff)}",
        "unread": unread_cache_key(request.user.pk),
    }
    found = _cache_get_many(keys if shared else {**keys, "page": ""})
    version = found.get("version")
    if version is None:  # a new or flushed cache, or none at all
        version = _version_or_none()
    problems = found.get("problems")
    if problems is None:
        problems = _read_problems(request.user)
        _cache_set(keys["problems"] if version is not None else "", problems, PROBLEMS_SECONDS)
    shared = shared and not problems and version is not None  # what one lacks is theirs
    cached = found.get("page") if shared else None
    if cached and cached[0] == version and cached[2] == _shown(cached[1]):
        html = _made_theirs(request, cached[3], unread=found.get("unread"))
        return Hall(problems=problems, html=html)
    rows_key = f"{prefix}:{version}:{_key_text(wanted, after)}" if version is not None else ""
    rows = _cache_get(rows_key)
    if rows is None:  # not cached, or no cache at all: the hall still works, uncached
        rows = _read_rows(wanted, after)
        _cache_set(rows_key, rows, CACHE_SECONDS)
    hall_page = _page_of(rows, near=near, after=after, key=rows_key)
    return Hall(
        problems=problems,
        key=keys["page"] if shared else "",
        page=hall_page,
        version=version,
        unread=found.get("unread"),
    )


def draw(request, found: Hall, context: dict) -> HttpResponse:
    """Draw the hall's page; a shared one is cached for the next volunteers."""
    if not found.key:
        return render(request, TEMPLATE, context)
    html = render_to_string(
        TEMPLATE,
        {**context, "csrf_token": CSRF_SLOT, "next_path": PATH_SLOT, "nav_messages_slot": NAV_SLOT},
        request=request,
    )
    meta = [(req.pk, req.starts_at, req.early_access_until) for req in found.page.needs]
    _cache_set(found.key, (found.version, meta, _shown(meta), html), CACHE_SECONDS)
    return HttpResponse(_made_theirs(request, html, unread=found.unread))


def _shown(meta: list[tuple]) -> str:
    """What the clock changes on a page: which needs have not started, which are still in
    early access."""
    now = timezone.now()
    return ",".join(
        f"{pk}:{int(until is not None and now < until)}"
        for pk, starts_at, until in meta
        if starts_at > now
    )


def _made_theirs(request, html: str, *, unread: int | None) -> str:
    """A page drawn for everyone, with this viewer's CSRF token, path and unread badge put
    in (``unread``: their count as the cache had it; None: count it, and keep it)."""
    from notices.context_processors import nav_messages_html
    from notices.selectors import remember_unread, unread_count

    if unread is None:
        unread = unread_count(request.user)
        remember_unread(request.user.pk, unread)
    html = html.replace(CSRF_SLOT, get_token(request))
    html = html.replace(NAV_SLOT, nav_messages_html(request, unread))
    return html.replace(PATH_SLOT, escape(request.get_full_path()))


def page(
    *,
    street_id: int | None = None,
    category_id: int | None = None,
    day: date | None = None,
    near: tuple[float, float] | None = None,
    cursor: str = "",
) -> HallPage:
    """One page of open needs, soonest first, or by distance band given a location."""
    near = rounded(near)
    after = decode_cursor(cursor, near=near is not None)
    wanted = (street_id, category_id, day, near)
    key = _versioned_key(_key_text(wanted, after))
    rows = _cache_get(key)
    if rows is None:  # not cached, or no cache at all: the hall still works, uncached
        rows = _read_rows(wanted, after)
        _cache_set(key, rows, CACHE_SECONDS)
    return _page_of(rows, near=near, after=after, key=key)


def _page_of(rows: list, *, near, after: tuple | None, key: str) -> HallPage:
    now = timezone.now()
    # Rows cached a few seconds ago may include a need that has started since.
    needs = [req for req in rows[:PAGE_SIZE] if req.starts_at > now]
    for req in needs:  # None, not missing: a missing attribute costs the template a dir()
        req.distance_km = selectors.distance_km(near, req) if near else None
    more = len(rows) > PAGE_SIZE
    following = encode_cursor(rows[PAGE_SIZE - 1].hall_key) if more else ""
    return HallPage(needs=needs, next_cursor=following, later=after is not None, cache_key=key)


def _version_or_none(key: str | None = None) -> int | None:
    try:
        return _version(key)
    except Exception:
        log.warning("order hall: cache unavailable", exc_info=True)
        return None


def _versioned_key(suffix: str) -> str:
    """A key under the hall's current version, or "" when the cache cannot be reached."""
    try:
        return f"{_prefix()}:{_version()}:{suffix}"
    except Exception:
        log.warning("order hall: cache unavailable", exc_info=True)
        return ""


def _read_rows(wanted: tuple, after: tuple | None) -> list[ServiceRequest]:
    street_id, category_id, day, near = wanted
    return selectors.published_requests(
        street_id=street_id,
        category_id=category_id,
        day=day,
        near=near,
        after=after,
        limit=PAGE_SIZE + 1,  # one more says whether a next page exists
    )


# --- the cards, drawn once -----------------------------------------------------------------

TEMPLATE = "orders/available.html"
# Stand for the viewer's CSRF token and path in a page drawn for everyone; each answer puts
# its own in.
CSRF_SLOT = "hall-csrf-slot-0f3c9a"
PATH_SLOT = "/hall-path-slot-5b81e2"
NAV_SLOT = "hall-nav-messages-slot-7d2e4b"


def _cache_get(key: str):
    if not key:
        return None
    try:
        return cache.get(key)
    except Exception:
        log.warning("order hall: cache unavailable", exc_info=True)
        return None


def _cache_get_many(keys: dict[str, str]) -> dict:
    """The values cached under ``keys`` (name → key), by name; {} when the cache is down."""
    by_key = {key: name for name, key in keys.items() if key}
    if not by_key:
        return {}
    try:
        found = cache.get_many(list(by_key))
    except Exception:
        log.warning("order hall: cache unavailable", exc_info=True)
        return {}
    return {by_key[key]: value for key, value in found.items()}


def _cache_set(key: str, value, seconds: int) -> None:
    if not key or seconds <= 0:
        return
    try:
        cache.set(key, value, seconds)
    except Exception:
        log.warning("order hall: could not cache the cards", exc_info=True)


def _key_text(filters: tuple, after: tuple | None) -> str:
    street_id, category_id, day, near = filters
    parts = [street_id or "", category_id or "", day.isoformat() if day else ""]
    parts.append(f"{near[0]:.{NEAR_DECIMALS}f},{near[1]:.{NEAR_DECIMALS}f}" if near else "")
    parts.append(encode_cursor(after) if after else "")
    return ":".join(str(p) for p in parts)


# --- who may grab --------------------------------------------------------------------------

PROBLEMS_SECONDS = 20  # a hall read again within this shows the same buttons


def problems_key(user_id: int, language: str) -> str:
    return f"{_prefix()}:problems:{user_id}:{language}"


def _read_problems(user) -> list[str]:
    """Why this volunteer may not grab, as the hall shows it: cached for each volunteer
    and language for ``PROBLEMS_SECONDS`` (the grab itself reads afresh, so a member
    reviewed a moment ago sees the button 20 s later at the latest)."""
    from accounts.selectors import provider_problems as read

    return [str(p) for p in read(user)]
