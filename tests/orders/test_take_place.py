"""A grab's writes, by both of its paths: the ORM's (SQLite) and ``orders_take_place``
(PostgreSQL, migration 0010). Each writes the same rows and refuses for the same reasons,
with the same words, leaving nothing behind."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import translation

from orders import services
from orders.models import Assignment, OrderEvent, Place, ServiceRequest
from orders.services.assignments import _take_place_in_database, _take_place_orm
from orders.services.common import OrderError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def _in_database(req, volunteer):
    if connection.vendor != "postgresql":
        pytest.skip("the database function is PostgreSQL's")
    return _take_place_in_database(req, volunteer)


PATHS = [pytest.param(_take_place_orm, id="orm"), pytest.param(_in_database, id="database")]


def _take(path, req, volunteer):
    with transaction.atomic():  # as grab_place's: a refusal leaves nothing behind
        return path(ServiceRequest.objects.get(pk=req.pk), volunteer)


def _refused(path, req, volunteer) -> str:
    before = _written(req)
    with pytest.raises(OrderError) as refusal:
        _take(path, req, volunteer)
    assert _written(req) == before
    return refusal.value.message


def _written(req) -> tuple:
    req.refresh_from_db()
    return (
        req.filled,
        Assignment.objects.filter(request=req).count(),
        Assignment.history.filter(request_id=req.pk).count(),
        Place.history.filter(request_id=req.pk).count(),
        OrderEvent.objects.filter(request=req, action="grabbed").count(),
        sorted(Place.objects.filter(request=req).values_list("state", flat=True)),
    )


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("auto_confirm", [False, True])
def test_a_grab_writes_the_claim_place_assignment_history_and_event(
    path, auto_confirm, make_need, volunteer
):
    req = make_need(places=2, auto_confirm=auto_confirm)
    place_changes = Place.history.filter(request_id=req.pk).count()
    a = _take(path, req, volunteer)

    stored = Assignment.objects.select_related("place").get(pk=a.pk)
    assert stored.volunteer_id == volunteer.pk and stored.request_id == req.pk
    assert stored.status == ("confirmed" if auto_confirm else "grabbed")
    assert (stored.confirmed_at is not None) == auto_confirm
    assert stored.reservation_transfer_id == a.reservation_transfer_id is not None
    assert stored.place.number == 1 and stored.place.state == Place.State.TAKEN
    # What the caller goes on with (the notice, the ledger's reference) is what was stored.
    assert (a.place.pk, a.place.number, a.place.reference) == (
        stored.place.pk,
        1,
        f"place:{stored.place.pk}",
    )
    assert a.place.hold_transfer_id == stored.place.hold_transfer_id is not None
    assert _written(req) == (1, 1, 1, place_changes + 1, 1, ["open", "taken"])
    place_change = Place.history.filter(id=stored.place.pk).latest("history_id")
    assert (place_change.history_type, place_change.state) == ("~", "taken")
    assert place_change.history_user_id == volunteer.pk
    made = Assignment.history.get(id=a.pk)
    assert (made.history_type, made.history_user_id, made.status) == (
        "+",
        volunteer.pk,
        stored.status,
    )
    event = OrderEvent.objects.get(request=req, action="grabbed")
    assert (event.actor_id, event.assignment_id) == (volunteer.pk, a.pk)


@pytest.mark.parametrize("path", PATHS)
def test_the_same_need_twice_is_refused(path, make_need, volunteer):
    req = make_need(places=2)
    _take(path, req, volunteer)
    message = _refused(path, req, volunteer)
    assert message == "You have already grabbed a place on this need."


@pytest.mark.parametrize("path", PATHS)
def test_a_service_at_the_same_time_is_refused_with_its_title(path, make_need, volunteer):
    first = make_need(title="上午陪伴", starts_in=timedelta(days=1))
    _take(path, first, volunteer)
    half_past = make_need(starts_in=timedelta(days=1, minutes=30))
    assert _refused(path, half_past, volunteer) == "You already have “上午陪伴” at that time."
    # One ending as the other starts is no overlap.
    touching = make_need(starts_in=timedelta(days=1, hours=1))
    assert _take(path, touching, volunteer).status == "grabbed"


@pytest.mark.parametrize("path", PATHS)
def test_an_ended_service_at_the_same_time_is_no_overlap(path, make_need, volunteer, base_staff_a):
    first = make_need(starts_in=timedelta(days=1))
    services.grab_place(service_request=first, volunteer=volunteer)
    a = Assignment.objects.get(request=first)
    services.decline_assignment(assignment=a, actor=base_staff_a, reason="人够了")
    same_time = make_need(starts_in=timedelta(days=1))
    assert _take(path, same_time, volunteer).status == "grabbed"


@pytest.mark.parametrize("path", PATHS)
def test_a_full_need_is_refused(path, make_need, volunteer, volunteer2):
    req = make_need(places=1)
    _take(path, req, volunteer2)
    assert _refused(path, req, volunteer) == "All places of this need have been taken."


@pytest.mark.parametrize("path", PATHS)
def test_a_need_closed_since_it_was_read_is_refused(path, make_need, volunteer):
    req = make_need(places=1)
    ServiceRequest.objects.filter(pk=req.pk).update(status=ServiceRequest.Status.CANCELLED)
    assert _refused(path, req, volunteer) == "This need is not open for grabbing."


@pytest.mark.parametrize("path", PATHS)
def test_a_counter_that_disagrees_with_the_places_oversells_nothing(path, make_need, volunteer):
    req = make_need(places=2)
    Place.objects.filter(request=req).update(state=Place.State.TAKEN)
    assert _refused(path, req, volunteer) == "All places of this need have been taken."
