"""Calibrated automatic decisions: threshold from checked predictions, audits, precision."""

import pytest

from classifier.autodecisions.selectors import auto_decided_meme_ids
from classifier.autodecisions.services import auto_decision_apply, auto_decision_revert
from classifier.models import AutoDecision, LabelSet
from moderation.autodecisions import auto_policy_update, auto_summary, checked_predictions
from moderation.learning.retrain import labelled_memes
from moderation.models import LabelCorrection
from moderation.services import correction_create
from moderation.tests.factories import make_version, predict, predicted_meme, predicted_memes


def decide(meme, label_set, moderator, label):
    correction_create(
        meme=meme, label_set=label_set, moderator=moderator, new_label=label, check_stale=False
    )


@pytest.fixture
def checked(db, sentiment, version, moderator):
    """300 confident predictions a human confirmed, 100 middling ones half of them wrong."""
    confident = predicted_memes(version, 0.99, 300)  # say negative, confidence 0.99
    middling = predicted_memes(version, 0.7, 100)  # say negative, confidence 0.7
    labels = ["negative"] * 300 + ["negative" if i % 2 else "positive" for i in range(100)]
    # In bulk, with the fields correction_create gives a first decision on a predicted meme
    # (test_corrections.py covers the service): 400 calls would be most of each test's time.
    LabelCorrection.objects.bulk_create(
        LabelCorrection(
            meme=meme,
            label_set=sentiment,
            old_label="negative",
            new_label=label,
            predicted_label="negative",
            moderator=moderator,
            model_version=version,
        )
        for meme, label in zip(confident + middling, labels, strict=True)
    )
    return version


def test_the_threshold_comes_from_human_checked_predictions(checked, sentiment):
    pairs = checked_predictions(label_set=sentiment, version=checked)
    assert len(pairs) == 400
    label_set = auto_policy_update(label_set=sentiment, target_precision=0.98, audit_rate=0.05)
    assert label_set.auto_threshold == pytest.approx(0.99)
    assert label_set.auto_threshold_version == checked
    assert label_set.auto_threshold_evidence["n"] == 300
    assert label_set.auto_threshold_evidence["lower"] >= 0.98
    # Down to 0.7: 350 of 400 right, 0.875, Wilson lower bound 0.839.
    lower = auto_policy_update(label_set=sentiment, target_precision=0.83, audit_rate=0.05)
    assert lower.auto_threshold == pytest.approx(0.7)
    stricter = auto_policy_update(label_set=sentiment, target_precision=0.85, audit_rate=0.05)
    assert stricter.auto_threshold == pytest.approx(0.99)


def test_no_threshold_until_the_evidence_is_there(db, sentiment, version, moderator):
    for _ in range(20):
        decide(predicted_meme(version, 0.99), sentiment, moderator, "negative")
    label_set = auto_policy_update(label_set=sentiment, target_precision=0.98, audit_rate=0.05)
    assert label_set.auto_threshold is None  # 20 of 20 cannot prove 98%
    assert label_set.auto_threshold_evidence["checked"] == 20


def test_turning_it_off_clears_the_threshold(checked, sentiment):
    auto_policy_update(label_set=sentiment, target_precision=0.98, audit_rate=0.05)
    label_set = auto_policy_update(label_set=sentiment, target_precision=None, audit_rate=0.05)
    assert label_set.auto_threshold is None


def test_bad_policies_are_refused(db, sentiment):
    with pytest.raises(ValueError):
        auto_policy_update(label_set=sentiment, target_precision=1.5, audit_rate=0.05)
    with pytest.raises(ValueError):
        auto_policy_update(label_set=sentiment, target_precision=0.9, audit_rate=-1)


def test_confident_predictions_of_that_version_are_decided_and_others_are_not(checked, sentiment):
    auto_policy_update(label_set=sentiment, target_precision=0.98, audit_rate=0.0)
    confident = predicted_meme(checked, 0.995).predictions.get()
    unsure = predicted_meme(checked, 0.8).predictions.get()
    assert auto_decision_apply(prediction=confident) is not None
    assert auto_decision_apply(prediction=unsure) is None
    other = make_version(sentiment, "sentiment-other", activate=False)
    meme = predicted_meme(checked, 0.6)
    stranger = predict(meme, other, {"positive": 0.001, "negative": 0.999})
    assert (
        auto_decision_apply(prediction=stranger) is None
    )  # the threshold was derived for another version


def test_a_share_of_decisions_is_drawn_for_audit(checked, sentiment):
    auto_policy_update(label_set=sentiment, target_precision=0.98, audit_rate=0.3)
    decisions = [
        auto_decision_apply(prediction=predicted_meme(checked, 0.995).predictions.get())
        for _ in range(200)
    ]
    share = sum(d.audit for d in decisions) / len(decisions)
    assert 0.2 < share < 0.4


def test_auto_decisions_stay_out_of_the_queue_and_the_training_data(checked, sentiment, moderator):
    auto_policy_update(label_set=sentiment, target_precision=0.98, audit_rate=0.0)
    meme = predicted_meme(checked, 0.995)
    decision = auto_decision_apply(prediction=meme.predictions.get())
    assert meme.pk in set(
        auto_decided_meme_ids(label_set=sentiment).values_list("prediction__meme_id", flat=True)
    )
    assert meme.pk not in {m.meme_id for m in labelled_memes(label_set=sentiment)}
    auto_decision_revert(decision=decision, moderator=moderator)
    assert meme.pk not in set(
        auto_decided_meme_ids(label_set=sentiment).values_list("prediction__meme_id", flat=True)
    )


