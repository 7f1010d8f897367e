"""API views: parse the request, call one service or selector, render the result."""

import logging

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework import generics, permissions, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from classifier import services
from classifier.api import errors, selectors, serializers
from classifier.api.errors import ClassificationFailed, ClassifierUnavailable, Conflict
from classifier.api.parsers import LimitedJSONParser
from classifier.api.services import NoLabelYet, api_correction_create
from classifier.api.uploads import LimitedMultiPartParser
from classifier.ml_bridge import ClassifierUnavailable as BridgeUnavailable
from classifier.models import PROMOTE_PERMISSION, LabelSet, Meme, ModelVersion
from moderation.learning.promotion import (
    PromotionError,
    PromotionNeedsConfirmation,
    model_version_promote,
    model_version_rollback,
)
from moderation.selectors.agreement import moderator_agreement
from moderation.services import StaleReviewError

logger = logging.getLogger(__name__)

MODERATE_PERMISSION = "moderation.moderate"


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


def _meme_or_404(request: Request, meme_id: int) -> Meme:
    """The meme if the token's user may see it; someone else's answers 404 like no meme."""
    try:
        return selectors.meme_get(meme_id=meme_id, user=request.user)
    except Meme.DoesNotExist:
        raise NotFound(f"No meme with id {meme_id}.") from None


def _meme_context(request: Request, memes) -> dict:
    blind = selectors.blind_human_labels(user=request.user, memes=memes)
    return {"request": request, "blind": blind}


class MemeListCreateView(generics.GenericAPIView):
    # For the browsable API's forms; the data comes from the selectors.
    queryset = Meme.objects.none()
    # JSON (size- and depth-checked) for {"image_url": ...}; the multipart parser for files.
    parser_classes = [LimitedMultiPartParser, LimitedJSONParser]

    def get_serializer_class(self):
        if self.request is not None and self.request.method == "POST":
            return serializers.MemeUploadSerializer  # the browsable API's upload form
        return serializers.MemeSerializer

    @property
    def throttle_scope(self) -> str:
        return "uploads" if self.request.method == "POST" else "api"

    def max_upload_bytes(self) -> int:
        return settings.MAX_UPLOAD_BYTES

    @extend_schema(
        operation_id="memes_list",
        summary="List memes",
        parameters=[serializers.MemeFilterSerializer],
        responses={
            200: serializers.MemeSerializer(many=True),
            **errors.BAD_REQUEST,
            **errors.UNAUTHENTICATED,
            **errors.NOT_FOUND,
            **errors.THROTTLED,
        },
        description="Newest first unless `ordering` says otherwise. A `page` past the last "
        "answers 404 (`not_found`).",
    )
    def get(self, request: Request) -> Response:
        query = serializers.MemeFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        memes = selectors.memes_with_details(
            selectors.memes_list(filters=query.to_filters(), user=request.user)
        )
        page = self.paginate_queryset(memes)
        context = _meme_context(request, page)
        data = serializers.MemeSerializer(page, many=True, context=context).data
        return self.get_paginated_response(data)

    @extend_schema(
        operation_id="memes_upload",
        summary="Upload a meme",
        request={
            "multipart/form-data": serializers.MemeUploadSerializer,
            "application/json": serializers.MemeUploadSerializer,
        },
        responses={
            202: OpenApiResponse(
                serializers.MemeSerializer,
                description="Stored and queued for classification; poll `url` until "
                "`status` is `classified` or `failed`.",
            ),
            200: OpenApiResponse(
                serializers.MemeSerializer,
                description="These exact bytes were uploaded before: the existing meme.",
            ),
            **errors.UPLOAD_ERRORS,
            **errors.UNAUTHENTICATED,
            409: errors.described(
                "These exact bytes are another user's meme (`uploaded_by_someone_else`)."
            ),
            **errors.THROTTLED,
        },
        description="The image (a file, or `image_url` fetched by the server) goes through "
        "the same validation as the upload page; nothing is stored when it is refused.",
    )
    def post(self, request: Request) -> Response:
        upload = serializers.MemeUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        meme, created = services.meme_create(
            image=upload.validated_data["image"],
            uploader=request.user,
            caption=upload.validated_data.get("text", ""),
        )
        try:
            meme = selectors.meme_get(meme_id=meme.pk, user=request.user)
        except Meme.DoesNotExist:
            raise errors.AlreadyUploaded() from None
        url = reverse("api:meme-detail", args=[meme.pk])
        output = serializers.MemeSerializer(meme, context=_meme_context(request, [meme]))
        return Response(
            output.data,
            status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
            headers={"Location": request.build_absolute_uri(url)},
        )


