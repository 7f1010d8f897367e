"""POST /api/v1/memes/: storing, duplicates, and every bad upload, with nothing stored."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from classifier.models import Meme
from classifier.tests.api.helpers import error_of
from conftest import encode, render_meme

pytestmark = pytest.mark.django_db

URL = "/api/v1/memes/"


def upload(client, data: bytes, name: str = "meme.png", **fields):
    fields["image"] = SimpleUploadedFile(name, data, content_type="image/png")
    return client.post(URL, fields, format="multipart")


def test_it_stores_an_upload_and_answers_202_with_the_meme(
    user_client, user, meme_image, meme_files, django_capture_on_commit_callbacks
):
    data = meme_image(fmt="JPEG")
    with django_capture_on_commit_callbacks() as callbacks:
        response = upload(user_client, data, "cat.jpg", text="  so true ")

    assert response.status_code == 202, response.json()
    meme = Meme.objects.get()
    body = response.json()
    assert body["id"] == meme.pk
    assert body["status"] == "pending"
    assert body["url"] == f"http://testserver/api/v1/memes/{meme.pk}/"
    assert response["Location"] == body["url"]
    assert body["caption"] == "so true"
    assert body["original_name"] == "cat.jpg"
    assert body["uploader"] == "alice"
    assert body["predictions"] == [] and body["human_labels"] == []
    assert meme.sha256 == hashlib.sha256(data).hexdigest()
    assert meme.uploader == user
    assert meme_files() == [meme.image.name]
    assert len(callbacks) == 1  # the classification task, enqueued on commit


def test_the_upload_answers_with_the_meme_as_the_list_shows_it_without_reading_it_back(
    user_client, meme_image, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with django_capture_on_commit_callbacks(), CaptureQueriesContext(connection) as queries:
        response = upload(user_client, meme_image(fmt="JPEG"), "cat.jpg", text="so true")
    assert response.status_code == 202
    sql = [q["sql"] for q in queries.captured_queries]
    inserted = next(i for i, q in enumerate(sql) if q.startswith('INSERT INTO "classifier_meme"'))
    # The meme, its predictions, corrections or second reviews, read again.
    tables = (
        '"classifier_meme"',
        '"classifier_prediction"',
        '"moderation_labelcorrection"',
        '"moderation_secondreview"',
    )
    read_back = [
        q
        for q in sql[inserted:]
        if q.startswith("SELECT") and q.split(" FROM ")[1].startswith(tables)
    ]
    assert read_back == []
    listed = user_client.get(URL).json()["results"]
    assert [response.json()] == listed


def test_it_answers_200_with_the_existing_meme_for_the_same_bytes(
    user_client, meme_image, django_capture_on_commit_callbacks
):
    data = meme_image()
    with django_capture_on_commit_callbacks():
        first = upload(user_client, data)
    with django_capture_on_commit_callbacks() as callbacks:
        second = upload(user_client, data, "again.png", text="other text")

    assert first.status_code == 202
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["caption"] == ""
    assert Meme.objects.count() == 1
    assert callbacks == []


@pytest.mark.model
def test_an_api_upload_is_classified_and_the_detail_shows_the_prediction(
    user_client, meme_image, active_model, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(user_client, meme_image("I LOVE MONDAYS", "SAID NO ONE"))
    meme_id = response.json()["id"]

    body = user_client.get(f"/api/v1/memes/{meme_id}/").json()
    assert body["status"] == "classified", body["failure_reason"]
    (prediction,) = body["predictions"]
    assert prediction["label_set"] == "sentiment"
    assert prediction["model_version"] == active_model.version
    assert set(prediction["probabilities"]) == {"positive", "negative"}
    assert sum(prediction["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    assert prediction["label"] in ("positive", "negative")
    assert body["finished_at"] is not None


# --- Bad uploads: the web form's validation, each with its status and code -------------------


def truncated_jpeg(meme_image) -> bytes:
    data = meme_image(fmt="JPEG")
    return data[: len(data) // 2]


def huge_png(size=(3000, 3000)) -> bytes:
    return encode(Image.new("L", size), "PNG")


def tiff(meme_image) -> bytes:
    return encode(render_meme("TIFF", size=(200, 150)), "TIFF")


BAD_UPLOADS = [
    # (case, bytes factory, status, error code)
    ("empty", lambda m: b"", 400, "empty_file"),
    ("truncated jpeg", truncated_jpeg, 400, "invalid_image"),
    ("garbage after a PNG signature", lambda m: b"\x89PNG\r\n\x1a\n" + b"\0" * 200, 400, None),
    ("plain text", lambda m: b"just some words, not a picture\n" * 10, 415, None),
    ("svg", lambda m: b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>', 415, None),
    ("tiff", tiff, 415, "unsupported_image_type"),
    ("pdf", lambda m: b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", 415, None),
]


@pytest.mark.parametrize(
    ("case", "make", "status", "code"), BAD_UPLOADS, ids=[c[0] for c in BAD_UPLOADS]
)
def test_it_refuses_a_bad_upload_and_stores_nothing(
    user_client, meme_image, meme_files, case, make, status, code
):
    response = upload(user_client, make(meme_image), "meme.png")

    assert response.status_code == status
    body = error_of(response)
    if code:
        assert body["error"] == code
    assert body["field"] == "image"
    assert Meme.objects.count() == 0
    assert meme_files() == []


def test_it_answers_413_for_a_file_over_the_size_limit(
    user_client, settings, meme_image, meme_files
):
    data = meme_image()
    settings.MAX_UPLOAD_BYTES = len(data) - 1
    response = upload(user_client, data)

    assert response.status_code == 413
    body = error_of(response)
    assert body["error"] == "file_too_large"
    assert "limit" in body["detail"]
    assert Meme.objects.count() == 0 and meme_files() == []


def test_it_refuses_a_body_far_over_the_limit_before_reading_it(user_client, settings):
    settings.MAX_UPLOAD_BYTES = 1000
    response = upload(user_client, b"\0" * 200_000)
    assert response.status_code == 413
    assert error_of(response)["error"] == "file_too_large"


def test_it_answers_413_for_an_image_over_the_pixel_limit(user_client, settings, meme_files):
    settings.MAX_IMAGE_PIXELS = 1_000_000
    response = upload(user_client, huge_png((1200, 1000)))

    assert response.status_code == 413
    body = error_of(response)
    assert body["error"] == "too_many_pixels"
    assert "megapixels" in body["detail"]
    assert Meme.objects.count() == 0 and meme_files() == []


def test_it_names_the_field_when_the_image_is_missing(user_client):
    response = user_client.post(URL, {"text": "no image"}, format="multipart")
    assert response.status_code == 400
    body = error_of(response)
    assert body["error"] == "invalid"
    assert body["field"] == "image"
    assert body["fields"]["image"]


def test_it_names_the_field_when_the_image_is_not_a_file(user_client):
    response = user_client.post(URL, {"image": "not a file"}, format="multipart")
    assert response.status_code == 400
    assert error_of(response)["field"] == "image"


def test_it_refuses_a_text_over_2000_characters(user_client, meme_image, meme_files):
    response = upload(user_client, meme_image(), text="x" * 2001)
    assert response.status_code == 400
    assert error_of(response)["field"] == "text"
    assert Meme.objects.count() == 0 and meme_files() == []


def test_it_refuses_a_nul_character_in_the_text(user_client, meme_image):
    response = upload(user_client, meme_image(), text="a\x00b")
    assert response.status_code == 400
    assert error_of(response)["field"] == "text"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [("text/plain", b"hello"), ("application/xml", b"<image/>")],
)
def test_it_answers_415_for_a_body_that_is_neither_multipart_nor_json(
    user_client, content_type, body
):
    response = user_client.generic("POST", URL, body, content_type=content_type)
    assert response.status_code == 415
    assert error_of(response)["error"] == "unsupported_media_type"


def test_it_answers_400_for_json_that_carries_a_file_as_a_string(user_client):
    # JSON is for `image_url` (test_upload_url.py); a file must come as multipart.
    response = user_client.generic("POST", URL, b'{"image": "x"}', content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["field"] == "image"


def test_it_answers_400_for_a_malformed_multipart_body(user_client):
    response = user_client.generic(
        "POST", URL, b"--nope\r\ngarbage", content_type="multipart/form-data; boundary=xyz"
    )
    assert response.status_code == 400
    assert error_of(response)["error"] in ("parse_error", "invalid")


def test_it_reads_the_type_from_the_bytes_not_the_name(user_client, meme_image):
    data = meme_image(fmt="JPEG")
    response = upload(user_client, data, "looks-like.gif")
    assert response.status_code == 202
    assert Meme.objects.get().content_type == "image/jpeg"


def test_it_accepts_every_supported_format(user_client):
    image = render_meme("FORMATS", size=(160, 120))
    for n, fmt in enumerate(("PNG", "JPEG", "WEBP", "GIF", "BMP")):
        data = encode(image.rotate(n), fmt)
        response = upload(user_client, data, f"m.{fmt.lower()}")
        assert response.status_code == 202, (fmt, response.json())
    assert Meme.objects.count() == 5
