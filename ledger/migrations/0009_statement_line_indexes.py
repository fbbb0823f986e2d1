"""Statement pages seek on (account, created_at, id): the id settles lines of one instant,
so a keyset page never sorts an account's history. Gifts are found by their transfers and
listed newest first."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("ledger", "0008_alter_account_system_role")]

    operations = [
        migrations.AddIndex(
            model_name="transfer",
            index=models.Index(
                fields=["debit_account", "-created_at", "-id"], name="transfer_debit_line_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="transfer",
            index=models.Index(
                fields=["credit_account", "-created_at", "-id"], name="transfer_credit_line_idx"
            ),
        ),
        migrations.RemoveIndex(model_name="transfer", name="transfer_debit_idx"),
        migrations.RemoveIndex(model_name="transfer", name="transfer_credit_idx"),
        migrations.AddIndex(
            model_name="gift",
            index=models.Index(fields=["transfer_id"], name="gift_transfer_idx"),
        ),
        migrations.AddIndex(
            model_name="gift",
            index=models.Index(fields=["resolution_id"], name="gift_resolution_idx"),
        ),
        migrations.AddIndex(
            model_name="gift",
            index=models.Index(fields=["-created_at"], name="gift_created_idx"),
        ),
    ]
