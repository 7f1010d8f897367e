"""The upload form through Django's test client: access, storage, every bad input."""

import hashlib
import io

import pytest
from django.db import DatabaseError
from django.urls import reverse
from PIL import Image

from classifier import services
from classifier.models import Meme
from classifier.validation import normalise_upload
from conftest import encode, render_meme

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, user):
    client.force_login(user)
    return client


def post_upload(client, data: bytes, name: str, caption: str = "", content_type="image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(name, data, content_type=content_type)
    return client.post(reverse("classifier:upload"), {"image": upload, "caption": caption})


def test_it_sends_anonymous_visitors_to_the_login_page(client):
    for url in ("/", "/upload/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


def test_it_lets_anonymous_visitors_upload_when_the_setting_allows_it(
    client, settings, meme_image, django_capture_on_commit_callbacks
):
    settings.ALLOW_ANONYMOUS_UPLOAD = True
    with django_capture_on_commit_callbacks():
        response = post_upload(client, meme_image(), "meme.png")
    meme = Meme.objects.get()
    assert response.status_code == 302
    assert meme.uploader is None


def test_it_shows_the_upload_form(logged_in):
    for url in ("/", "/upload/"):
        response = logged_in.get(url)
        assert response.status_code == 200
        assert b'type="file"' in response.content
        assert b'name="caption"' in response.content


def test_it_stores_an_upload_and_queues_its_classification_on_commit(
    logged_in, user, meme_image, meme_files, django_capture_on_commit_callbacks
):
    data = meme_image(fmt="JPEG")
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_upload(logged_in, data, "cat.jpg", caption="  so true  ")

    meme = Meme.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("classifier:meme_detail", args=[meme.pk])
    sha = hashlib.sha256(data).hexdigest()
    assert meme.sha256 == sha
    assert meme.image.name == f"memes/{sha[:2]}/{sha}.jpg"
    assert meme_files() == [meme.image.name]
    assert meme.original_name == "cat.jpg"
    assert meme.content_type == "image/jpeg"
    assert meme.size_bytes == len(data)
    assert (meme.width, meme.height) == (640, 480)
    assert meme.uploader == user
    assert meme.caption == "so true"
    assert meme.status == Meme.Status.PENDING
    assert meme.queued_at is not None
    # Exactly one task is enqueued, and only once the row is committed.
    assert len(callbacks) == 1


def test_it_finds_the_existing_meme_when_the_same_bytes_come_again(
    logged_in, meme_image, meme_files, django_capture_on_commit_callbacks
):
    data = meme_image()
    with django_capture_on_commit_callbacks() as callbacks:
        first = post_upload(logged_in, data, "one.png")
        second = post_upload(logged_in, data, "two.png", caption="other caption")
    assert Meme.objects.count() == 1
    assert first["Location"] == second["Location"]
    assert len(meme_files()) == 1
    assert len(callbacks) == 1
    page = logged_in.get(second["Location"])
    assert b"uploaded before" in page.content


BAD_INPUTS = {
    "zero-byte file": (lambda: b"", "empty.png", "The file is empty"),
    "not an image": (lambda: b"Hello, I am a text file.\n" * 20, "notes.png", "not a picture"),
    "truncated JPEG": (
        lambda: encode(render_meme("CUT OFF"), "JPEG")[:6000],
        "cut.jpg",
        "truncated or damaged",
    ),
    "truncated PNG": (
        lambda: encode(render_meme("CUT OFF"), "PNG")[:5000],
        "cut.png",
        "truncated or damaged",
    ),
    "decompression bomb": (
        lambda: encode(Image.new("1", (12_000, 12_000)), "PNG"),
        "bomb.png",
        "too large",
    ),
    "SVG": (
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "drawing.svg",
        "SVG, HTML or XML",
    ),
    "HTML named .jpg": (
        lambda: b"<html><body><script>alert(document.cookie)</script></body></html>",
        "photo.jpg",
        "SVG, HTML or XML",
    ),
    "TIFF": (lambda: encode(render_meme("TIFF"), "TIFF"), "scan.tiff", "not a picture"),
    "executable named .png": (lambda: b"\x7fELF\x02\x01\x01" + b"\x00" * 500, "x.png", "not a"),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_it_rejects_bad_input_with_a_message_and_stores_nothing(
    logged_in, meme_files, django_capture_on_commit_callbacks, case
):
    make, name, message = BAD_INPUTS[case]
    with django_capture_on_commit_callbacks() as callbacks:
        response = post_upload(logged_in, make(), name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert Meme.objects.count() == 0
    assert meme_files() == []
    assert callbacks == []


def test_it_rejects_a_file_over_the_size_limit(logged_in, settings, meme_image, meme_files):
    data = meme_image()
    settings.MAX_UPLOAD_BYTES = 10_000
    response = post_upload(logged_in, data, "big.png")
    assert "the limit is" in response.content.decode()
    assert Meme.objects.count() == 0
    assert meme_files() == []


def test_it_refuses_a_huge_request_before_reading_it(logged_in, settings, meme_files):
    settings.MAX_UPLOAD_BYTES = 100_000
    response = post_upload(logged_in, b"\xff\xd8\xff" + b"\0" * 300_000, "huge.jpg")
    assert response.status_code == 413
    assert "The upload is too large; the limit is 0.1 MB." in response.content.decode()
    assert Meme.objects.count() == 0
    assert meme_files() == []


def test_it_rejects_a_missing_file(logged_in):
    response = logged_in.post(reverse("classifier:upload"), {"caption": "no file"})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert Meme.objects.count() == 0


def accepted(logged_in, data, name, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks():
        response = post_upload(logged_in, data, name)
    assert response.status_code == 302, response.content.decode()[:2000]
    meme = Meme.objects.get()
    page = logged_in.get(response["Location"]).content.decode()
    with meme.image.open("rb") as fh:
        stored = Image.open(io.BytesIO(fh.read()))
        stored.load()
    return meme, stored, page


def test_it_stores_a_cmyk_image_as_rgb(logged_in, django_capture_on_commit_callbacks):
    data = encode(render_meme("CMYK").convert("CMYK"), "JPEG")
    meme, stored, _ = accepted(logged_in, data, "print.jpg", django_capture_on_commit_callbacks)
    assert stored.mode == "RGB"
    assert meme.content_type == "image/jpeg"


def test_it_stores_a_16_bit_image_as_8_bit(logged_in, django_capture_on_commit_callbacks):
    sixteen = render_meme("DEEP").convert("L").convert("I").point(lambda v: v * 257)
    data = encode(sixteen.convert("I;16"), "PNG")
    _, stored, _ = accepted(logged_in, data, "deep.png", django_capture_on_commit_callbacks)
    assert stored.mode == "RGB"
    assert stored.convert("L").getextrema()[0] < 100  # not clipped to white


def test_it_stores_a_palette_image_with_alpha_as_rgba(
    logged_in, django_capture_on_commit_callbacks
):
    palette = render_meme("STICKER").convert("P", palette=Image.Palette.ADAPTIVE, colors=64)
    data = encode(palette, "PNG", transparency=0)
    meme, stored, _ = accepted(logged_in, data, "sticker.png", django_capture_on_commit_callbacks)
    assert stored.mode == "RGBA"
    assert meme.content_type == "image/png"


def test_it_stores_an_exif_rotated_photo_upright(logged_in, django_capture_on_commit_callbacks):
    sideways = render_meme("UPRIGHT", size=(400, 300)).transpose(Image.Transpose.ROTATE_270)
    exif = Image.Exif()
    exif[0x0112] = 8  # rotate 90° counter-clockwise to view
    data = encode(sideways, "JPEG", exif=exif.tobytes())
    meme, stored, page = accepted(logged_in, data, "phone.jpg", django_capture_on_commit_callbacks)
    assert (meme.width, meme.height) == (400, 300)
    assert stored.size == (400, 300)
    assert "turned upright" in page


def test_it_reads_the_type_from_the_bytes_when_the_extension_lies(
    logged_in, meme_image, django_capture_on_commit_callbacks
):
    data = meme_image(fmt="JPEG")
    meme, stored, page = accepted(logged_in, data, "fake.gif", django_capture_on_commit_callbacks)
    assert stored.format == "JPEG"
    assert meme.image.name.endswith(".jpg")
    assert "named .gif" not in page  # no notice: nothing the uploader has to act on


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../../../etc/cron.d/evil.png", "evil.png"),
        ("C:\\Users\\bob\\..\\meme.png", "meme.png"),
        ("x" * 400 + ".png", "x" * 116 + ".png"),
        ("\u202eevil\x00.png", "evil.png"),
    ],
)
def test_it_cleans_path_like_and_absurd_names(
    logged_in, meme_image, meme_files, django_capture_on_commit_callbacks, name, shown
):
    meme, _, page = accepted(logged_in, meme_image(), name, django_capture_on_commit_callbacks)
    assert meme.original_name == shown
    # The file is named by its hash, inside memes/, whatever the upload was called.
    assert meme_files() == [f"memes/{meme.sha256[:2]}/{meme.sha256}.png"]


def test_it_leaves_no_file_behind_when_the_row_cannot_be_written(
    monkeypatch, meme_image, meme_files
):
    def broken_create(**kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(Meme.objects, "create", broken_create)
    with pytest.raises(DatabaseError):
        services.meme_create(image=normalise_upload(meme_image(), "a.png"), uploader=None)
    assert meme_files() == []


def test_it_serves_the_stored_image_with_its_type_and_nosniff(logged_in, user, meme_factory):
    meme = meme_factory(uploader=user)
    response = logged_in.get(meme.image.url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content)[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_concurrent_upload_of_the_same_bytes_gets_the_first_meme_and_keeps_its_file(
    monkeypatch, meme_image, meme_files
):
    image = normalise_upload(meme_image(), "a.png")
    first, created = services.meme_create(image=image, uploader=None)
    assert created
    # The second request checked for the hash before the first one committed.
    monkeypatch.setattr(services.selectors, "meme_find_by_sha256", _none_then_lookup())
    second, created = services.meme_create(image=image, uploader=None)
    assert not created
    assert second == first
    assert meme_files() == [first.image.name]


def _none_then_lookup():
    calls = []

    def find(*, sha256):
        calls.append(sha256)
        return None if len(calls) == 1 else Meme.objects.filter(sha256=sha256).first()

    return find


def test_an_upload_is_kept_when_the_task_queue_is_down(
    logged_in, monkeypatch, meme_image, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(services, "async_task", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(logged_in, meme_image(), "meme.png")
    assert response.status_code == 302
    # Still pending: the sweep queues it again once the broker is back.
    assert Meme.objects.get().status == Meme.Status.PENDING
