"""Export of human labels as CSV and JSON Lines."""

import csv
import io
import json

import pytest
from django.urls import reverse

from classifier.models import LabelSet
from moderation.selectors.export import EXPORT_FIELDS
from moderation.services import correction_create
from moderation.tests.factories import make_version, predicted_meme


@pytest.fixture
def decided(sentiment, version, moderator, other_moderator):
    fixed = predicted_meme(version, 0.8, ocr_text="TEH CAT", original_name="cat.png")
    first = correction_create(
        meme=fixed, label_set=sentiment, moderator=moderator, new_label="positive"
    )
    correction_create(
        meme=fixed,
        label_set=sentiment,
        moderator=other_moderator,
        new_label="negative",
        new_text="THE CAT",
        seen_correction_id=first.pk,
    )
    plain = predicted_meme(version, 0.2, ocr_text="DOG", original_name="dog.jpg")
    correction_create(meme=plain, label_set=sentiment, moderator=moderator, new_label="positive")
    junk = predicted_meme(version, 0.2)
    correction_create(meme=junk, label_set=sentiment, moderator=moderator, unusable=True)
    predicted_meme(version, 0.5)  # undecided: not exported
    return fixed, plain


def _csv_rows(response):
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_holds_the_standing_human_labels(mod_client, decided):
    fixed, plain = decided
    response = mod_client.get(reverse("moderation:export_csv"), {"label_set": "sentiment"})
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert list(rows[0]) == EXPORT_FIELDS
    assert [(r["image_sha256"], r["file_name"], r["label"], r["text"]) for r in rows] == [
        (fixed.sha256, "cat.png", "negative", "THE CAT"),
        (plain.sha256, "dog.jpg", "positive", "DOG"),
    ]
    assert [r["moderator"] for r in rows] == ["mod2", "mod"]
    assert [r["text_corrected"] for r in rows] == ["True", "False"]
    assert all(r["label_set"] == "sentiment" and r["labelled_at"] for r in rows)


def test_the_json_lines_match_the_csv(mod_client, decided):
    response = mod_client.get(reverse("moderation:export_jsonl"), {"label_set": "sentiment"})
    lines = b"".join(response.streaming_content).decode().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["label"] for r in rows] == ["negative", "positive"]
    assert rows[0]["text"] == "THE CAT" and rows[0]["text_corrected"] is True
    csv_rows = _csv_rows(mod_client.get(reverse("moderation:export_csv")))
    assert [r["image_sha256"] for r in rows] == [r["image_sha256"] for r in csv_rows]


def test_without_a_label_set_it_exports_every_label_set(mod_client, decided, moderator):
    offensive = LabelSet.objects.create(name="offensive", classes=["offensive", "fine"])
    make_version(offensive, "offensive-v1")
    correction_create(meme=decided[1], label_set=offensive, moderator=moderator, new_label="fine")
    rows = _csv_rows(mod_client.get(reverse("moderation:export_csv")))
    assert sorted({r["label_set"] for r in rows}) == ["offensive", "sentiment"]
    assert len(rows) == 3


def test_an_unknown_label_set_is_404(mod_client, decided):
    response = mod_client.get(reverse("moderation:export_jsonl"), {"label_set": "nope"})
    assert response.status_code == 404
