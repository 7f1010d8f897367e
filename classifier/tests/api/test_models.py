"""GET /api/v1/label-sets/, GET /api/v1/models/, POST /api/v1/models/{id}/promote/."""

import pytest

from classifier.models import ModelVersion
from classifier.tests.api.helpers import error_of

pytestmark = pytest.mark.django_db


def test_it_lists_label_sets_with_classes_and_active_version(user_client, active_model):
    response = user_client.get("/api/v1/label-sets/")
    assert response.status_code == 200
    (sentiment,) = response.json()
    assert sentiment["name"] == "sentiment"
    assert sentiment["classes"] == ["positive", "negative"]
    assert sentiment["alert_class"] == "negative"
    assert sentiment["active_version"] == active_model.version


def test_it_lists_model_versions_with_metrics_newest_first(
    user_client, active_model, spare_version
):
    response = user_client.get("/api/v1/models/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [v["version"] for v in results] == [spare_version.version, active_model.version]
    spare = results[0]
    assert spare["metrics"] == {"accuracy": 0.71, "macro_f1": 0.69}
    assert spare["training_counts"] == {"positive": 10, "negative": 12}
    assert spare["is_active"] is False
    assert spare["label_set"] == "sentiment"
    assert "artifact_path" not in spare
    assert results[1]["is_active"] is True


def test_it_filters_model_versions_by_label_set(user_client, spare_version):
    assert user_client.get("/api/v1/models/?label_set=sentiment").json()["count"] >= 1
    response = user_client.get("/api/v1/models/?label_set=unknown")
    assert response.status_code == 400
    assert error_of(response)["field"] == "label_set"


@pytest.fixture
def promoter_client(promoter):
    from classifier.tests.api.helpers import token_client

    return token_client(promoter)


def test_a_promoter_promotes_a_version(promoter_client, active_model, spare_version):
    # Changed with issues 11.5 and 12.9: a promoter, not any moderator, and a version without a
    # gate result needs {"confirm": true} (the 409 without it: moderation/tests/test_promotion.py).
    response = promoter_client.post(
        f"/api/v1/models/{spare_version.pk}/promote/", {"confirm": True}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["is_active"] is True
    assert response.json()["activated_at"]
    active_model.refresh_from_db()
    assert active_model.is_active is False
    assert ModelVersion.objects.get(is_active=True) == spare_version


def test_promoting_a_version_whose_folder_is_gone_answers_409(
    promoter_client, active_model, sentiment
):
    from classifier import services

    broken = services.model_version_register(
        label_set=sentiment, version="sentiment-gone", artifact_path="/nonexistent/sentiment-gone"
    )
    response = promoter_client.post(
        f"/api/v1/models/{broken.pk}/promote/", {"confirm": True}, format="json"
    )
    assert response.status_code == 409
    assert error_of(response)["error"] == "cannot_promote"
    active_model.refresh_from_db()
    assert active_model.is_active is True


def test_promoting_an_unknown_version_answers_404(promoter_client):
    response = promoter_client.post("/api/v1/models/987654/promote/")
    assert response.status_code == 404
    assert error_of(response)["error"] == "not_found"


def test_promote_only_takes_post(promoter_client, spare_version):
    response = promoter_client.get(f"/api/v1/models/{spare_version.pk}/promote/")
    assert response.status_code == 405
    assert error_of(response)["error"] == "method_not_allowed"
