"""OCR engines on real rendered memes, with the real tesseract binary and RapidOCR models."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytesseract
import pytest
from PIL import Image, ImageDraw, ImageFont

from ml import ocr
from ml.ocr.rapid import RapidOcrEngine
from ml.ocr.tesseract import TesseractEngine

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
ENGINES = ["tesseract", "rapidocr"]


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower().replace("'", ""))


def fitted(text: str, largest: int, width: float) -> ImageFont.FreeTypeFont:
    """The largest font, up to `largest` px, that draws `text` within `width`."""
    for size in range(largest, 6, -1):
        font = ImageFont.truetype(FONT, size)
        if font.getlength(text) <= width:
            return font
    return font


def outlined(photo: Image.Image, top: str, bottom: str, size=(600, 450)) -> Image.Image:
    """Classic meme: white capitals with a black outline at the top and bottom of a photo."""
    image = photo.convert("RGB").resize(size)
    draw = ImageDraw.Draw(image)
    for text, y, anchor in ((top, size[1] * 0.03, "ma"), (bottom, size[1] * 0.97, "md")):
        font = fitted(text, size[1] // 9, size[0] * 0.92)
        draw.text(
            (size[0] / 2, y),
            text,
            font=font,
            fill="white",
            anchor=anchor,
            stroke_width=max(1, font.size // 12),
            stroke_fill="black",
        )
    return image


def banded(photo: Image.Image, caption: str, size=(600, 450)) -> Image.Image:
    """Newer meme: black text on a white band above the photo."""
    band = size[1] // 5
    image = Image.new("RGB", size, "white")
    image.paste(photo.convert("RGB").resize((size[0], size[1] - band)), (0, band))
    font = fitted(caption, band // 2, size[0] * 0.92)
    ImageDraw.Draw(image).text(
        (size[0] / 2, band / 2), caption, font=font, fill="black", anchor="mm"
    )
    return image


@pytest.fixture(scope="module")
def engines() -> dict[str, ocr.OcrEngine]:
    return {"tesseract": TesseractEngine(), "rapidocr": RapidOcrEngine()}


@pytest.mark.parametrize("name", ENGINES)
def test_it_reads_a_white_outlined_caption_over_a_photo(engines, photos, name):
    # The top caption sits on a white sky: only its black outline sets it apart.
    image = outlined(photos["china"], "ONE DOES NOT SIMPLY", "WALK INTO MORDOR")

    found = words(engines[name].read(image))

    # In reading order; tesseract may add a stray word from the temple in between.
    assert found[:4] == ["one", "does", "not", "simply"]
    assert found[-3:] == ["walk", "into", "mordor"]


@pytest.mark.parametrize("name", ENGINES)
def test_it_reads_black_text_on_a_white_band(engines, photos, name):
    image = banded(photos["flower"], "Shut up and take my money")

    assert words(engines[name].read(image)) == ["shut", "up", "and", "take", "my", "money"]


def tiny_meme(photo, top="BRACE YOURSELVES", bottom="MONDAY IS COMING") -> Image.Image:
    # Drawn at 512 px and squashed to 128x128, as the Memotion copies were: the letters
    # end up about 9 px tall.
    return outlined(photo, top, bottom, size=(512, 512)).resize((128, 128))


@pytest.mark.parametrize("name", ENGINES)
def test_it_reads_a_tiny_memotion_sized_meme(engines, photos, name):
    text = engines[name].read(tiny_meme(photos["flower"]))

    assert words(text) == ["brace", "yourselves", "monday", "is", "coming"]


def test_tesseract_reads_a_tiny_meme_only_because_it_upscales_it(photos):
    image = tiny_meme(photos["flower"])

    upscaled = TesseractEngine().read(image)
    as_is = TesseractEngine(max_upscale=1.0).read(image)

    assert words(upscaled) == ["brace", "yourselves", "monday", "is", "coming"]
    assert words(as_is) != ["brace", "yourselves", "monday", "is", "coming"]


@pytest.mark.parametrize("name", ENGINES)
@pytest.mark.parametrize("colour", ["white", "black", "grey"])
def test_it_returns_an_empty_string_for_an_image_without_text(engines, name, colour):
    assert engines[name].read(Image.new("RGB", (300, 200), colour)) == ""


@pytest.mark.parametrize("name", ENGINES)
def test_it_finds_no_words_in_a_photo_without_text(engines, photos, name):
    assert words(engines[name].read(photos["flower"])) == []


@pytest.mark.parametrize("name", ENGINES)
def test_it_returns_one_line_with_single_spaces(engines, photos, name):
    image = outlined(photos["china"], "KEEP CALM", "AND DRINK COFFEE")

    text = engines[name].read(image)

    assert text == " ".join(text.split())
    assert text


@pytest.mark.parametrize("name", ENGINES)
def test_it_reads_text_on_a_transparent_background(engines, name):
    # Dropping the alpha channel would make the background black, like the letters.
    image = Image.new("RGBA", (500, 120), (0, 0, 0, 0))
    font = ImageFont.truetype(FONT, 48)
    ImageDraw.Draw(image).text((20, 30), "HELLO THERE", font=font, fill=(0, 0, 0, 255))

    assert words(engines[name].read(image)) == ["hello", "there"]


@pytest.mark.parametrize("size", [(4000, 20), (20, 4000), (1, 1)])
def test_rapidocr_reads_degenerate_shapes_quickly(engines, size):
    # RapidOCR on its own raises on a 4000x30 strip, and its detector scales the
    # shorter side up to 736 px; the engine pads thin images first.
    image = Image.new("RGB", size, "white")

    assert engines["rapidocr"].read(image) == ""
    assert max(engines["rapidocr"]._prepare(image).size) <= 1024


def test_rapidocr_keeps_the_spaces_between_words_on_a_tiny_meme(engines, photos):
    # PP-OCR's recogniser, trained mostly on Chinese, used to read this as "WHATIAM DOING"
    # (lines padded to 320 px); the word splitter's own cases are in test_ocr_words.
    image = tiny_meme(photos["flower"], "I HAVE NO IDEA", "WHAT I AM DOING")
    expected = ["i", "have", "no", "idea", "what", "i", "am", "doing"]

    assert words(engines["rapidocr"].read(image)) == expected


def test_rapidocr_runs_without_network(no_network, photos):
    image = banded(photos["china"], "Drink water you may not")

    assert words(RapidOcrEngine().read(image)) == ["drink", "water", "you", "may", "not"]


def test_raw_tesseract_is_the_plain_baseline(photos):
    engine = TesseractEngine(preprocess=False)
    image = banded(photos["flower"], "Shut up and take my money")

    assert engine.name == "tesseract-raw"
    assert "money" in words(engine.read(image))


def test_a_missing_tesseract_binary_raises_ocr_error(monkeypatch, engines, photos):
    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")

    with pytest.raises(ocr.OcrError, match="tesseract"):
        TesseractEngine()
    with pytest.raises(ocr.OcrError, match="tesseract binary not found"):
        engines["tesseract"].read(outlined(photos["china"], "TOP", "BOTTOM"))


def test_tesseract_runs_on_one_thread(monkeypatch):
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)

    TesseractEngine()

    assert os.environ["OMP_THREAD_LIMIT"] == "1"


def test_missing_tesseract_language_data_raises_ocr_error():
    with pytest.raises(ocr.OcrError, match="no language data for xyz"):
        TesseractEngine(lang="xyz")


def test_a_missing_rapidocr_package_raises_ocr_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "rapidocr", None)

    with pytest.raises(ocr.OcrError, match="rapidocr is not installed"):
        RapidOcrEngine()


def test_get_engine_rejects_an_unknown_name():
    with pytest.raises(ocr.OcrError, match=r"unknown OCR engine 'easyocr'.*tesseract"):
        ocr.get_engine("easyocr")


def test_get_engine_returns_one_cached_instance_per_name():
    engine = ocr.get_engine("tesseract")

    assert isinstance(engine, ocr.OcrEngine)
    assert engine.name == "tesseract"
    assert ocr.get_engine("Tesseract") is engine
    assert ocr.get_engine("tesseract-raw") is not engine


def test_get_engine_takes_the_default_from_the_environment(monkeypatch):
    monkeypatch.setenv(ocr.ENV_VAR, "tesseract-raw")

    assert ocr.get_engine().name == "tesseract-raw"


def test_get_engine_falls_back_to_the_benchmarked_default(monkeypatch):
    monkeypatch.delenv(ocr.ENV_VAR, raising=False)

    assert ocr.get_engine().name == ocr.DEFAULT_ENGINE == "rapidocr"


def test_importing_ocr_loads_no_engine_and_no_django():
    code = (
        "import sys, ml.ocr; "
        "print(sorted(m for m in ('django', 'pytesseract', 'rapidocr', "
        "'onnxruntime', 'wordsegment') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    loaded = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True
    ).stdout

    assert loaded.strip() == "[]"


def test_a_forked_worker_creates_its_own_engine():
    parent = ocr.get_engine("tesseract-raw")
    pid = os.fork()
    if pid == 0:  # the child: exit 0 only if it got a fresh engine
        os._exit(0 if ocr.get_engine("tesseract-raw") is not parent else 1)
    _, status = os.waitpid(pid, 0)

    assert os.waitstatus_to_exitcode(status) == 0
    assert ocr.get_engine("tesseract-raw") is parent
