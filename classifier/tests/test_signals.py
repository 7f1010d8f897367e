"""Signals per meme: the offensive-language score always, the NSFW score with NSFW_DETECTION.

Computed by the classification task from the real OCR text + caption and the real picture,
shown in the API and by `manage.py classify --json`, recomputed on reclassify.
"""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from classifier import tasks
from classifier.tests.api.helpers import token_client
from moderation.learning.versions import reclassify
from moderation.services import correction_create

pytestmark = [pytest.mark.django_db, pytest.mark.model]

OFFENSIVE = "shut up you fucking idiot"


def classified(meme_factory, **kw):
    meme = meme_factory(**kw)
    assert tasks.classify_meme(meme.pk) == "classified"
    meme.refresh_from_db()
    return meme


def test_it_scores_the_text_and_leaves_nsfw_off_by_default(meme_factory, active_model, settings):
    assert settings.NSFW_DETECTION is False
    rude = classified(meme_factory, top="MONDAY AGAIN", caption=OFFENSIVE)
    kind = classified(meme_factory, top="HAPPY FRIDAY", bottom="FRIENDS", caption="have a nice day")
    assert rude.offensive_score > 0.8 > 0.2 > kind.offensive_score
    assert rude.nsfw_score is None and kind.nsfw_score is None


def test_it_scores_the_picture_when_nsfw_detection_is_on(meme_factory, active_model, settings):
    settings.NSFW_DETECTION = True
    meme = classified(meme_factory, top="LOOK AT THIS")
    assert 0.0 <= meme.nsfw_score <= 1.0


def test_the_api_shows_both_scores(meme_factory, active_model, user, settings):
    settings.NSFW_DETECTION = True
    meme = meme_factory(caption=OFFENSIVE, uploader=user)
    tasks.classify_meme(meme.pk)
    meme.refresh_from_db()
    body = token_client(user).get(f"/api/v1/memes/{meme.pk}/").json()
    assert (
        body["offensive_score"] == pytest.approx(meme.offensive_score)
        and body["offensive_score"] > 0.8
    )
    assert body["nsfw_score"] == pytest.approx(meme.nsfw_score)


def test_classify_json_prints_both_scores(tmp_path, meme_image, active_model, settings):
    path = tmp_path / "meme.png"
    path.write_bytes(meme_image(top="GOOD MORNING"))
    out = StringIO()
    call_command("classify", str(path), "--json", "--text", OFFENSIVE, stdout=out)
    result = json.loads(out.getvalue())
    assert result["offensive_score"] > 0.8 and result["nsfw_score"] is None
    settings.NSFW_DETECTION = True
    out = StringIO()
    call_command("classify", str(path), "--json", "--text", "lovely", stdout=out)
    result = json.loads(out.getvalue())
    assert result["offensive_score"] < 0.2 and 0.0 <= result["nsfw_score"] <= 1.0


def test_reclassify_recomputes_the_scores_from_the_settled_text(
    meme_factory, active_model, staff_user, settings
):
    meme = classified(meme_factory, top="NICE WEATHER", bottom="TODAY")
    assert meme.offensive_score < 0.2
    other_label_set = active_model.label_set.__class__.objects.create(
        name="humour", classes=["funny", "not_funny"]
    )
    # A moderator corrects the text in another label set: the meme itself stays unlabelled
    # for sentiment, so reclassify takes it, with the corrected text.
    correction_create(
        meme=meme,
        label_set=other_label_set,
        moderator=staff_user,
        new_label="funny",
        new_text=OFFENSIVE,
    )
    settings.NSFW_DETECTION = True
    assert reclassify(label_set=active_model.label_set) == 1
    meme.refresh_from_db()
    assert meme.offensive_score > 0.8
    assert 0.0 <= meme.nsfw_score <= 1.0
