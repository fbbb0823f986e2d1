"""One database function for a grab's writes on PostgreSQL: the volunteer's lock, the overlap
check, the claim, the place, the assignment, their history rows and the need's event.

In a grab storm each winner's writes were nine statements built by the ORM, about 4 ms of a
worker's CPU per winner while every place was open (bench/NOTES.md, "Fifth look"); the
function does them in one round trip. Same rules, same order of locks and checks as
``orders.services.assignments._take_place_orm``, which SQLite keeps; the status words come
from Python, so the function holds no rule of its own.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION orders_take_place(
    p_need bigint, p_volunteer bigint, p_starts timestamptz, p_ends timestamptz,
    p_published varchar, p_open varchar, p_taken varchar, p_active varchar[],
    p_status varchar, p_confirmed_at timestamptz, p_reservation uuid, p_action varchar,
    p_now timestamptz
) RETURNS TABLE (
    outcome varchar, detail varchar, assignment_id bigint, place_id bigint,
    place_number integer, place_hold uuid
) AS $$
DECLARE
    v_title varchar;
    v_place orders_place%ROWTYPE;
    v_assignment bigint;
BEGIN
    -- One grab at a time per volunteer (the checks below), and people before needs.
    PERFORM 1 FROM accounts_user WHERE id = p_volunteer FOR NO KEY UPDATE;
    IF EXISTS (
        SELECT 1 FROM orders_assignment WHERE volunteer_id = p_volunteer AND request_id = p_need
    ) THEN
        RETURN QUERY SELECT 'twice'::varchar, NULL::varchar, NULL::bigint, NULL::bigint,
            NULL::integer, NULL::uuid;
        RETURN;
    END IF;
    SELECT r.title INTO v_title
    FROM orders_assignment a JOIN orders_servicerequest r ON r.id = a.request_id
    WHERE a.volunteer_id = p_volunteer AND a.status = ANY (p_active)
        AND r.starts_at < p_ends
        AND r.starts_at + r.duration_minutes * interval '1 minute' > p_starts
    LIMIT 1;
    IF FOUND THEN
        RETURN QUERY SELECT 'overlap'::varchar, v_title, NULL::bigint, NULL::bigint,
            NULL::integer, NULL::uuid;
        RETURN;
    END IF;
    -- The claim: one conditional UPDATE decides, and keeps the need's row locked to the end.
    UPDATE orders_servicerequest SET filled = filled + 1
    WHERE id = p_need AND status = p_published AND filled < places;
    IF NOT FOUND THEN
        IF EXISTS (SELECT 1 FROM orders_servicerequest WHERE id = p_need AND status = p_published)
        THEN
            RETURN QUERY SELECT 'full'::varchar, NULL::varchar, NULL::bigint, NULL::bigint,
                NULL::integer, NULL::uuid;
        ELSE
            RETURN QUERY SELECT 'closed'::varchar, NULL::varchar, NULL::bigint, NULL::bigint,
                NULL::integer, NULL::uuid;
        END IF;
        RETURN;
    END IF;
    UPDATE orders_place SET state = p_taken
    WHERE id = (
        SELECT id FROM orders_place WHERE request_id = p_need AND state = p_open
        ORDER BY number LIMIT 1
    )
    RETURNING * INTO v_place;
    IF NOT FOUND THEN  -- the counter and the places disagree: refuse rather than oversell
        RETURN QUERY SELECT 'full'::varchar, NULL::varchar, NULL::bigint, NULL::bigint,
            NULL::integer, NULL::uuid;
        RETURN;
    END IF;
    INSERT INTO orders_historicalplace (
        id, number, state, hold_transfer_id, request_id,
        history_date, history_change_reason, history_type, history_user_id
    ) VALUES (
        v_place.id, v_place.number, v_place.state, v_place.hold_transfer_id, p_need,
        p_now, NULL, '~', p_volunteer
    );
    INSERT INTO orders_assignment (
        status, reservation_transfer_id, grabbed_at, confirmed_at, ended_reason,
        volunteer_id, place_id, request_id
    ) VALUES (
        p_status, p_reservation, p_now, p_confirmed_at, '', p_volunteer, v_place.id, p_need
    ) RETURNING id INTO v_assignment;
    INSERT INTO orders_historicalassignment (
        id, status, reservation_transfer_id, grabbed_at, confirmed_at, ended_reason,
        volunteer_id, place_id, request_id,
        history_date, history_change_reason, history_type, history_user_id
    ) VALUES (
        v_assignment, p_status, p_reservation, p_now, p_confirmed_at, '',
        p_volunteer, v_place.id, p_need,
        p_now, NULL, '+', p_volunteer
    );
    INSERT INTO orders_orderevent (action, note, at, actor_id, assignment_id, request_id)
    VALUES (p_action, '', p_now, p_volunteer, v_assignment, p_need);
    RETURN QUERY SELECT 'ok'::varchar, NULL::varchar, v_assignment, v_place.id,
        v_place.number::integer, v_place.hold_transfer_id;
END;
$$ LANGUAGE plpgsql;
"""

DROP = (
    "DROP FUNCTION IF EXISTS orders_take_place(bigint, bigint, timestamptz, timestamptz, "
    "varchar, varchar, varchar, varchar[], varchar, timestamptz, uuid, varchar, timestamptz)"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: the ORM does this work
    schema_editor.execute(CREATE, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("orders", "0009_report_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
