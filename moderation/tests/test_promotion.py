"""One promotion (and rollback) service behind every door, with one permission and the gate
warning: the dashboard, the admin action, the API and the promote/rollback commands."""

import pytest
from django.core.management import CommandError, call_command

from classifier import services
from classifier.models import ModelVersion
from conftest import SHIPPED_MODEL
from moderation.autodecisions import auto_policy_update
from moderation.learning.promotion import (
    PromotionError,
    PromotionForbidden,
    PromotionNeedsConfirmation,
    gate_warning,
    model_version_promote,
    model_version_rollback,
)

pytestmark = pytest.mark.django_db

REJECTED_GATE = {
    "memes": 24,
    "per_class": {"positive": 12, "negative": 12},
    "sufficient": False,
    "approved": False,
    "reason": "the gate holds 12 memes per class, fewer than GATE_MIN_PER_CLASS (30)",
    "margin": 0.02,
    "f1_diff": 0.01,
    "f1_ci": [-0.2, 0.22],
    "auroc_diff": 0.0,
    "auroc_ci": [-0.15, 0.16],
}
APPROVED_GATE = {**REJECTED_GATE, "sufficient": True, "approved": True, "reason": "not worse"}


def register(sentiment, name, gate=None, path=SHIPPED_MODEL):
    """An inactive version with a real, intact model folder (the shipped one)."""
    metrics = {"macro_f1": 0.7} | ({"gate": gate} if gate is not None else {})
    return services.model_version_register(
        label_set=sentiment, version=name, artifact_path=str(path), metrics=metrics
    )


@pytest.fixture
def rejected(sentiment, active_model):
    return register(sentiment, "sentiment-rejected", REJECTED_GATE)


@pytest.fixture
def approved(sentiment, active_model):
    return register(sentiment, "sentiment-approved", APPROVED_GATE)


def active(sentiment):
    return ModelVersion.objects.get(label_set=sentiment, is_active=True)


# --- The service ----------------------------------------------------------------------------


def test_it_promotes_a_gate_approved_version_without_asking(approved, sentiment, promoter):
    assert gate_warning(model_version=approved) is None
    model_version_promote(model_version=approved, user=promoter)
    assert active(sentiment) == approved


def test_it_asks_for_confirmation_with_the_gates_reason(
    rejected, sentiment, active_model, promoter
):
    with pytest.raises(PromotionNeedsConfirmation) as exc:
        model_version_promote(model_version=rejected, user=promoter)
    assert exc.value.warning == (
        "sentiment-rejected was not approved by the promotion gate: the gate holds 12 memes "
        "per class, fewer than GATE_MIN_PER_CLASS (30)."
    )
    assert active(sentiment) == active_model
    model_version_promote(model_version=rejected, user=promoter, confirmed=True)
    assert active(sentiment) == rejected


def test_a_version_from_before_the_gate_stays_promotable_with_a_warning(
    sentiment, active_model, promoter
):
    old = register(sentiment, "sentiment-old")  # no "gate" key, like sentiment-v1
    assert "it has no gate result" in gate_warning(model_version=old)
    with pytest.raises(PromotionNeedsConfirmation):
        model_version_promote(model_version=old, user=promoter)
    model_version_promote(model_version=old, user=promoter, confirmed=True)
    assert active(sentiment) == old


def test_it_refuses_a_user_without_the_permission(approved, sentiment, active_model, moderator):
    with pytest.raises(PromotionForbidden, match="classifier.promote_modelversion"):
        model_version_promote(model_version=approved, user=moderator, confirmed=True)
    assert active(sentiment) == active_model


def test_it_checks_the_folder_before_asking_anything(sentiment, active_model, promoter, tmp_path):
    broken = register(sentiment, "sentiment-broken", APPROVED_GATE, path=tmp_path / "gone")
    with pytest.raises(PromotionError, match="cannot be promoted"):
        model_version_promote(model_version=broken, user=promoter, confirmed=True)
    assert active(sentiment) == active_model


def test_it_withdraws_the_automatic_decision_threshold(approved, sentiment, promoter):
    auto_policy_update(label_set=sentiment, target_precision=0.98, audit_rate=0.05)
    sentiment.auto_threshold, sentiment.auto_threshold_version = 0.9, active(sentiment)
    sentiment.save()
    model_version_promote(model_version=approved, user=promoter)
    sentiment.refresh_from_db()
    assert sentiment.auto_threshold is None  # nothing checked against the new version yet


