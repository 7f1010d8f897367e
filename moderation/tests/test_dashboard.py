"""Dashboard: the numbers behind it and the page and plots themselves."""

import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from classifier.models import ModelVersion
from moderation.models import LabelCorrection
from moderation.selectors import dashboard
from moderation.services import correction_create
from moderation.tests.factories import make_version, predicted_meme


def _label(meme, label, moderator, label_set):
    return correction_create(meme=meme, label_set=label_set, moderator=moderator, new_label=label)


@pytest.fixture
def labelled(sentiment, version, moderator, other_moderator):
    """Six memes: the model is right on four (two per class), wrong on two."""
    cases = [
        (0.9, "negative", moderator),
        (0.8, "negative", moderator),
        (0.1, "positive", other_moderator),
        (0.3, "positive", other_moderator),
        (0.7, "positive", moderator),  # model said negative
        (0.4, "negative", other_moderator),  # model said positive
    ]
    return [_label(predicted_meme(version, p), label, who, sentiment) for p, label, who in cases]


def test_it_measures_agreement_since_the_model_went_live(sentiment, version, labelled):
    agreement = dashboard.model_agreement(label_set=sentiment)
    assert agreement.version == version
    assert agreement.n == 6
    assert agreement.accuracy == pytest.approx(4 / 6)
    # Both classes: precision 2/3, recall 2/3 -> F1 2/3.
    assert agreement.macro_f1 == pytest.approx(2 / 3)


def test_it_ignores_labels_from_before_the_activation(sentiment, version, labelled):
    ModelVersion.objects.filter(pk=version.pk).update(
        activated_at=timezone.now() + dt.timedelta(minutes=1)
    )
    agreement = dashboard.model_agreement(label_set=sentiment)
    assert agreement.n == 0
    assert agreement.accuracy is None


def test_the_macro_f1_matches_scikit_learn(sentiment, version, labelled):
    from sklearn.metrics import f1_score

    pairs = dashboard.active_model_pairs(label_set=sentiment)
    expected = f1_score([p.human for p in pairs], [p.predicted for p in pairs], average="macro")
    assert dashboard.macro_f1(pairs) == pytest.approx(expected)


def test_it_builds_the_confusion_matrix(sentiment, labelled):
    pairs = dashboard.active_model_pairs(label_set=sentiment)
    confusion = dashboard.confusion_matrix(classes=sentiment.classes, pairs=pairs)
    assert confusion.classes == ["positive", "negative"]
    # rows: moderators, columns: model
    assert confusion.matrix == [[2, 1], [1, 2]]


def test_it_bins_the_reliability_diagram(sentiment, labelled):
    reliability = dashboard.reliability(pairs=dashboard.active_model_pairs(label_set=sentiment))
    assert reliability.n == 6
    assert sum(b.count for b in reliability.bins) == 6
    by_bin = {i: (b.count, b.accuracy) for i, b in enumerate(reliability.bins) if b.count}
    # Confidences 0.9 (x2, right), 0.8 (right), 0.7 (one right, one wrong), 0.6 (wrong).
    assert by_bin == {9: (2, 1.0), 8: (1, 1.0), 7: (2, 0.5), 6: (1, 0.0)}
    assert reliability.ece == pytest.approx((2 * 0.1 + 0.2 + 2 * 0.2 + 0.6) / 6)


def test_it_counts_decisions_per_day_per_moderator(labelled):
    decisions = dashboard.decisions_per_day(days=7)
    assert decisions.moderators == ["mod", "mod2"]
    today = decisions.rows[0]
    assert today == (timezone.localdate(), [3, 3], 6)


def test_it_counts_corrections_waiting_for_a_retrain(sentiment, version, labelled):
    assert dashboard.corrections_waiting_for_retrain(label_set=sentiment) == 6
    make_version(sentiment, "sentiment-test-v2")
    assert dashboard.corrections_waiting_for_retrain(label_set=sentiment) == 0


def test_it_lists_recent_disagreements(sentiment, labelled):
    disagreements = list(dashboard.recent_disagreements(label_set=sentiment))
    assert [(c.predicted_label, c.new_label) for c in disagreements] == [
        ("positive", "negative"),
        ("negative", "positive"),
    ]


def test_the_page_shows_the_numbers(mod_client, labelled, version):
    response = mod_client.get(reverse("moderation:dashboard"))
    html = response.content.decode()
    assert response.status_code == 200
    assert response.context["label_set"].name == "sentiment"
    assert 'id="agreement-accuracy">66.7%' in html
    assert 'id="agreement-f1">0.667' in html
    assert 'id="waiting-count">6<' in html
    assert "sentiment-test-v1" in html
    assert (
        '<td class="num" data-label="Accuracy">0.710</td>' in html
    )  # the version's own accuracy metric
    assert "Model said <strong>positive</strong>" in html
    assert reverse("moderation:confusion_plot") in html
    assert reverse("moderation:reliability_plot") in html
    assert dict(response.context["queue_sizes"])[response.context["label_set"]] == 0


def test_the_page_works_without_any_model_or_decision(mod_client, sentiment):
    ModelVersion.objects.update(is_active=False)
    response = mod_client.get(reverse("moderation:dashboard"), {"label_set": "sentiment"})
    assert response.status_code == 200
    assert "No active model for sentiment." in response.content.decode()
    plot = mod_client.get(reverse("moderation:reliability_plot"), {"label_set": "sentiment"})
    assert plot.status_code == 200


@pytest.mark.parametrize("name", ["moderation:confusion_plot", "moderation:reliability_plot"])
def test_the_plots_are_real_pngs(mod_client, labelled, name):
    response = mod_client.get(reverse(name), {"label_set": "sentiment"})
    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.width > 200


@pytest.mark.parametrize("name", ["moderation:confusion_plot", "moderation:reliability_plot"])
def test_the_plots_come_in_the_pages_light_and_dark_colours(mod_client, labelled, name):
    def drawn(theme: str) -> Image.Image:
        response = mod_client.get(reverse(name), {"label_set": "sentiment", "theme": theme})
        assert response.status_code == 200
        return Image.open(io.BytesIO(response.content)).convert("RGB")

    light, dark = drawn("light"), drawn("dark")
    assert light.getpixel((0, 0)) == (255, 255, 255)
    assert dark.getpixel((0, 0)) == (0x1C, 0x1F, 0x24)  # the dark page's card colour
    # The labels are drawn light on dark: some pixels are near the dark page's text colour.
    assert max(sum(pixel) for pixel in dark.get_flattened_data()) > 3 * 200
    page = mod_client.get(reverse("moderation:dashboard"), {"label_set": "sentiment"})
    html = page.content.decode()
    assert '<source media="(prefers-color-scheme: dark)"' in html
    assert f"{reverse(name)}?label_set=sentiment&amp;theme=dark" in html


def test_an_unknown_plot_theme_is_a_400_that_says_the_choices(mod_client, labelled):
    response = mod_client.get(
        reverse("moderation:confusion_plot"), {"label_set": "sentiment", "theme": "purple"}
    )
    assert response.status_code == 400
    assert response.content.decode() == "Unknown theme; use light or dark."


def test_corrections_by_imports_count_as_waiting_but_not_per_moderator(sentiment, version):
    meme = predicted_meme(version, 0.4)
    correction_create(
        meme=meme,
        label_set=sentiment,
        moderator=None,
        new_label="positive",
        source=LabelCorrection.Source.IMPORT,
        check_stale=False,
    )
    assert dashboard.decisions_per_day().moderators == []
    assert dashboard.corrections_waiting_for_retrain(label_set=sentiment) == 1
