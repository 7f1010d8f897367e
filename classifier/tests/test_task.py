"""The classification task: OCR, every active model, predictions, and failures."""

import json
import math
import shutil

import pytest
from django_q.models import Task

from classifier import ml_bridge, services, tasks
from classifier.models import LabelSet, Meme, ModelVersion

pytestmark = pytest.mark.django_db


def words(text: str) -> set[str]:
    return {w.strip(".,!?'\"").upper() for w in text.split()}


@pytest.mark.model
def test_it_reads_the_text_and_classifies_a_meme(meme_factory, active_model):
    meme = meme_factory(top="MONDAY MORNING", bottom="AGAIN", caption="ugh")
    assert tasks.classify_meme(meme.pk) == "classified"

    meme.refresh_from_db()
    assert meme.status == Meme.Status.CLASSIFIED
    assert meme.failure_reason == ""
    assert {"MONDAY", "MORNING"} <= words(meme.ocr_text)
    assert meme.attempts == 1
    assert meme.finished_at >= meme.processing_started_at
    (prediction,) = meme.predictions.all()
    assert prediction.model_version == active_model
    assert prediction.label_set.name == "sentiment"
    assert set(prediction.probabilities) == {"positive", "negative"}
    assert math.isclose(sum(prediction.probabilities.values()), 1.0, abs_tol=1e-4)
    assert prediction.label == max(prediction.probabilities, key=prediction.probabilities.get)
    assert prediction.confidence == max(prediction.probabilities.values())
    p = sorted(prediction.probabilities.values())
    assert math.isclose(prediction.margin, p[1] - p[0], abs_tol=1e-9)
    assert 0 <= prediction.entropy <= math.log(2) + 1e-9
    assert prediction.duration_ms >= 0


@pytest.mark.model
def test_it_reads_the_text_with_tesseract_too(settings, meme_factory, active_model):
    settings.OCR_ENGINE = "tesseract"
    meme = meme_factory(top="COFFEE FIRST", bottom="TALK LATER")
    tasks.classify_meme(meme.pk)
    meme.refresh_from_db()
    assert meme.status == Meme.Status.CLASSIFIED
    assert {"COFFEE", "FIRST"} <= words(meme.ocr_text)


@pytest.mark.model
def test_it_classifies_with_every_label_set_that_has_an_active_model(meme_factory, active_model):
    humour = LabelSet.objects.create(name="humour", classes=["positive", "negative"])
    services.model_version_register(
        label_set=humour,
        version="humour-test",
        artifact_path=active_model.artifact_path,
        activate=True,
    )
    LabelSet.objects.create(name="unused", classes=["a", "b"])  # no model: skipped
    meme = meme_factory()
    tasks.classify_meme(meme.pk)
    names = sorted(meme.predictions.values_list("label_set__name", flat=True))
    assert names == ["humour", "sentiment"]