def test_rollback_has_the_same_guarantees(approved, sentiment, active_model, promoter, moderator):
    model_version_promote(model_version=approved, user=promoter)
    with pytest.raises(PromotionForbidden):
        model_version_rollback(label_set=sentiment, user=moderator)
    # The version rolled back to (the shipped one) has no gate result: confirm first.
    with pytest.raises(PromotionNeedsConfirmation):
        model_version_rollback(label_set=sentiment, user=promoter)
    assert model_version_rollback(label_set=sentiment, user=promoter, confirmed=True) == (
        active_model
    )
    assert active(sentiment) == active_model


# --- The dashboard --------------------------------------------------------------------------


def _dashboard(client, sentiment):
    return client.get(f"/moderation/?label_set={sentiment.name}").content.decode()


def _promote_url(version):
    return f"/moderation/versions/{version.pk}/promote/?label_set={version.label_set.name}"


def test_the_dashboard_offers_promotion_to_promoters_only(
    client, rejected, sentiment, moderator, promoter
):
    client.force_login(moderator)
    assert "promote-button" not in _dashboard(client, sentiment)
    assert client.post(_promote_url(rejected), {"confirmed": "yes"}).status_code == 403
    client.force_login(promoter)
    assert f'data-version="{rejected.version}"' in _dashboard(client, sentiment)


def test_the_dashboard_shows_why_and_asks_before_promoting(
    client, rejected, sentiment, active_model, promoter
):
    client.force_login(promoter)
    response = client.post(_promote_url(rejected))
    assert response.status_code == 409
    page = response.content.decode()
    assert gate_warning(model_version=rejected) in page and 'id="promote-confirm"' in page
    assert active(sentiment) == active_model

    response = client.post(_promote_url(rejected), {"confirmed": "yes"}, follow=True)
    assert "sentiment-rejected is now the active sentiment model." in response.content.decode()
    assert active(sentiment) == rejected


def test_the_dashboard_promotes_an_approved_version_at_once(client, approved, sentiment, promoter):
    client.force_login(promoter)
    assert client.post(_promote_url(approved)).status_code == 302
    assert active(sentiment) == approved


def test_the_dashboard_rolls_back_with_a_confirmation(
    client, approved, sentiment, active_model, promoter
):
    model_version_promote(model_version=approved, user=promoter)
    client.force_login(promoter)
    url = f"/moderation/versions/rollback/?label_set={sentiment.name}"
    response = client.post(url)
    assert response.status_code == 409 and "no gate result" in response.content.decode()
    client.post(url, {"confirmed": "yes"})
    assert active(sentiment) == active_model


# --- The admin action -------------------------------------------------------------------------

CHANGELIST = "/admin/classifier/modelversion/"


def _admin_promote(client, version, **extra):
    return client.post(CHANGELIST, {"action": "promote", "_selected_action": [version.pk], **extra})


def test_the_admin_action_asks_then_promotes(client, rejected, sentiment, active_model, promoter):
    client.force_login(promoter)
    response = _admin_promote(client, rejected)
    assert response.status_code == 200
    assert gate_warning(model_version=rejected) in response.content.decode()
    assert active(sentiment) == active_model
    response = _admin_promote(client, rejected, confirmed="yes")
    assert response.status_code == 302
    assert active(sentiment) == rejected


def test_the_admin_action_checks_the_folder(client, sentiment, active_model, promoter, tmp_path):
    broken = register(sentiment, "sentiment-broken", APPROVED_GATE, path=tmp_path / "gone")
    client.force_login(promoter)
    response = _admin_promote(client, broken, confirmed="yes")
    assert response.status_code == 302
    assert active(sentiment) == active_model


def test_the_admin_action_is_not_offered_without_the_permission(
    client, approved, sentiment, active_model, django_user_model
):
    from django.contrib.auth.models import Permission

    staff = django_user_model.objects.create_user(username="staffer", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_modelversion", "change_modelversion"])
    )
    client.force_login(staff)
    assert 'value="promote"' not in client.get(CHANGELIST).content.decode()
    _admin_promote(client, approved, confirmed="yes")
    assert active(sentiment) == active_model


