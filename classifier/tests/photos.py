"""Real photographs made into memes and their reposts, for repost-cluster tests."""

import functools
import io
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from classifier import services
from classifier.reposts import services as reposts
from classifier.validation import normalise_upload

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


@functools.cache
def sample_photos() -> dict[str, Image.Image]:
    """scikit-learn's two real photographs (a temple and a flower), 640x427."""
    from sklearn.datasets import load_sample_images

    data = load_sample_images()
    return {
        Path(name).stem: Image.fromarray(img)
        for name, img in zip(data.filenames, data.images, strict=True)
    }


def captioned(photo: Image.Image, top: str, bottom: str) -> Image.Image:
    image = photo.convert("RGB").copy()
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, image.height // 10)
    stroke = max(2, image.height // 120)
    draw.text((image.width // 2, image.height // 20), top, font=font, anchor="ma", fill="white",
              stroke_width=stroke, stroke_fill="black")  # fmt: skip
    draw.text((image.width // 2, image.height * 19 // 20), bottom, font=font, anchor="md",
              fill="white", stroke_width=stroke, stroke_fill="black")  # fmt: skip
    return image


def jpeg(image: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def crop(image: Image.Image, fraction: float) -> Image.Image:
    dx, dy = int(image.width * fraction), int(image.height * fraction)
    return image.crop((dx, dy, image.width - dx, image.height - dy))


def upload(data: bytes, name: str = "meme.jpg", caption: str = ""):
    """Store an upload and put it in its repost cluster, as its classification task does.

    The task's OCR and models are left out: these tests are about clusters
    (test_reposts checks that the task itself clusters).
    """
    meme, created = services.meme_create(
        image=normalise_upload(data, name), uploader=None, caption=caption
    )
    assert created
    reposts.meme_hash(meme=meme)
    return meme
