"""One database function for every transfer that resolves nothing: single-phase or pending
(a reservation), with the day's service minutes counted against the daily cap.

A grab reserves its coins on the district's escrow, whose row every grab of the district
updates: the row is held from its lock to the commit. In Python that was four round trips
(lock, the day's counter read, its write, the transfer's write) before the commit; this
function does them in one. Same rules, same order of checks and locks as ``ledger.engine``
(accounts in id order, then the member's counter); the SQLite path and the reversals,
posts and voids keep the Python engine.
"""

import importlib

from django.db import migrations

previous = importlib.import_module("ledger.migrations.0007_single_transfer_function_no_key_lock")

CREATE = """
CREATE OR REPLACE FUNCTION ledger_one_transfer(
    p_id uuid, p_debit bigint, p_credit bigint, p_amount bigint, p_kind varchar,
    p_code varchar, p_service_date date, p_reference varchar, p_actor bigint,
    p_on_behalf_of bigint, p_memo varchar, p_created_at timestamptz,
    p_lock_timeout_ms integer, p_daily_limit bigint
) RETURNS varchar AS $$
DECLARE
    d ledger_account%ROWTYPE;
    c ledger_account%ROWTYPE;
    n integer;
    spendable bigint;
    counter ledger_dailycredit%ROWTYPE;
BEGIN
    PERFORM set_config('lock_timeout', p_lock_timeout_ms::text, true);
    PERFORM 1 FROM ledger_account WHERE id IN (p_debit, p_credit) ORDER BY id
        FOR NO KEY UPDATE;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n <> 2 THEN RETURN 'no_account'; END IF;
    IF EXISTS (SELECT 1 FROM ledger_transfer WHERE id = p_id) THEN RETURN 'exists'; END IF;
    SELECT * INTO d FROM ledger_account WHERE id = p_debit;
    SELECT * INTO c FROM ledger_account WHERE id = p_credit;
    -- What may leave the account, as Account.spendable: the issuer alone may go negative;
    -- the escrow may pay out what payers hold in it.
    spendable := d.posted_credits - d.posted_debits - d.pending_debits;
    IF d.system_role = 'escrow' THEN
        spendable := spendable + d.pending_credits;
    END IF;
    IF d.system_role <> 'grant_pool' AND spendable < p_amount THEN
        RETURN 'insufficient';
    END IF;
    IF c.max_balance IS NOT NULL
       AND c.posted_credits - c.posted_debits + c.pending_credits + p_amount > c.max_balance THEN
        RETURN 'balance_cap';
    END IF;
    -- A member's service minutes of one day, against the cap in force when the day's
    -- first minutes were counted (the engine's _charge_daily).
    IF p_code = 'service' AND p_service_date IS NOT NULL AND c.user_id IS NOT NULL THEN
        SELECT * INTO counter FROM ledger_dailycredit
            WHERE user_id = c.user_id AND service_date = p_service_date FOR NO KEY UPDATE;
        IF NOT FOUND THEN
            IF p_daily_limit IS NOT NULL AND p_amount > p_daily_limit THEN
                RETURN 'daily_cap';
            END IF;
            INSERT INTO ledger_dailycredit (user_id, service_date, minutes, "limit")
            VALUES (c.user_id, p_service_date, p_amount, p_daily_limit);
        ELSE
            IF counter."limit" IS NOT NULL AND counter.minutes + p_amount > counter."limit" THEN
                RETURN 'daily_cap';
            END IF;
            UPDATE ledger_dailycredit SET minutes = minutes + p_amount WHERE id = counter.id;
        END IF;
    END IF;
    INSERT INTO ledger_transfer (id, debit_account_id, credit_account_id, amount, kind, code,
        service_date, reference, actor_id, on_behalf_of_id, memo, created_at)
    VALUES (p_id, p_debit, p_credit, p_amount, p_kind, p_code, p_service_date, p_reference,
        p_actor, p_on_behalf_of, p_memo, p_created_at);
    IF p_kind = 'pending' THEN
        UPDATE ledger_account SET pending_debits = pending_debits + p_amount WHERE id = p_debit;
        UPDATE ledger_account SET pending_credits = pending_credits + p_amount
            WHERE id = p_credit;
    ELSE
        UPDATE ledger_account SET posted_debits = posted_debits + p_amount WHERE id = p_debit;
        UPDATE ledger_account SET posted_credits = posted_credits + p_amount WHERE id = p_credit;
    END IF;
    RETURN 'ok';
END;
$$ LANGUAGE plpgsql;
"""
DROP_OLD = (
    "DROP FUNCTION IF EXISTS ledger_single_transfer(uuid, bigint, bigint, bigint, varchar, "
    "varchar, bigint, bigint, varchar, timestamptz, integer)"
)
DROP_NEW = (
    "DROP FUNCTION IF EXISTS ledger_one_transfer(uuid, bigint, bigint, bigint, varchar, "
    "varchar, date, varchar, bigint, bigint, varchar, timestamptz, integer, bigint)"
)


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: the Python engine does this work
    schema_editor.execute(CREATE, params=None)
    schema_editor.execute(DROP_OLD, params=None)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    previous.forwards(apps, schema_editor)
    schema_editor.execute(DROP_NEW, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0009_statement_line_indexes")]

    operations = [migrations.RunPython(forwards, backwards)]
