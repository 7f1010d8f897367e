"""Moderation's API views: parse the request, call one service or selector, render."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from classifier.api import errors
from classifier.api import selectors as api_selectors
from classifier.api.errors import Conflict
from classifier.api.parsers import LimitedJSONParser
from classifier.api.serializers import ModelVersionSerializer
from classifier.api.uploads import LimitedMultiPartParser
from classifier.api.views import meme_or_404
from classifier.models import MODERATE_PERMISSION, PROMOTE_PERMISSION, ModelVersion
from moderation.api import serializers
from moderation.api.services import NoLabelYet, api_correction_create
from moderation.learning.promotion import (
    PromotionError,
    PromotionNeedsConfirmation,
    model_version_promote,
    model_version_rollback,
)
from moderation.selectors.agreement import moderator_agreement
from moderation.services import StaleReviewError


class IsModerator(permissions.BasePermission):
    message = "Only moderators (permission moderation.moderate) may do this."

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm(MODERATE_PERMISSION)


class ModeratorAPIView(APIView):
    permission_classes = [permissions.IsAuthenticated, IsModerator]


class CanPromote(permissions.BasePermission):
    """The one promote/rollback permission, checked here as on every other door."""

    message = f"Only users with the permission {PROMOTE_PERMISSION} may promote model versions."

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm(PROMOTE_PERMISSION)


class MemeCorrectionView(ModeratorAPIView):
    parser_classes = [LimitedJSONParser, FormParser, LimitedMultiPartParser]

    def max_upload_bytes(self) -> int:
        return 256 * 1024  # no file here: room for a long corrected text

    @extend_schema(
        operation_id="memes_corrections_create",
        summary="Correct a meme's label and/or text (moderators)",
        request=serializers.CorrectionRequestSerializer,
        responses={
            201: serializers.CorrectionSerializer,
            **errors.BAD_REQUEST,
            **errors.UNAUTHENTICATED,
            **errors.FORBIDDEN,
            **errors.NOT_FOUND,
            **errors.STALE,
            413: errors.described("The body is larger than a correction can be (`too_large`)."),
            415: errors.described("The body is not JSON or a form (`unsupported_media_type`)."),
            **errors.THROTTLED,
        },
        description="Recorded in the same audit trail as the review page (source `api`). "
        "Send `seen_correction_id` (and `seen_text_correction_id` with `text`) from the "
        "meme's `human_labels` to be told (409) instead of overruling a decision made since.",
    )
    def post(self, request: Request, meme_id: int) -> Response:
        meme = meme_or_404(request, meme_id)
        body = serializers.CorrectionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            correction = api_correction_create(
                meme=meme,
                label_set=data["label_set"],
                moderator=request.user,
                label=data.get("label"),
                unusable=data["unusable"],
                text=data.get("text"),
                seen_correction_id=data.get("seen_correction_id"),
                seen_text_correction_id=data.get("seen_text_correction_id"),
                check_stale=data["check_stale"],
            )
        except StaleReviewError as exc:
            raise Conflict(
                f"Meme {meme.pk} got another decision (correction {exc.latest.pk}) since the "
                "one you saw.",
                latest_correction_id=exc.latest.pk,
            ) from None
        except NoLabelYet as exc:
            raise ValidationError({"label": str(exc)}) from None
        return Response(
            serializers.CorrectionSerializer(correction).data, status=status.HTTP_201_CREATED
        )


class AgreementView(ModeratorAPIView):
    @extend_schema(
        operation_id="agreement_retrieve",
        summary="Agreement between moderators: Cohen's and Fleiss' kappa, Gwet's AC1",
        parameters=[serializers.AgreementQuerySerializer],
        responses={
            200: serializers.AgreementSerializer,
            **errors.BAD_REQUEST,
            **errors.UNAUTHENTICATED,
            **errors.FORBIDDEN,
            **errors.NOT_FOUND,
            **errors.THROTTLED,
        },
        description="From each moderator's first decision on memes two or more moderators "
        "decided (the blind second reviews of DOUBLE_REVIEW_RATE, and any other overlap).",
    )
    def get(self, request: Request) -> Response:
        query = serializers.AgreementQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        label_set = api_selectors.label_set_for_filters(
            label_set=query.validated_data.get("label_set")
        )
        if label_set is None:
            raise NotFound("There is no label set yet.")
        result = moderator_agreement(label_set=label_set)
        return Response(serializers.AgreementSerializer(result).data)


def _promotion(action, *, confirmed: bool) -> Response:
    """Run a promotion service and answer the way both promotion endpoints answer."""
    try:
        version = action(confirmed=confirmed)
    except PromotionNeedsConfirmation as exc:
        raise errors.GateNotApproved(
            f'{exc.warning} Send {{"confirm": true}} to promote it anyway.'
        ) from None
    except PromotionError as exc:
        raise errors.CannotPromote(str(exc)) from None
    return Response(ModelVersionSerializer(version).data)


PROMOTION_CONFLICT = errors.described(
    "The model folder is missing or damaged, or there is no earlier version (`cannot_promote`); "
    "or the promotion gate did not approve the version and `confirm` was not true "
    "(`gate_not_approved`; the detail says why)."
)
PROMOTION_FORBIDDEN = errors.described(
    f"The user lacks the permission {PROMOTE_PERMISSION} (`permission_denied`)."
)

# Promote and rollback answer alike: the version made active, or why not.
PROMOTION_RESPONSES = {
    200: ModelVersionSerializer,
    **errors.BAD_REQUEST,
    **errors.UNAUTHENTICATED,
    403: PROMOTION_FORBIDDEN,
    **errors.NOT_FOUND,
    409: PROMOTION_CONFLICT,
    **errors.THROTTLED,
}


class ModelVersionPromoteView(APIView):
    permission_classes = [permissions.IsAuthenticated, CanPromote]

    @extend_schema(
        operation_id="models_promote",
        summary="Make a model version the active one of its label set",
        request=serializers.PromoteRequestSerializer,
        responses=PROMOTION_RESPONSES,
        description="Needs the permission `classifier.promote_modelversion` (superusers have "
        "it). The version's folder is checked first (as `manage.py promote` does). A version "
        'the promotion gate did not approve answers 409 with the reason unless `{"confirm": '
        "true}` is sent. New classifications use it from the next task on; promoting the "
        "active version again changes nothing but its activation time.",
    )
    def post(self, request: Request, model_version_id: int) -> Response:
        body = serializers.PromoteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            version = api_selectors.model_version_get(model_version_id=model_version_id)
        except ModelVersion.DoesNotExist:
            raise NotFound(f"No model version with id {model_version_id}.") from None

        def promote(*, confirmed: bool) -> ModelVersion:
            return model_version_promote(
                model_version=version, user=request.user, confirmed=confirmed
            )

        return _promotion(promote, confirmed=body.validated_data["confirm"])


class LabelSetRollbackView(APIView):
    permission_classes = [permissions.IsAuthenticated, CanPromote]

    @extend_schema(
        operation_id="label_sets_rollback",
        summary="Re-activate the version that was active before the current one",
        request=serializers.PromoteRequestSerializer,
        responses=PROMOTION_RESPONSES,
        description="The same checks as promoting (`manage.py rollback` does the same); the "
        "answer is the version made active again.",
    )
    def post(self, request: Request, name: str) -> Response:
        body = serializers.PromoteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        label_set = api_selectors.label_sets().filter(name=name).first()
        if label_set is None:
            raise NotFound(f"No label set named {name!r}.")

        def rollback(*, confirmed: bool) -> ModelVersion:
            return model_version_rollback(
                label_set=label_set, user=request.user, confirmed=confirmed
            )

        return _promotion(rollback, confirmed=body.validated_data["confirm"])
