"""Search across every meme for moderators; results open the review page."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from classifier.models import Meme
from moderation.services import correction_create
from moderation.tests.factories import make_meme, make_user, predicted_meme


@pytest.fixture
def memes(version, moderator, sentiment):
    uploader = make_user("carol")
    cat = predicted_meme(version, 0.9, ocr_text="I CAN HAZ CHEEZBURGER", uploader=uploader)
    dog = predicted_meme(version, 0.2, ocr_text="SUCH WOW", caption="doge forever")
    typo = predicted_meme(version, 0.6, ocr_text="MONDAY AGIAN")
    correction_create(
        meme=typo,
        label_set=sentiment,
        moderator=moderator,
        new_label="negative",
        new_text="MONDAY AGAIN",
    )
    junk = make_meme(ocr_text="")
    correction_create(meme=junk, label_set=sentiment, moderator=moderator, unusable=True)
    return {"cat": cat, "dog": dog, "typo": typo, "junk": junk}


def _found(client, **params):
    response = client.get(reverse("moderation:search"), {"label_set": "sentiment", **params})
    assert response.status_code == 200
    page = response.context["page"]
    return None if page is None else [m.pk for m in page]


def test_it_finds_ocr_text_caption_and_corrected_text(mod_client, memes):
    assert _found(mod_client, text="cheezburger") == [memes["cat"].pk]
    assert _found(mod_client, text="DOGE") == [memes["dog"].pk]
    assert _found(mod_client, text="monday again") == [memes["typo"].pk]  # only in the fix


def test_it_finds_a_meme_by_id(mod_client, memes):
    assert _found(mod_client, text=f"#{memes['dog'].pk}") == [memes["dog"].pk]


def test_it_filters_by_uploader_label_decision_and_date(mod_client, memes):
    assert _found(mod_client, uploader="carol") == [memes["cat"].pk]
    assert _found(mod_client, label="negative") == [memes["typo"].pk]
    assert _found(mod_client, label="unusable") == [memes["junk"].pk]
    assert set(_found(mod_client, label="none")) == {memes["cat"].pk, memes["dog"].pk}
    assert _found(mod_client, decision="positive") == [memes["dog"].pk]
    Meme.objects.filter(pk=memes["cat"].pk).update(
        created_at=timezone.now() - dt.timedelta(days=30)
    )
    week_ago = (timezone.localdate() - dt.timedelta(days=7)).isoformat()
    assert memes["cat"].pk not in _found(mod_client, date_from=week_ago)
    assert _found(mod_client, date_to=week_ago) == [memes["cat"].pk]


def test_results_link_to_the_review_page_and_show_the_decision(mod_client, memes):
    response = mod_client.get(reverse("moderation:search"), {"text": "monday"})
    html = response.content.decode()
    review = reverse("moderation:review", args=[memes["typo"].pk]) + "?label_set=sentiment"
    assert review in html
    assert "<strong>negative</strong>" in html


def test_an_empty_search_asks_for_input_and_a_miss_says_so(mod_client, memes):
    response = mod_client.get(reverse("moderation:search"))
    assert response.context["page"] is None
    assert 'id="search-empty"' in response.content.decode()
    miss = mod_client.get(reverse("moderation:search"), {"text": "nothing like this"})
    assert "No meme matches" in miss.content.decode()


def test_bad_input_is_dropped_not_fatal(mod_client, memes):
    assert _found(mod_client, text="wow", date_from="not-a-date", label="bogus") == [
        memes["dog"].pk
    ]
    assert _found(mod_client, text="#99999999999999999999999") == []
