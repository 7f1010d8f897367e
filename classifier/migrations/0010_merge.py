# The branches that were developed side by side each added a 0009; this joins them.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("classifier", "0009_ml_shipped_hateful_model"),
        ("classifier", "0009_ops_promote_permission"),
        ("classifier", "0009_plat_webhooks"),
        ("classifier", "0009_sec_failure_detail"),
        ("classifier", "0009_ux_review_threshold"),
    ]

    operations = []
