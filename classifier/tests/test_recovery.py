"""Recovery paths at small scale: the broker down, OCR missing, the model file unreadable.

Each fault is real (a Redis port where nothing listens, no tesseract on PATH, a damaged
model file); the meme must end in a clear state, the app must keep answering, and once
the fault is fixed the meme must end classified. (A worker killed mid-task, with real
worker processes, is in test_workers.py.)
"""

import logging
import shutil
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf

from classifier import services
from classifier.models import Meme, ModelVersion

pytestmark = [pytest.mark.django_db, pytest.mark.model]


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def upload(client, meme_image, capture, *, top: str, seed: int) -> Meme:
    data = meme_image(top=top, bottom="RECOVERY", seed=seed)
    with capture(execute=True):
        response = client.post(reverse("classifier:upload"), {"image": _file(data, seed)})
    assert response.status_code == 302, response.content[:500]
    return Meme.objects.get(pk=int(response["Location"].rstrip("/").rsplit("/", 1)[-1]))


def _file(data: bytes, seed: int):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(f"meme-{seed}.png", data, content_type="image/png")


def retry(client, meme: Meme, capture) -> Meme:
    with capture(execute=True):
        response = client.post(reverse("classifier:meme_retry", args=[meme.pk]))
    assert response.status_code == 302
    meme.refresh_from_db()
    return meme


def test_an_upload_while_the_broker_is_down_is_kept_and_queued_later_by_the_sweep(
    logged_in, meme_image, active_model, monkeypatch, settings, caplog,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    # The real Redis client against a port where nothing listens: enqueueing fails.
    monkeypatch.setattr(Conf, "SYNC", False)
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", "redis://127.0.0.1:9/0")
    with caplog.at_level(logging.ERROR):
        meme = upload(logged_in, meme_image, django_capture_on_commit_callbacks, top="DOWN", seed=1)
    assert meme.status == Meme.Status.PENDING
    assert "Error calling _enqueue_on_commit" in caplog.text
    assert "Connection refused" in caplog.text
    page = logged_in.get(reverse("classifier:meme_detail", args=[meme.pk]))
    assert page.status_code == 200

    monkeypatch.undo()  # the broker is back (tasks run in-process again)
    Meme.objects.filter(pk=meme.pk).update(
        queued_at=timezone.now() - timedelta(seconds=settings.MEME_STALE_SECONDS + 1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        call_command("sweep_stale_memes")
    meme.refresh_from_db()
    assert meme.status == Meme.Status.CLASSIFIED
    assert meme.predictions.count() == 1


def test_memes_fail_clearly_while_tesseract_is_missing_and_succeed_on_retry_after_the_fix(
    logged_in, meme_image, active_model, monkeypatch, settings, tmp_path,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    settings.OCR_ENGINE = "tesseract"
    empty = tmp_path / "no-tesseract-here"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    capture = django_capture_on_commit_callbacks
    first = upload(logged_in, meme_image, capture, top="NO OCR", seed=2)
    second = upload(logged_in, meme_image, capture, top="STILL NO OCR", seed=3)
    for meme in (first, second):
        meme.refresh_from_db()
        assert meme.status == Meme.Status.FAILED
        # The uploader reads a sentence with a code; the operator's hint is for staff.
        assert meme.failure_reason == "The text in the picture could not be read (error O101)."
        assert meme.failure_detail.startswith("OCR failed: tesseract")
        assert "install the Debian package tesseract-ocr" in meme.failure_detail
    page = logged_in.get(reverse("classifier:meme_detail", args=[first.pk]))
    assert page.status_code == 200 and b"(error O101)" in page.content
    assert b"install the Debian package" not in page.content

    monkeypatch.undo()  # tesseract is back on PATH
    for meme in (first, second):
        meme = retry(logged_in, meme, capture)
        assert meme.status == Meme.Status.CLASSIFIED, meme.failure_reason
        assert meme.failure_reason == ""
        assert "OCR" in meme.ocr_text.upper()


def test_memes_fail_clearly_while_the_model_file_is_unreadable_and_succeed_after_the_fix(
    logged_in, meme_image, active_model, settings, tmp_path,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    from classifier import ml_bridge

    folder = tmp_path / "sentiment-copy"
    shutil.copytree(ml_bridge.resolve_artifact_path(active_model.artifact_path), folder)
    copy = services.model_version_register(
        label_set=active_model.label_set,
        version="sentiment-copy",
        artifact_path=str(folder),
        activate=True,
    )
    head = folder / "head.onnx"
    good = head.read_bytes()
    head.write_bytes(good[: len(good) // 3])  # a half-written copy: unreadable as a model

    capture = django_capture_on_commit_callbacks
    meme = upload(logged_in, meme_image, capture, top="BROKEN MODEL", seed=4)
    meme.refresh_from_db()
    assert meme.status == Meme.Status.FAILED
    assert meme.failure_reason == "The model for sentiment could not be loaded (error M102)."
    assert meme.failure_detail.startswith("classifying with sentiment-copy failed: cannot load")
    assert str(folder) in meme.failure_detail
    # The rest keeps working: another upload is accepted and stored.
    other = upload(logged_in, meme_image, capture, top="ANOTHER ONE", seed=5)
    assert Meme.objects.filter(pk=other.pk).exists()

    head.write_bytes(good)
    meme = retry(logged_in, meme, capture)
    assert meme.status == Meme.Status.CLASSIFIED, meme.failure_reason
    assert meme.predictions.get().model_version == copy
    assert ModelVersion.objects.get(is_active=True, label_set=copy.label_set) == copy