class MemeDetailView(generics.GenericAPIView):
    queryset = Meme.objects.none()
    serializer_class = serializers.MemeDetailSerializer

    @extend_schema(
        operation_id="memes_retrieve",
        summary="Get a meme: status, texts, predictions, human labels, reposts",
        responses={
            200: serializers.MemeDetailSerializer,
            **errors.UNAUTHENTICATED,
            **errors.NOT_FOUND,
            **errors.THROTTLED,
        },
    )
    def get(self, request: Request, meme_id: int) -> Response:
        meme = _meme_or_404(request, meme_id)
        context = _meme_context(request, [meme])
        return Response(serializers.MemeDetailSerializer(meme, context=context).data)


class MemeRetryView(APIView):
    @extend_schema(
        operation_id="memes_retry",
        summary="Classify a failed (or stuck) meme again (its uploader or a moderator)",
        request=None,
        responses={
            202: serializers.MemeSerializer,
            **errors.UNAUTHENTICATED,
            **errors.NOT_FOUND,
            409: errors.described(
                "Not failed and not stuck, e.g. already classified (`cannot_retry`)."
            ),
            **errors.THROTTLED,
        },
        description="Only a meme that failed, or that has waited or processed for longer "
        "than MEME_STALE_SECONDS, is queued again.",
    )
    def post(self, request: Request, meme_id: int) -> Response:
        meme = _meme_or_404(request, meme_id)
        try:
            services.meme_retry(meme=meme, user=request.user)
        except services.RetryRefused as refused:
            raise errors.CannotRetry(str(refused)) from None
        meme = selectors.meme_get(meme_id=meme.pk, user=request.user)
        output = serializers.MemeSerializer(meme, context=_meme_context(request, [meme]))
        return Response(output.data, status=status.HTTP_202_ACCEPTED)


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
        meme = _meme_or_404(request, meme_id)
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


class LabelSetListView(generics.GenericAPIView):
    queryset = LabelSet.objects.none()
    serializer_class = serializers.LabelSetSerializer
    pagination_class = None

    @extend_schema(
        operation_id="label_sets_list",
        summary="List label sets and their classes",
        responses={
            200: serializers.LabelSetSerializer(many=True),
            **errors.UNAUTHENTICATED,
            **errors.THROTTLED,
        },
    )
    def get(self, request: Request) -> Response:
        return Response(self.get_serializer(selectors.label_sets(), many=True).data)


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
        label_set = selectors.label_set_for_filters(label_set=query.validated_data.get("label_set"))
        if label_set is None:
            raise NotFound("There is no label set yet.")
        result = moderator_agreement(label_set=label_set)
        return Response(serializers.AgreementSerializer(result).data)


