"""The single-transfer function checks what may leave an account as the engine does.

Only the grant pool may go negative; the escrow may pay out what payers hold in it
(``Account.spendable``). Before this the function exempted every system account.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION ledger_single_transfer(
    p_id uuid, p_debit bigint, p_credit bigint, p_amount bigint, p_code varchar,
    p_reference varchar, p_actor bigint, p_on_behalf_of bigint, p_memo varchar,
    p_created_at timestamptz, p_lock_timeout_ms integer
) RETURNS varchar AS $$
DECLARE
    d ledger_account%ROWTYPE;
    c ledger_account%ROWTYPE;
    n integer;
    spendable bigint;
BEGIN
    PERFORM set_config('lock_timeout', p_lock_timeout_ms::text, true);
    PERFORM 1 FROM ledger_account WHERE id IN (p_debit, p_credit) ORDER BY id FOR UPDATE;
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
    INSERT INTO ledger_transfer (id, debit_account_id, credit_account_id, amount, kind, code,
        reference, actor_id, on_behalf_of_id, memo, created_at)
    VALUES (p_id, p_debit, p_credit, p_amount, 'single', p_code, p_reference, p_actor,
        p_on_behalf_of, p_memo, p_created_at);
    UPDATE ledger_account SET posted_debits = posted_debits + p_amount WHERE id = p_debit;
    UPDATE ledger_account SET posted_credits = posted_credits + p_amount WHERE id = p_credit;
    RETURN 'ok';
END;
$$ LANGUAGE plpgsql;
"""


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: the Python engine does this work
    schema_editor.execute(CREATE, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0004_escrow_covered_by_holds")]

    # Reversing keeps this version: it is stricter than 0003's and the CHECKs agree with it.
    operations = [migrations.RunPython(create_function, migrations.RunPython.noop)]
