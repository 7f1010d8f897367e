"""Real rows for moderation tests: memes with real PNG files, predictions, versions."""

import hashlib
import io
import itertools

from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from classifier.models import LabelSet, Meme, ModelVersion, Prediction, meme_storage
from classifier.services import meme_file_name, model_version_register, probability_stats

_counter = itertools.count(1)


def png_bytes(seed: int, text: str = "") -> bytes:
    """A small, distinct PNG: a colour from the seed and a caption drawn on it."""
    colour = ((seed * 53) % 256, (seed * 97) % 256, (seed * 193) % 256)
    image = Image.new("RGB", (120, 90), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 60, 120, 90), fill="white")
    draw.text((4, 66), text or f"meme {seed}", fill="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def make_user(username: str, *, moderator: bool = False, password: str = "pw-12345!") -> User:
    user = User.objects.create_user(username=username, password=password)
    if moderator:
        user.groups.add(Group.objects.get(name="moderators"))
    return user


def _unsaved_meme(
    *,
    uploader: User | None = None,
    caption: str = "",
    ocr_text: str = "",
    status: str = Meme.Status.CLASSIFIED,
    original_name: str = "",
) -> Meme:
    """A Meme whose real PNG is already stored, for the caller to save (one or in bulk)."""
    seed = next(_counter)
    data = png_bytes(seed, ocr_text)
    sha256 = hashlib.sha256(data).hexdigest()
    name = meme_storage().save(meme_file_name(sha256, "png"), ContentFile(data))
    return Meme(
        sha256=sha256,
        image=name,
        original_name=original_name or f"meme-{seed}.png",
        content_type="image/png",
        size_bytes=len(data),
        width=120,
        height=90,
        uploader=uploader,
        caption=caption,
        ocr_text=ocr_text,
        status=status,
    )


def make_meme(**fields) -> Meme:
    meme = _unsaved_meme(**fields)
    meme.save()
    return meme


def make_memes(n: int, **fields) -> list[Meme]:
    """n memes as make_meme makes them, inserted at once (fixtures that need hundreds)."""
    return Meme.objects.bulk_create([_unsaved_meme(**fields) for _ in range(n)])


def make_version(label_set: LabelSet, version: str, *, activate: bool = True, **fields):
    return model_version_register(
        label_set=label_set,
        version=version,
        artifact_path=f"/tmp/models/{version}",
        activate=activate,
        **fields,
    )


def _unsaved_prediction(
    meme: Meme, version: ModelVersion, probabilities: dict[str, float]
) -> Prediction:
    confidence, margin, entropy = probability_stats(probabilities)
    return Prediction(
        meme=meme,
        label_set=version.label_set,
        model_version=version,
        label=max(probabilities, key=probabilities.get),
        probabilities=probabilities,
        confidence=confidence,
        margin=margin,
        entropy=entropy,
        duration_ms=5,
    )


def predict(meme: Meme, version: ModelVersion, probabilities: dict[str, float]) -> Prediction:
    prediction = _unsaved_prediction(meme, version, probabilities)
    prediction.save()
    return prediction


def predicted_memes(version: ModelVersion, p_negative: float, n: int) -> list[Meme]:
    """n memes as predicted_meme makes them, inserted at once."""
    memes = make_memes(n)
    probabilities = {"positive": 1 - p_negative, "negative": p_negative}
    Prediction.objects.bulk_create(
        [_unsaved_prediction(meme, version, probabilities) for meme in memes]
    )
    return memes


def predicted_meme(version: ModelVersion, p_negative: float, **meme_fields) -> Meme:
    """A classified sentiment meme whose prediction gives ``p_negative`` to negative."""
    meme = make_meme(**meme_fields)
    predict(meme, version, {"positive": 1 - p_negative, "negative": p_negative})
    return meme
