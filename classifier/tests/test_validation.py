"""normalise_upload: what is accepted, what is rejected and what is stored."""

import io

import pytest
from PIL import Image, ImageDraw

from classifier.validation import InvalidImage, clean_file_name, normalise_upload
from conftest import encode, render_meme


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def test_it_accepts_each_supported_format(meme_image):
    for fmt, expected in [
        ("JPEG", "image/jpeg"),
        ("PNG", "image/png"),
        ("WEBP", "image/png"),
        ("GIF", "image/png"),
        ("BMP", "image/png"),
    ]:
        image = normalise_upload(meme_image(fmt=fmt), f"meme.{fmt.lower()}")
        assert image.content_type == expected, fmt
        assert image.source_format == fmt
        assert (image.width, image.height) == (640, 480)
        assert decode(image.data).format == ("JPEG" if expected == "image/jpeg" else "PNG")


def test_it_hashes_the_uploaded_bytes(meme_image):
    import hashlib

    data = meme_image()
    assert normalise_upload(data, "a.png").sha256 == hashlib.sha256(data).hexdigest()


def test_it_rejects_an_empty_file():
    with pytest.raises(InvalidImage, match="empty"):
        normalise_upload(b"", "meme.png")


def test_it_rejects_a_file_over_the_size_limit(settings, meme_image):
    data = meme_image()
    settings.MAX_UPLOAD_BYTES = len(data) - 1
    with pytest.raises(InvalidImage, match="the limit is"):
        normalise_upload(data, "meme.png")


