"""Transfers are never updated or deleted: a PostgreSQL trigger refuses it.

The CHECK constraints on the cached totals live in 0001 (declared on the models, so they
hold on SQLite too). The trigger is PostgreSQL-only: on SQLite (a laptop demo) this
migration does nothing, and the services remain the only guard.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION ledger_transfer_immutable() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger_transfer rows are immutable (% refused); post a reversal instead',
        TG_OP USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS ledger_transfer_immutable ON ledger_transfer;
CREATE TRIGGER ledger_transfer_immutable
    BEFORE UPDATE OR DELETE ON ledger_transfer
    FOR EACH ROW EXECUTE FUNCTION ledger_transfer_immutable();
"""

DROP = """
DROP TRIGGER IF EXISTS ledger_transfer_immutable ON ledger_transfer;
DROP FUNCTION IF EXISTS ledger_transfer_immutable();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: no trigger (see the module docstring)
    schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
