"""GET /api/v1/label-sets/, GET /api/v1/models/ (promote and rollback: moderation/tests/api)."""

import pytest

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
