from django.db import migrations


def create_sentiment(apps, schema_editor):
    LabelSet = apps.get_model("classifier", "LabelSet")
    LabelSet.objects.get_or_create(
        name="sentiment",
        defaults={
            "classes": ["positive", "negative"],
            "alert_class": "negative",
            "description": "Overall sentiment of the meme (picture and text together).",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("classifier", "0001_initial")]

    operations = [migrations.RunPython(create_sentiment, migrations.RunPython.noop)]
