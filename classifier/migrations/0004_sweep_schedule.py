from django.conf import settings
from django.db import migrations

SWEEP_NAME = "sweep stale memes"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        name=SWEEP_NAME,
        defaults={
            "func": "classifier.tasks.sweep_stale_memes",
            "schedule_type": "I",  # every `minutes`
            "minutes": settings.MEME_SWEEP_MINUTES,
            "repeats": -1,
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=SWEEP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("classifier", "0003_shipped_sentiment_model"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
