"""Indexes for the staff's member lists and member search at a district's scale.

The member list (newest first) and a street's review queue get b-tree indexes (Meta.indexes).
Name and phone search get trigram indexes, which only PostgreSQL has (pg_trgm): they are made
here, outside the model state, and nothing is done on SQLite (``make run``). The expressions
are those Django writes for the admin's lookups (``accounts.selectors.people_matching``):
``UPPER("full_name"::text) LIKE UPPER(…)`` for names, ``"phone"::text LIKE …`` for a number's
last digits; its first digits use the ``_like`` b-tree Django keeps for the unique phone.
"""

from django.db import migrations, models

TRIGRAM_INDEXES = {
    "user_name_trgm": "UPPER(full_name::text) gin_trgm_ops",
    "user_phone_trgm": "phone gin_trgm_ops",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON accounts_user USING gin ({expression})"
        )


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_capacities"),
        ("branches", "0004_move_documents_to_private_storage"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="member",
            index=models.Index(fields=["-created_at"], name="member_newest"),
        ),
        migrations.AddIndex(
            model_name="member",
            index=models.Index(
                fields=["street", "status", "-created_at"], name="member_street_queue"
            ),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