def test_the_admin_rollback_action_asks_then_rolls_back(
    client, approved, sentiment, active_model, promoter
):
    model_version_promote(model_version=approved, user=promoter)
    client.force_login(promoter)
    response = client.post(CHANGELIST, {"action": "rollback", "_selected_action": [approved.pk]})
    assert response.status_code == 200 and "no gate result" in response.content.decode()
    assert active(sentiment) == approved
    client.post(
        CHANGELIST,
        {"action": "rollback", "_selected_action": [approved.pk], "confirmed": "yes"},
    )
    assert active(sentiment) == active_model


# --- The API ----------------------------------------------------------------------------------


@pytest.fixture
def promoter_api(promoter):
    from classifier.tests.api.helpers import token_client

    return token_client(promoter)


def test_the_api_answers_409_with_the_reason_until_confirmed(
    promoter_api, rejected, sentiment, active_model
):
    url = f"/api/v1/models/{rejected.pk}/promote/"
    response = promoter_api.post(url, {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "gate_not_approved"
    assert gate_warning(model_version=rejected) in body["detail"]
    assert active(sentiment) == active_model
    response = promoter_api.post(url, {"confirm": True}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is True


def test_the_api_promotes_an_approved_version_without_confirm(promoter_api, approved, sentiment):
    assert promoter_api.post(f"/api/v1/models/{approved.pk}/promote/").status_code == 200
    assert active(sentiment) == approved


def test_the_api_refuses_a_moderator_without_the_permission(
    approved, moderator, sentiment, active_model
):
    from classifier.tests.api.helpers import token_client

    response = token_client(moderator).post(
        f"/api/v1/models/{approved.pk}/promote/", {"confirm": True}, format="json"
    )
    assert response.status_code == 403
    assert active(sentiment) == active_model


def test_the_api_rejects_a_confirm_that_is_not_a_boolean(promoter_api, rejected):
    response = promoter_api.post(
        f"/api/v1/models/{rejected.pk}/promote/", {"confirm": "perhaps"}, format="json"
    )
    assert response.status_code == 400


def test_the_api_rolls_back_with_the_same_rules(
    promoter_api, approved, sentiment, active_model, moderator, promoter
):
    from classifier.tests.api.helpers import token_client

    url = "/api/v1/label-sets/sentiment/rollback/"
    response = promoter_api.post(url, {"confirm": True}, format="json")
    assert response.status_code == 409 and response.json()["error"] == "cannot_promote"
    assert "no earlier active version" in response.json()["detail"]

    model_version_promote(model_version=approved, user=promoter)
    response = token_client(moderator).post(url, {"confirm": True}, format="json")
    assert response.status_code == 403
    response = promoter_api.post(url, {}, format="json")
    assert response.status_code == 409 and response.json()["error"] == "gate_not_approved"
    assert active(sentiment) == approved
    response = promoter_api.post(url, {"confirm": True}, format="json")
    assert response.status_code == 200 and response.json()["version"] == active_model.version
    assert active(sentiment) == active_model
    assert promoter_api.post("/api/v1/label-sets/nope/rollback/").status_code == 404


# --- The commands -----------------------------------------------------------------------------


def test_the_promote_command_needs_yes_without_a_terminal(
    rejected, sentiment, active_model, capsys
):
    with pytest.raises(CommandError, match="Add --yes to promote it anyway"):
        call_command("promote", rejected.version)
    assert active(sentiment) == active_model
    call_command("promote", rejected.version, "--yes")
    assert active(sentiment) == rejected
    assert "sentiment-rejected is now the active sentiment model" in capsys.readouterr().out


def test_the_promote_command_checks_the_permission_of_as_user(
    approved, sentiment, active_model, moderator, promoter
):
    with pytest.raises(CommandError, match="needs the permission classifier.promote_modelversion"):
        call_command("promote", approved.version, "--as", moderator.username)
    with pytest.raises(CommandError, match="unknown user 'nobody'"):
        call_command("promote", approved.version, "--as", "nobody")
    assert active(sentiment) == active_model
    call_command("promote", approved.version, "--as", promoter.username)
    assert active(sentiment) == approved


def test_the_rollback_command_needs_yes_and_the_permission(
    approved, sentiment, active_model, moderator, promoter
):
    model_version_promote(model_version=approved, user=promoter)
    with pytest.raises(CommandError, match="needs the permission"):
        call_command("rollback", "--label-set", "sentiment", "--as", moderator.username, "--yes")
    with pytest.raises(CommandError, match="no gate result"):
        call_command("rollback", "--label-set", "sentiment")
    call_command("rollback", "--label-set", "sentiment", "--yes")
    assert active(sentiment) == active_model
