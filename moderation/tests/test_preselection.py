"""No rubber-stamping: below the label set's review threshold nothing is preselected."""

from django.urls import reverse

from moderation.models import LabelCorrection
from moderation.tests.factories import predicted_meme


def _page(client, meme):
    return client.get(reverse("moderation:review", args=[meme.pk]) + "?label_set=sentiment")


def test_it_preselects_nothing_when_the_model_is_unsure(mod_client, version):
    meme = predicted_meme(version, 0.7)  # negative at 70%, below the default 0.8
    response = _page(mod_client, meme)
    html = response.content.decode()
    assert response.context["form"].initial["label"] == ""
    assert " checked" not in html.split('id="decision-form"')[1].split("</ul>")[0]
    assert 'id="no-preselection"' in html


def test_enter_alone_records_nothing_when_nothing_is_picked(mod_client, version):
    meme = predicted_meme(version, 0.7)
    form = _page(mod_client, meme).context["form"]
    url = reverse("moderation:review", args=[meme.pk]) + "?label_set=sentiment"
    response = mod_client.post(
        url, {"action": "confirm", "label": form.initial["label"], "seen_correction": 0}
    )
    assert response.status_code == 400
    assert "Pick a label first." in response.content.decode()
    assert not LabelCorrection.objects.exists()


def test_it_preselects_the_model_s_class_from_the_threshold_up(mod_client, version, sentiment):
    meme = predicted_meme(version, 0.9)
    response = _page(mod_client, meme)
    assert response.context["form"].initial["label"] == "negative"
    assert 'id="no-preselection"' not in response.content.decode()

    sentiment.review_threshold = 0.95
    sentiment.save()
    assert _page(mod_client, meme).context["form"].initial["label"] == ""