def test_audits_reviewed_by_moderators_estimate_the_precision(checked, sentiment, moderator):
    auto_policy_update(label_set=sentiment, target_precision=0.98, audit_rate=1.0)
    audited = [predicted_meme(checked, 0.995) for _ in range(10)]
    for meme in audited:
        auto_decision_apply(prediction=meme.predictions.get())
    for i, meme in enumerate(audited[:8]):  # 8 reviewed: 7 agree with the model, 1 does not
        decide(meme, sentiment, moderator, "negative" if i else "positive")
    s = auto_summary(label_set=sentiment)
    assert (s.decided, s.audits, s.audits_reviewed, s.audits_agreed) == (10, 10, 8, 7)
    assert s.precision == pytest.approx(7 / 8)
    low, high = s.interval
    assert low == pytest.approx(0.5291, abs=1e-3) and high == pytest.approx(0.9776, abs=1e-3)


@pytest.mark.model
def test_the_classification_task_decides_automatically(db, active_model, meme_factory):
    from classifier import tasks

    label_set = LabelSet.objects.get(name="sentiment")
    label_set.auto_threshold, label_set.auto_threshold_version = 0.0, active_model
    label_set.save()
    meme = meme_factory()
    tasks.classify_meme(meme.pk)
    assert AutoDecision.objects.filter(prediction__meme=meme).count() == 1


def test_the_queue_leaves_out_automatic_decisions_but_keeps_audits(checked, sentiment, moderator):
    from moderation.selectors.queue import queue_memes, queue_size

    auto_policy_update(label_set=sentiment, target_precision=0.98, audit_rate=0.0)
    settled = predicted_meme(checked, 0.995)
    decision = auto_decision_apply(prediction=settled.predictions.get())
    audited = predicted_meme(checked, 0.995)
    AutoDecision.objects.create(prediction=audited.predictions.get(), threshold=0.99, audit=True)
    waiting = predicted_meme(checked, 0.6)
    queued = set(queue_memes(label_set=sentiment))
    assert audited in queued and waiting in queued and settled not in queued
    before = queue_size(label_set=sentiment)
    auto_decision_revert(decision=decision, moderator=moderator)
    assert settled in set(queue_memes(label_set=sentiment))
    assert queue_size(label_set=sentiment) == before + 1


def test_a_moderator_sets_the_target_on_the_dashboard_and_sees_the_estimate(
    checked, sentiment, mod_client
):
    response = mod_client.post(
        f"/moderation/auto/policy/?label_set={sentiment.name}",
        {"target_precision": "98", "audit_rate": "100"},
    )
    assert response.status_code == 302
    sentiment.refresh_from_db()
    assert sentiment.auto_target_precision == pytest.approx(0.98)
    assert sentiment.auto_threshold == pytest.approx(0.99)
    meme = predicted_meme(checked, 0.995)
    auto_decision_apply(prediction=meme.predictions.get())
    page = mod_client.get(f"/moderation/?label_set={sentiment.name}").content.decode()
    assert "confidence ≥ <strong>0.990</strong>" in page
    assert 'value="98.0"' in page
    assert "1</strong> automatic decision standing, 1 drawn for audit" in page

    response = mod_client.post(
        f"/moderation/auto/policy/?label_set={sentiment.name}",
        {"target_precision": "150", "audit_rate": "5"},
    )
    sentiment.refresh_from_db()
    assert sentiment.auto_target_precision == pytest.approx(0.98)  # refused, unchanged


def test_the_review_page_shows_the_automatic_decision_and_reverts_it(
    checked, sentiment, mod_client
):
    auto_policy_update(label_set=sentiment, target_precision=0.98, audit_rate=1.0)
    meme = predicted_meme(checked, 0.995)
    decision = auto_decision_apply(prediction=meme.predictions.get())
    page = mod_client.get(
        f"/moderation/review/{meme.pk}/?label_set={sentiment.name}"
    ).content.decode()
    assert "decided automatically, drawn for audit" in page
    response = mod_client.post(f"/moderation/auto/revert/{meme.pk}/?label_set={sentiment.name}")
    assert response.status_code == 302
    decision.refresh_from_db()
    assert decision.reverted_at is not None and decision.reverted_by is not None


def test_promoting_another_version_withdraws_the_threshold(checked, sentiment, tmp_path):
    from ml import default_model_path
    from moderation.learning.promotion import model_version_promote

    auto_policy_update(label_set=sentiment, target_precision=0.98, audit_rate=0.05)
    assert sentiment.__class__.objects.get(pk=sentiment.pk).auto_threshold is not None
    other = make_version(sentiment, "sentiment-next", activate=False)
    other.artifact_path = str(default_model_path("sentiment"))
    other.save()
    model_version_promote(model_version=other, user=None, confirmed=True)
    sentiment.refresh_from_db()
    assert sentiment.auto_threshold is None  # no checked predictions of the new version yet
    assert sentiment.auto_target_precision == pytest.approx(0.98)


def test_the_api_shows_the_automatic_decision(checked, sentiment, moderator):
    from rest_framework.test import APIClient

    auto_policy_update(label_set=sentiment, target_precision=0.98, audit_rate=0.0)
    meme = predicted_meme(checked, 0.995)
    auto_decision_apply(prediction=meme.predictions.get())
    api = APIClient()
    api.force_authenticate(moderator)
    body = api.get(f"/api/v1/memes/{meme.pk}/").json()
    predictions = body.get("predictions") or body.get("latest_predictions")
    decision = predictions[0]["auto_decision"]
    assert decision["threshold"] == pytest.approx(0.99)
    assert decision["audit"] is False and decision["reverted_at"] is None
