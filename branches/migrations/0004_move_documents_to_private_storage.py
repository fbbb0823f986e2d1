from django.db import migrations

from branches.private_files import move_to_private_storage


def move(apps, schema_editor):
    move_to_private_storage(
        apps.get_model("branches", "ServiceBase"),
        {"document": "base-documents"},
        history_model=apps.get_model("branches", "HistoricalServiceBase"),
    )


class Migration(migrations.Migration):
    dependencies = [("branches", "0003_private_documents")]

    # Not reversed: the documents stay private (and keep their random names).
    operations = [migrations.RunPython(move, migrations.RunPython.noop)]
