"""POST /api/v1/models/{id}/promote/."""

import pytest

from classifier.models import ModelVersion
from classifier.tests.api.helpers import error_of

pytestmark = pytest.mark.django_db


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
