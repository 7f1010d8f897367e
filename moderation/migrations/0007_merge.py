# The branches that were developed side by side each added a 0005 and a 0006; this joins them.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0006_ops_retrain_sweep_schedule"),
        ("moderation", "0006_ux_dataset_import"),
    ]

    operations = []
