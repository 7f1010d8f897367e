import json
from pathlib import Path

from django.db import migrations
from django.utils import timezone

# A release replaced the shipped hateful model: ml/shipped/hateful now holds hateful-v2
# (trained on the OCR text the worker serves) and hateful-v1 moved to ml/shipped/hateful-v1.
# A fresh install registered the folder's model in 0009 and has nothing to do here. An
# install that registered hateful-v1 keeps its row (its predictions name the version that
# made them), pointed at v1's new folder, and gets hateful-v2 beside it; v2 becomes active
# only where the shipped v1 still was (a model the team promoted itself stays active).
SHIPPED = "ml/shipped/hateful"
V1, V1_FOLDER = "hateful-v1", "ml/shipped/hateful-v1"
BASE_DIR = Path(__file__).resolve().parents[2]


def register_v2(apps, schema_editor):
    ModelVersion = apps.get_model("classifier", "ModelVersion")
    manifest_path = BASE_DIR / SHIPPED / "manifest.json"
    v1 = ModelVersion.objects.filter(version=V1, artifact_path=SHIPPED).first()
    if v1 is None or not manifest_path.exists():
        return
    manifest = json.loads(manifest_path.read_text())
    v1.artifact_path = V1_FOLDER
    was_active = v1.is_active
    v1.is_active = False
    v1.save(update_fields=["artifact_path", "is_active"])
    ModelVersion.objects.get_or_create(
        version=manifest["version"],
        defaults={
            "label_set": v1.label_set,
            "artifact_path": SHIPPED,
            "metrics": manifest.get("metrics") or {},
            "training_counts": manifest.get("training_counts") or {},
            "is_active": was_active,
            "activated_at": timezone.now() if was_active else None,
        },
    )


def unregister_v2(apps, schema_editor):
    ModelVersion = apps.get_model("classifier", "ModelVersion")
    v1 = ModelVersion.objects.filter(version=V1, artifact_path=V1_FOLDER).first()
    if v1 is None:
        return
    v2 = ModelVersion.objects.filter(artifact_path=SHIPPED).exclude(pk=v1.pk).first()
    if v2 is not None:
        v1.is_active = v2.is_active
        v2.delete()
    v1.artifact_path = SHIPPED
    v1.save(update_fields=["artifact_path", "is_active"])


class Migration(migrations.Migration):
    dependencies = [("classifier", "0010_merge")]

    operations = [migrations.RunPython(register_v2, unregister_v2)]
