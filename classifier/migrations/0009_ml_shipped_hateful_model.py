import json
from pathlib import Path

from django.db import migrations
from django.utils import timezone

# The second model shipped in the repository (ml/shipped/hateful), registered beside
# sentiment so a fresh install classifies every upload for both. Stored relative to
# BASE_DIR so the row stays valid wherever the repository is checked out.
SHIPPED = "ml/shipped/hateful"
BASE_DIR = Path(__file__).resolve().parents[2]
DESCRIPTION = (
    "Religious hate: trained on ~1,200 English memes of the Multimodal Religiously Hateful "
    "Memes dataset (picture, OCR text and caption). Other kinds of hate need local corrections "
    "and a retrain."
)


def register_hateful(apps, schema_editor):
    LabelSet = apps.get_model("classifier", "LabelSet")
    ModelVersion = apps.get_model("classifier", "ModelVersion")
    label_set, _ = LabelSet.objects.get_or_create(
        name="hateful",
        defaults={
            "classes": ["hateful", "not_hateful"],
            "alert_class": "hateful",
            "description": DESCRIPTION,
        },
    )
    manifest_path = BASE_DIR / SHIPPED / "manifest.json"
    if not manifest_path.exists():
        return  # a checkout without the shipped model: the label set waits for a retrain
    manifest = json.loads(manifest_path.read_text())
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


def unregister_hateful(apps, schema_editor):
    ModelVersion = apps.get_model("classifier", "ModelVersion")
    ModelVersion.objects.filter(artifact_path=SHIPPED).delete()


class Migration(migrations.Migration):
    dependencies = [("classifier", "0008_meme_signals")]

    operations = [migrations.RunPython(register_hateful, unregister_hateful)]
