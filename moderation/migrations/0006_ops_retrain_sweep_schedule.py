from django.conf import settings
from django.db import migrations

SWEEP_NAME = "sweep stuck retrain runs"


def create_schedule(apps, schema_editor):
    # No cluster: django-q2 runs it on the default cluster's scheduler, which always runs,
    # so runs stuck because the slow worker is missing are still swept.
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name=SWEEP_NAME,
        defaults={
            "func": "moderation.tasks.sweep_retrain_runs",
            "schedule_type": "I",  # every `minutes`
            "minutes": settings.RETRAIN_SWEEP_MINUTES,
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SWEEP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0005_ops_retrain_run_claim"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
