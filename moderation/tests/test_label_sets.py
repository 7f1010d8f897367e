"""Label sets in the UI: create one, import a labelled CSV and a zip of images, see it."""

import csv
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from classifier.models import LabelSet, Meme
from moderation.models import DatasetImport, LabelCorrection
from moderation.tests.factories import png_bytes


def _create(client, **data):
    fields = {
        "name": "spam",
        "classes": "spam, not_spam",
        "alert_class": "spam",
        "description": "Ads and scams.",
        "review_threshold": "0.9",
        **data,
    }
    return client.post(reverse("moderation:label_sets"), fields)


def test_a_moderator_creates_a_label_set(mod_client):
    response = _create(mod_client)
    assert response.status_code == 302
    spam = LabelSet.objects.get(name="spam")
    assert (spam.classes, spam.alert_class, spam.review_threshold) == (
        ["spam", "not_spam"],
        "spam",
        0.9,
    )
    page = mod_client.get(response["Location"]).content.decode()
    assert "No model yet" in page
    listing = mod_client.get(reverse("moderation:label_sets")).content.decode()
    assert "spam, not_spam" in listing


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"classes": "spam"}, "at least two different classes"),
        ({"classes": "spam, spam"}, "at least two different classes"),
        ({"alert_class": "eggs"}, "must be one of the classes"),
        ({"name": "sentiment"}, "exists already"),
        ({"name": "Not a slug!"}, "Enter a valid"),
        ({"review_threshold": "2"}, "less than or equal to 1"),
    ],
)
def test_bad_label_sets_are_refused_with_a_reason(mod_client, sentiment, data, error):
    before = LabelSet.objects.count()
    response = _create(mod_client, **data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert LabelSet.objects.count() == before


def _dataset(rows):
    """A CSV and a zip of real PNGs; rows are (image name, label, text), None: no image."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["file", "is_spam", "text"])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        for seed, (name, label, text) in enumerate(rows, start=500):
            writer.writerow([name, label, text])
            if text is not None:
                z.writestr(f"memes/{name}", png_bytes(seed, text))
    return (
        SimpleUploadedFile("labels.csv", out.getvalue().encode(), content_type="text/csv"),
        SimpleUploadedFile("images.zip", archive.getvalue(), content_type="application/zip"),
    )


def test_an_import_runs_on_the_slow_queue_through_the_import_service(
    mod_client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.IMPORT_ROOT = tmp_path / "imports"
    _create(mod_client)
    csv_file, zip_file = _dataset(
        [
            ("a.png", "1", "BUY NOW"),
            ("b.png", "0", "MY CAT"),
            ("c.png", "0", "MONDAYS"),
            ("gone.png", "1", None),  # named in the CSV, missing from the zip
            ("d.png", "7", "WHAT"),  # a label the map does not know
        ]
    )
    url = reverse("moderation:label_set_import", args=["spam"])
    with django_capture_on_commit_callbacks(execute=True):
        response = mod_client.post(
            url,
            {
                "csv_file": csv_file,
                "images": zip_file,
                "label_column": "is_spam",
                "image_column": "file",
                "text_column": "text",
                "label_map": "1=spam,0=not_spam",
            },
        )
    assert response.status_code == 302
    run = DatasetImport.objects.get()
    assert run.status == "succeeded", run.error
    assert (run.done, run.total) == (5, 5)
    assert run.summary["imported"] == 3
    assert (run.summary["missing_image"], run.summary["unmapped"]) == (1, 1)
    labels = LabelCorrection.objects.filter(label_set__name="spam", source="import")
    assert sorted(labels.values_list("new_label", flat=True)) == ["not_spam", "not_spam", "spam"]
    assert Meme.objects.count() == 3
    page = mod_client.get(reverse("moderation:label_set", args=["spam"])).content.decode()
    assert "3 imported" in page and "gone.png not found" in page
    assert 'id="label-count">3<' in page


def test_a_file_that_is_not_a_zip_is_refused_and_nothing_is_queued(mod_client, settings, tmp_path):
    settings.IMPORT_ROOT = tmp_path / "imports"
    _create(mod_client)
    csv_file, _ = _dataset([("a.png", "1", "X")])
    response = mod_client.post(
        reverse("moderation:label_set_import", args=["spam"]),
        {
            "csv_file": csv_file,
            "images": SimpleUploadedFile("images.zip", b"not a zip at all"),
            "label_column": "is_spam",
            "image_column": "file",
        },
    )
    assert response.status_code == 400
    assert "not a zip archive" in response.content.decode()
    assert not DatasetImport.objects.exists()
    assert not any((tmp_path / "imports").glob("import-*"))


def test_a_zip_member_cannot_escape_the_import_folder(mod_client, settings, tmp_path):
    settings.IMPORT_ROOT = tmp_path / "imports"
    _create(mod_client)
    csv_file, _ = _dataset([("evil.png", "1", "X")])
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../evil.png", png_bytes(1, "X"))
    mod_client.post(
        reverse("moderation:label_set_import", args=["spam"]),
        {
            "csv_file": csv_file,
            "images": SimpleUploadedFile("images.zip", archive.getvalue()),
            "label_column": "is_spam",
            "image_column": "file",
        },
    )
    row = DatasetImport.objects.get()
    assert (tmp_path / "imports" / f"import-{row.pk}" / "images" / "evil.png").exists()
    assert not (tmp_path / "evil.png").exists()


def test_the_dashboard_links_to_the_label_sets(mod_client, sentiment):
    html = mod_client.get(reverse("moderation:dashboard")).content.decode()
    assert reverse("moderation:label_sets") in html
    assert reverse("moderation:label_set", args=["sentiment"]) in html


def test_an_import_with_a_wrong_column_fails_with_the_reason(
    mod_client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.IMPORT_ROOT = tmp_path / "imports"
    _create(mod_client)
    csv_file, zip_file = _dataset([("a.png", "1", "BUY NOW")])
    with django_capture_on_commit_callbacks(execute=True):
        mod_client.post(
            reverse("moderation:label_set_import", args=["spam"]),
            {
                "csv_file": csv_file,
                "images": zip_file,
                "label_column": "nope",
                "image_column": "file",
            },
        )
    run = DatasetImport.objects.get()
    assert run.status == "failed"
    assert "has no column 'nope'" in run.error
    assert not Meme.objects.exists()
    page = mod_client.get(reverse("moderation:label_set", args=["spam"])).content.decode()
    assert "has no column" in page
