from django.db import migrations, models
from django.utils import timezone


def fail_all_but_the_newest_open_run(apps, schema_editor):
    """Older duplicates of an open run would break the new constraint: they are stuck anyway."""
    RetrainRun = apps.get_model("moderation", "RetrainRun")
    seen = set()
    open_runs = RetrainRun.objects.filter(status__in=["queued", "running"]).order_by("-id")
    for run in open_runs:
        if run.label_set_id in seen:
            run.status = "failed"
            run.error = "superseded: a newer run of this label set was already open"
            run.finished_at = timezone.now()
            run.save(update_fields=["status", "error", "finished_at"])
        seen.add(run.label_set_id)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0004_second_review"),
    ]

    operations = [
        migrations.AddField(
            model_name="retrainrun",
            name="task_id",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.RunPython(fail_all_but_the_newest_open_run, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="retrainrun",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ["queued", "running"])),
                fields=("label_set",),
                name="one_open_retrain_run_per_label_set",
            ),
        ),
    ]
