import json
from pathlib import Path

from django.db import migrations
from django.utils import timezone

# The default model shipped in the repository (see ml/shipped/). Stored relative to
# BASE_DIR so the row stays valid wherever the repository is checked out.
SHIPPED = "ml/shipped/sentiment"
BASE_DIR = Path(__file__).resolve().parents[2]


def register_shipped_model(apps, schema_editor):
    LabelSet = apps.get_model("classifier", "LabelSet")
    ModelVersion = apps.get_model("classifier", "ModelVersion")
    manifest_path = BASE_DIR / SHIPPED / "manifest.json"
    if not manifest_path.exists():
        # A checkout without the shipped model: memes fail with "no active model version"
        # until one is registered.
        return
    manifest = json.loads(manifest_path.read_text())
    label_set = LabelSet.objects.get(name="sentiment")
    has_active = ModelVersion.objects.filter(label_set=label_set, is_active=True).exists()
    ModelVersion.objects.get_or_create(
        version=manifest["version"],
        defaults={
            "label_set": label_set,
            "artifact_path": SHIPPED,
            "metrics": manifest.get("metrics") or {},
            "training_counts": manifest.get("training_counts") or {},
            "is_active": not has_active,
            "activated_at": None if has_active else timezone.now(),
        },
    )


class Migration(migrations.Migration):
    dependencies = [("classifier", "0002_sentiment_label_set")]

    operations = [migrations.RunPython(register_shipped_model, migrations.RunPython.noop)]
