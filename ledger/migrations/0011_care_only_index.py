"""Coins received for the member's own care, summed on every coins page, are found through
an index of their own rows only (an active volunteer has thousands of service credits)."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0010_one_transfer_function'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='transfer',
            index=models.Index(condition=models.Q(('code__in', ['grant', 'gift', 'donation'])), fields=['credit_account'], name='transfer_care_only_idx'),
        ),
    ]
