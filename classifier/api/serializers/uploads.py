"""Input of the endpoints that take an image: uploads and POST /classify/."""

from django.conf import settings
from rest_framework import serializers

from classifier.api.serializers.fields import StrictCharField
from classifier.api.uploads import image_from_upload, image_from_url
from classifier.models import LabelSet

TEXT_MAX_LENGTH = 2000  # as the upload form's caption


class _ImageUploadSerializer(serializers.Serializer):
    # Empty files reach image_from_upload, so every rejection of the file reads the same way.
    image = serializers.FileField(
        allow_empty_file=True,
        use_url=False,
        help_text="JPEG, PNG, WebP, GIF (first frame) or BMP; the type is read from the bytes.",
    )
    text = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=TEXT_MAX_LENGTH,
        help_text="Text that goes with the meme; the text in the picture is read by OCR.",
    )

    max_bytes_setting = "MAX_UPLOAD_BYTES"

    def validate_image(self, upload):
        return image_from_upload(
            upload, max_bytes=getattr(settings, self.max_bytes_setting), field="image"
        )


class MemeUploadSerializer(_ImageUploadSerializer):
    image = serializers.FileField(
        required=False,
        allow_empty_file=True,
        use_url=False,
        help_text="JPEG, PNG, WebP, GIF (first frame) or BMP; the type is read from the bytes. "
        "Send this or `image_url`.",
    )
    image_url = serializers.URLField(
        required=False,
        max_length=2000,
        help_text="An http(s) URL the server fetches the image from instead (public addresses "
        "only; size and time limited; validated like a file).",
    )

    def validate(self, data: dict) -> dict:
        if ("image" in data) == ("image_url" in data):
            raise serializers.ValidationError(
                {"image": "Send either a file in `image` or a URL in `image_url`."}
            )
        if "image_url" in data:
            data["image"] = image_from_url(
                data.pop("image_url"), max_bytes=settings.MAX_UPLOAD_BYTES, field="image_url"
            )
        return data


class ClassifyRequestSerializer(_ImageUploadSerializer):
    label_set = serializers.SlugRelatedField(
        slug_field="name",
        queryset=LabelSet.objects.all(),
        required=False,
        help_text="Classify for this label set only (default: every one with an active model).",
    )

    max_bytes_setting = "API_CLASSIFY_MAX_BYTES"
