"""API views: parse the request, call one service or selector, render the result."""

import logging

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView
from rest_framework import generics, permissions, status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from classifier import selectors as classifier_selectors
from classifier import services
from classifier.api import errors, selectors, serializers
from classifier.api.errors import ClassificationFailed, ModelUnavailable
from classifier.api.parsers import LimitedJSONParser
from classifier.api.uploads import LimitedMultiPartParser
from classifier.ml_bridge import ClassifierUnavailable
from classifier.models import LabelSet, Meme, ModelVersion

logger = logging.getLogger(__name__)


def meme_or_404(request: Request, meme_id: int) -> Meme:
    """The meme if the token's user may see it; someone else's answers 404 like no meme."""
    try:
        return selectors.meme_get(meme_id=meme_id, user=request.user)
    except Meme.DoesNotExist:
        raise NotFound(f"No meme with id {meme_id}.") from None


def _meme_context(request: Request, memes) -> dict:
    return {"request": request, **selectors.memes_context(user=request.user, memes=memes)}


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
        if created:
            meme, context = selectors.meme_just_created(meme=meme)
            context["request"] = request
        else:
            try:
                meme = selectors.meme_get(meme_id=meme.pk, user=request.user)
            except Meme.DoesNotExist:
                raise errors.AlreadyUploaded() from None
            context = _meme_context(request, [meme])
        url = reverse("api:meme-detail", args=[meme.pk])
        output = serializers.MemeSerializer(meme, context=context)
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
        meme = meme_or_404(request, meme_id)
        context = {"request": request}
        context.update(selectors.meme_detail_context(user=request.user, meme=meme))
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
        meme = meme_or_404(request, meme_id)
        try:
            services.meme_retry(meme=meme, user=request.user)
        except services.RetryRefused as refused:
            raise errors.CannotRetry(str(refused)) from None
        meme = selectors.meme_get(meme_id=meme.pk, user=request.user)
        output = serializers.MemeSerializer(meme, context=_meme_context(request, [meme]))
        return Response(output.data, status=status.HTTP_202_ACCEPTED)


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
        versions = classifier_selectors.model_versions_active(
            label_set=body.validated_data.get("label_set")
        )
        if not versions:
            raise ModelUnavailable("No active model version to classify with.")
        try:
            outcome = services.image_classify(
                image_bytes=image.data,
                caption=body.validated_data.get("text", ""),
                versions=versions,
            )
        except services.ClassificationError as exc:
            # The sentence with its code; the detail (paths, library errors) is logged.
            logger.warning("classify request failed: %s", exc)
            if isinstance(exc.__cause__, ClassifierUnavailable):
                raise ModelUnavailable(exc.public) from None
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
