"""The single-transfer function locks its two accounts FOR NO KEY UPDATE, as every other
writer does (docs/architecture.md, "Lock order"): a transfer inserted by someone else checks
its foreign key to the account with FOR KEY SHARE, which a NO KEY lock lets by."""

import importlib

from django.db import migrations

previous = importlib.import_module("ledger.migrations.0005_single_transfer_function_spendable")
OLD_LOCK = "ORDER BY id FOR UPDATE;"
NEW_LOCK = "ORDER BY id FOR NO KEY UPDATE;"


def _create(schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: the Python engine does this work
    schema_editor.execute(sql, params=None)


def forwards(apps, schema_editor):
    assert OLD_LOCK in previous.CREATE
    _create(schema_editor, previous.CREATE.replace(OLD_LOCK, NEW_LOCK))


def backwards(apps, schema_editor):
    _create(schema_editor, previous.CREATE)


class Migration(migrations.Migration):
    dependencies = [("ledger", "0006_gifts_donation_pool")]

    operations = [migrations.RunPython(forwards, backwards)]
