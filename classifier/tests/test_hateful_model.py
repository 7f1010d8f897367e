"""The second shipped model, `hateful`, registered by a data migration beside sentiment."""

import json

import pytest
from django.core.management import call_command

import ml
from classifier import ml_bridge
from classifier.models import LabelSet

pytestmark = pytest.mark.model


def test_it_registers_the_hateful_label_set_and_its_shipped_model(hateful_model):
    label_set = LabelSet.objects.get(name="hateful")
    assert label_set.classes == ["hateful", "not_hateful"]
    assert label_set.alert_class == "hateful"
    assert "religious" in label_set.description.lower()
    assert hateful_model.artifact_path == "ml/shipped/hateful"
    model = ml.load_model(ml_bridge.resolve_artifact_path(hateful_model.artifact_path))
    assert model.label_set == "hateful" and model.classes == ["hateful", "not_hateful"]
    assert hateful_model.metrics["auroc"] > 0.7


def test_classify_json_returns_the_hateful_models_probabilities(
    hateful_model, meme_image, tmp_path, capsys
):
    path = tmp_path / "meme.png"
    path.write_bytes(meme_image(top="NOBODY EXPECTS THE WEEKEND"))
    call_command("classify", str(path), "--json", "--label-set", "hateful")
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    prediction = result["predictions"]["hateful"]
    assert prediction["model_version"] == hateful_model.version
    assert set(prediction["probabilities"]) == {"hateful", "not_hateful"}
    assert sum(prediction["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert prediction["label"] in {"hateful", "not_hateful"}


def test_every_upload_is_classified_for_both_shipped_models(hateful_model, meme_factory):
    from classifier.services import meme_classify

    meme = meme_factory()
    meme_classify(meme_id=meme.pk)
    assert set(meme.predictions.values_list("label_set__name", flat=True)) == {
        "sentiment",
        "hateful",
    }


def test_an_install_with_hateful_v1_keeps_it_and_gets_the_shipped_v2_active(hateful_model):
    import importlib

    from django.apps import apps

    from classifier.models import ModelVersion

    migration = importlib.import_module("classifier.migrations.0011_ml_shipped_hateful_v2")
    # The row 0009 left on an install made before hateful-v2 was shipped.
    hateful_model.version, hateful_model.artifact_path = "hateful-v1", "ml/shipped/hateful"
    hateful_model.save()
    migration.register_v2(apps, None)

    shipped = json.loads((ml.default_model_path("hateful") / "manifest.json").read_text())
    v1 = ModelVersion.objects.get(version="hateful-v1")
    v2 = ModelVersion.objects.get(label_set__name="hateful", is_active=True)
    assert (v1.artifact_path, v1.is_active) == ("ml/shipped/hateful-v1", False)
    assert (v2.version, v2.artifact_path) == (shipped["version"], "ml/shipped/hateful")
    assert ml.load_model(ml_bridge.resolve_artifact_path(v1.artifact_path)).version == "hateful-v1"
    assert ml.load_model(ml_bridge.resolve_artifact_path(v2.artifact_path)).version == "hateful-v2"
    migration.register_v2(apps, None)  # a second run changes nothing
    assert ModelVersion.objects.filter(label_set__name="hateful").count() == 2


def test_a_fresh_install_registers_the_shipped_hateful_v2_directly(hateful_model):
    assert hateful_model.version == "hateful-v2"
    assert not hateful_model.label_set.versions.exclude(pk=hateful_model.pk).exists()
