from django.db import migrations

from branches.private_files import move_to_private_storage


def move(apps, schema_editor):
    move_to_private_storage(
        apps.get_model("accounts", "Member"),
        {"id_document_front": "id-documents", "id_document_back": "id-documents"},
        history_model=apps.get_model("accounts", "HistoricalMember"),
    )
    move_to_private_storage(
        apps.get_model("accounts", "Relative"),
        {"proof": "relative-proofs"},
        history_model=apps.get_model("accounts", "HistoricalRelative"),
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0004_private_documents")]

    # Not reversed: the documents stay private (and keep their random names).
    operations = [migrations.RunPython(move, migrations.RunPython.noop)]