class ModelVersionListView(generics.GenericAPIView):
    queryset = ModelVersion.objects.none()
    serializer_class = serializers.ModelVersionSerializer

    @extend_schema(
        operation_id="models_list",
        summary="List model versions with their metrics",
        parameters=[serializers.ModelVersionFilterSerializer],
        responses={
            200: serializers.ModelVersionSerializer(many=True),
            **errors.BAD_REQUEST,
            **errors.UNAUTHENTICATED,
            **errors.NOT_FOUND,
            **errors.THROTTLED,
        },
        description="Newest first. A `page` past the last answers 404 (`not_found`).",
    )
    def get(self, request: Request) -> Response:
        query = serializers.ModelVersionFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        versions = selectors.model_versions(label_set=query.validated_data.get("label_set"))
        page = self.paginate_queryset(versions)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


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
    return Response(serializers.ModelVersionSerializer(version).data)


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
    200: serializers.ModelVersionSerializer,
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
            version = selectors.model_version_get(model_version_id=model_version_id)
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
        label_set = selectors.label_sets().filter(name=name).first()
        if label_set is None:
            raise NotFound(f"No label set named {name!r}.")

        def rollback(*, confirmed: bool) -> ModelVersion:
            return model_version_rollback(
                label_set=label_set, user=request.user, confirmed=confirmed
            )

        return _promotion(rollback, confirmed=body.validated_data["confirm"])


class ClassifyView(APIView):
    parser_classes = [LimitedMultiPartParser]
    throttle_scope = "classify"

    def max_upload_bytes(self) -> int:
        return settings.API_CLASSIFY_MAX_BYTES

    @extend_schema(
        operation_id="classify",
        summary="Classify an image now, without storing anything",
        request={"multipart/form-data": serializers.ClassifyRequestSerializer},
        responses={
            200: serializers.ClassifyResultSerializer,
            **errors.UPLOAD_ERRORS,
            **errors.UNAUTHENTICATED,
            422: errors.described("OCR or a model failed on this image (`classification_failed`)."),
            **errors.THROTTLED,
            503: errors.described(
                "No active model, or it cannot be loaded (`classifier_unavailable`)."
            ),
        },
        description="For quick checks: the file limit is API_CLASSIFY_MAX_BYTES (2 MiB by "
        "default) and the `classify` throttle applies.",
    )
    def post(self, request: Request) -> Response:
        body = serializers.ClassifyRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        image = body.validated_data["image"]
        versions = selectors.model_versions_active_for(
            label_set=body.validated_data.get("label_set")
        )
        if not versions:
            raise ClassifierUnavailable("No active model version to classify with.")
        try:
            outcome = services.image_classify(
                image_bytes=image.data,
                caption=body.validated_data.get("text", ""),
                versions=versions,
            )
        except services.ClassificationError as exc:
            # The sentence with its code; the detail (paths, library errors) is logged.
            logger.warning("classify request failed: %s", exc)
            if isinstance(exc.__cause__, BridgeUnavailable):
                raise ClassifierUnavailable(exc.public) from None
            raise ClassificationFailed(exc.public) from None
        return Response(serializers.classify_result(outcome=outcome, image=image))


class NotFoundView(APIView):
    """Any other path under /api/: a JSON 404 rather than the site's HTML page."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    throttle_classes = []
    schema = None

    def _not_found(self, request, *args, **kwargs):
        raise NotFound("No such API endpoint; see /api/docs/.")

    get = post = put = patch = delete = head = options = _not_found


class _DocsAccess:
    """The schema and its docs are public unless API_DOCS_PUBLIC is off (read per request)."""

    def get_permissions(self):
        if settings.API_DOCS_PUBLIC:
            return [permissions.AllowAny()]
        return [permissions.IsAuthenticated()]

    def perform_content_negotiation(self, request, force=False):
        if force:
            # Negotiation failed (an unknown ?format=): the error is JSON, as everywhere
            # under /api/, not the view's first renderer (YAML or an HTML page).
            return (JSONRenderer(), JSONRenderer.media_type)
        return super().perform_content_negotiation(request, force)


class SchemaView(_DocsAccess, SpectacularAPIView):
    pass


class SwaggerView(_DocsAccess, SpectacularSwaggerView):
    pass


class RedocView(_DocsAccess, SpectacularRedocView):
    pass