def test_it_rejects_a_non_image():
    with pytest.raises(InvalidImage, match="not a picture"):
        normalise_upload(b"PK\x03\x04 this is a zip archive, honest" * 10, "meme.jpg")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_it_rejects_a_truncated_image(meme_image, fmt):
    data = meme_image(fmt=fmt)
    with pytest.raises(InvalidImage, match="truncated|damaged"):
        normalise_upload(data[: len(data) // 2], f"meme.{fmt.lower()}")


def test_it_rejects_a_decompression_bomb():
    # 100 megapixels of one colour compresses to a few kilobytes of PNG.
    bomb = encode(Image.new("1", (10_000, 10_000)), "PNG", optimize=True)
    assert len(bomb) < 100_000
    with pytest.raises(InvalidImage, match="too large: at most 50 megapixels"):
        normalise_upload(bomb, "bomb.png")


def test_it_rejects_images_just_over_the_pixel_limit_not_only_twice_over(settings, meme_image):
    # Pillow only warns between its limit and twice it; the upload limit is a hard one.
    settings.MAX_IMAGE_PIXELS = 640 * 480 - 1
    with pytest.raises(InvalidImage, match="too large"):
        normalise_upload(meme_image(), "meme.png")


@pytest.mark.parametrize(
    "content",
    [
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
        b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>",
        b"\xef\xbb\xbf  \n<html><img src=x onerror=alert(1)></html>",
    ],
)
def test_it_rejects_svg_and_html(content):
    with pytest.raises(InvalidImage, match="SVG, HTML or XML"):
        normalise_upload(content, "meme.png")


def test_it_rejects_an_unsupported_image_format(meme_image):
    tiff = encode(render_meme("TIFF"), "TIFF")
    with pytest.raises(InvalidImage, match="not a picture"):
        normalise_upload(tiff, "meme.tiff")


def test_it_trusts_the_bytes_not_a_lying_extension(meme_image):
    image = normalise_upload(meme_image(fmt="JPEG"), "holiday.png")
    assert image.source_format == "JPEG"
    assert image.content_type == "image/jpeg"
    assert image.extension == "jpg"
    # Read as what it is, without a notice: the mismatch does not matter to the uploader.
    assert not any("named" in note for note in image.notes)


def test_it_rejects_a_script_named_like_an_image():
    with pytest.raises(InvalidImage):
        normalise_upload(b"#!/bin/sh\nrm -rf /\n", "meme.jpg")


def test_it_converts_cmyk_to_rgb():
    cmyk = render_meme("CMYK TEXT").convert("CMYK")
    image = normalise_upload(encode(cmyk, "JPEG"), "print.jpg")
    stored = decode(image.data)
    assert stored.mode == "RGB"
    assert image.content_type == "image/jpeg"


def test_it_scales_16_bit_images_to_8_bit_instead_of_clipping():
    grey = Image.linear_gradient("L").resize((300, 200))
    sixteen = grey.convert("I").point(lambda v: v * 257).convert("I;16")
    assert sixteen.mode == "I;16"
    image = normalise_upload(encode(sixteen, "PNG"), "deep.png")
    stored = decode(image.data).convert("L")
    low, high = stored.getextrema()
    # Clipping (convert("L") on 16-bit data) would make almost everything 255.
    assert low == 0 and high == 255
    assert 100 < stored.getpixel((150, 100)) < 160


def test_it_keeps_palette_transparency_as_rgba():
    palette = Image.new("P", (120, 80), 0)
    palette.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    ImageDraw.Draw(palette).rectangle((30, 20, 90, 60), fill=1)
    image = normalise_upload(encode(palette, "PNG", transparency=0), "sticker.png")
    stored = decode(image.data)
    assert stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 0  # transparent corner
    assert stored.getpixel((60, 40)) == (0, 0, 255, 255)


def test_it_applies_exif_orientation_so_the_picture_is_upright():
    upright = render_meme("UPRIGHT", size=(400, 300))
    # Camera style: pixels stored sideways plus an EXIF tag saying "rotate 90° clockwise".
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    image = normalise_upload(encode(sideways, "JPEG", exif=exif.tobytes()), "phone.jpg")
    stored = decode(image.data)
    assert (image.width, image.height) == (400, 300)
    assert stored.size == (400, 300)
    assert 0x0112 not in stored.getexif()
    assert any("upright" in note for note in image.notes)
    # Same picture: compare with the original at low resolution (JPEG is lossy).
    diff = [
        abs(a - b)
        for a, b in zip(
            stored.convert("L").resize((40, 30)).get_flattened_data(),
            upright.convert("L").resize((40, 30)).get_flattened_data(),
            strict=True,
        )
    ]
    assert sum(diff) / len(diff) < 10


def test_it_strips_metadata_and_trailing_bytes(meme_image):
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    polyglot = meme_image(fmt="JPEG", exif=exif.tobytes()) + b"<script>alert(1)</script>"
    image = normalise_upload(polyglot, "meme.jpg")
    assert b"<script>" not in image.data
    assert b"SpyCam" not in image.data


def test_it_keeps_only_the_first_frame_of_an_animation():
    first = render_meme("FIRST", size=(200, 150))
    second = Image.new("RGB", (200, 150), "red")
    gif = io.BytesIO()
    first.save(gif, format="GIF", save_all=True, append_images=[second], duration=100)
    image = normalise_upload(gif.getvalue(), "anim.gif")
    stored = Image.open(io.BytesIO(image.data))
    assert getattr(stored, "n_frames", 1) == 1
    assert stored.convert("RGB").getpixel((5, 5)) != (255, 0, 0)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("..\\..\\windows\\system32\\evil.jpg", "evil.jpg"),
        ("/absolute/path/meme.gif", "meme.gif"),
        ("null\x00byte.png", "nullbyte.png"),
        ("rtl\u202egnp.exe", "rtlgnp.exe"),
        ("line\nbreak\r.png", "linebreak.png"),
        ("   ", "upload"),
        ("..", "upload"),
        ("", "upload"),
        ("cafe\u0301.png", "café.png"),
    ],
)
def test_it_cleans_file_names(name, expected):
    assert clean_file_name(name) == expected


def test_it_shortens_absurdly_long_names_keeping_the_extension():
    cleaned = clean_file_name("a" * 5000 + ".jpeg")
    assert len(cleaned) <= 120
    assert cleaned.endswith(".jpeg")


def test_it_reports_a_cleaned_name(meme_image):
    image = normalise_upload(meme_image(), "../../x/../secret.png")
    assert image.original_name == "secret.png"
    assert any("cleaned" in note for note in image.notes)