@pytest.mark.model
def test_an_upload_is_classified_through_django_q_on_commit(
    meme_factory, active_model, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        meme = meme_factory(top="IT WORKS")
    meme.refresh_from_db()
    assert meme.status == Meme.Status.CLASSIFIED
    task = Task.objects.get(name=f"classify-meme-{meme.pk}")
    assert task.success
    assert task.result == "classified"


@pytest.mark.model
def test_a_reclassification_adds_a_prediction_and_keeps_the_old_one(
    meme_factory, active_model, django_capture_on_commit_callbacks
):
    meme = meme_factory()
    tasks.classify_meme(meme.pk)
    with django_capture_on_commit_callbacks(execute=True):
        services.meme_request_classification(meme=meme)
    meme.refresh_from_db()
    assert meme.status == Meme.Status.CLASSIFIED
    assert meme.predictions.count() == 2


def test_it_fails_with_a_reason_when_no_model_is_active(meme_factory):
    ModelVersion.objects.update(is_active=False)
    meme = meme_factory()
    assert tasks.classify_meme(meme.pk) == "failed"
    meme.refresh_from_db()
    assert meme.status == Meme.Status.FAILED
    assert meme.failure_reason == "No model is active to classify memes with yet (error M101)."
    assert "no active model version" in meme.failure_detail
    assert meme.finished_at is not None


def test_it_fails_with_a_reason_when_the_model_cannot_be_loaded(
    settings, meme_factory, sentiment, tmp_path
):
    settings.OCR_ENGINE = "tesseract"
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json")
    ModelVersion.objects.update(is_active=False)
    services.model_version_register(
        label_set=sentiment, version="broken", artifact_path=str(broken), activate=True
    )
    meme = meme_factory()
    tasks.classify_meme(meme.pk)
    meme.refresh_from_db()
    assert meme.status == Meme.Status.FAILED
    assert meme.failure_reason == "The model for sentiment could not be loaded (error M102)."
    assert "classifying with broken failed: cannot load model" in meme.failure_detail
    assert str(broken) in meme.failure_detail
    assert meme.predictions.count() == 0


def test_it_fails_with_a_reason_when_ocr_fails(settings, meme_factory, sentiment):
    settings.OCR_ENGINE = "no-such-engine"
    ModelVersion.objects.update(is_active=False)
    ModelVersion.objects.create(
        label_set=sentiment, version="any", artifact_path="/x", is_active=True
    )
    meme = meme_factory()
    tasks.classify_meme(meme.pk)
    meme.refresh_from_db()
    assert meme.status == Meme.Status.FAILED
    assert meme.failure_reason == "The text in the picture could not be read (error O101)."
    assert meme.failure_detail.startswith("OCR failed: unknown OCR engine")


def test_it_fails_with_a_reason_when_the_image_file_is_gone(meme_factory):
    meme = meme_factory()
    meme.image.storage.delete(meme.image.name)
    tasks.classify_meme(meme.pk)
    meme.refresh_from_db()
    assert meme.status == Meme.Status.FAILED
    assert meme.failure_reason == "The stored picture of this meme is missing (error I102)."
    assert "No such file" in meme.failure_detail


def test_a_failing_task_is_not_left_processing_even_on_unexpected_errors(monkeypatch, meme_factory):
    def explode(**kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(services, "image_classify", explode)
    meme = meme_factory()
    tasks.classify_meme(meme.pk)
    meme.refresh_from_db()
    assert meme.status == Meme.Status.FAILED
    assert meme.failure_reason.endswith("(error E100).")
    assert meme.failure_detail == "out of memory"


def test_it_leaves_a_classified_meme_alone(meme_factory):
    meme = meme_factory()
    Meme.objects.filter(pk=meme.pk).update(status=Meme.Status.CLASSIFIED)
    assert tasks.classify_meme(meme.pk) == "skipped"


def test_it_leaves_a_meme_another_worker_is_processing_alone(meme_factory):
    from django.utils import timezone

    meme = meme_factory()
    Meme.objects.filter(pk=meme.pk).update(
        status=Meme.Status.PROCESSING, processing_started_at=timezone.now(), attempts=1
    )
    assert tasks.classify_meme(meme.pk) == "skipped"
    assert Meme.objects.get(pk=meme.pk).attempts == 1


def test_it_gives_up_on_a_meme_whose_worker_keeps_dying(settings, meme_factory):
    meme = meme_factory()
    Meme.objects.filter(pk=meme.pk).update(attempts=settings.MEME_MAX_ATTEMPTS)
    assert tasks.classify_meme(meme.pk) == "skipped"
    meme.refresh_from_db()
    assert meme.status == Meme.Status.FAILED
    assert meme.failure_reason.endswith("(error W101).")
    assert meme.failure_detail.startswith(f"gave up after {settings.MEME_MAX_ATTEMPTS} attempts")


def test_it_ignores_a_meme_that_no_longer_exists():
    assert tasks.classify_meme(123456) == "skipped"


def test_the_bridge_stores_shipped_paths_relative_to_the_repository(settings):
    shipped = settings.BASE_DIR / "ml" / "shipped" / "sentiment"
    assert ml_bridge.relative_artifact_path(shipped) == "ml/shipped/sentiment"
    assert ml_bridge.resolve_artifact_path("ml/shipped/sentiment") == shipped
    assert ml_bridge.relative_artifact_path("/srv/models/v7") == "/srv/models/v7"


@pytest.mark.model
def test_the_migration_registered_the_shipped_model_as_active(sentiment, settings):
    manifest = json.loads((settings.BASE_DIR / "ml/shipped/sentiment/manifest.json").read_text())
    version = ModelVersion.objects.get(version=manifest["version"])
    assert version.is_active
    assert version.artifact_path == "ml/shipped/sentiment"
    assert version.label_set == sentiment


@pytest.mark.model
def test_a_promoted_version_is_used_by_the_next_task_without_restart(
    meme_factory, active_model, tmp_path
):
    copy = tmp_path / "sentiment-v2"
    shutil.copytree(ml_bridge.resolve_artifact_path(active_model.artifact_path), copy)
    meme = meme_factory()
    tasks.classify_meme(meme.pk)
    assert ml_bridge.loaded_models()["sentiment"] == active_model.artifact_path

    promoted = services.model_version_register(
        label_set=active_model.label_set,
        version="sentiment-promoted",
        artifact_path=str(copy),
        parent=active_model,
        activate=True,
    )
    second = meme_factory()
    tasks.classify_meme(second.pk)
    assert second.predictions.get().model_version == promoted
    assert ml_bridge.loaded_models()["sentiment"] == str(copy)
