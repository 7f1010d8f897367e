"""RapidOCR: PaddleOCR's PP-OCRv6 detector and recogniser run through onnxruntime.

The rapidocr 3.10 wheel ships the ONNX models of its default configuration (PP-OCRv6
small detector and recogniser, PP-OCRv4 angle classifier), so it runs fully offline as
long as that configuration is kept: other languages or model sizes would be downloaded.
It finds text lines with a neural detector, which copes with outlined captions over
photos without any thresholding of our own. Its recogniser drops some spaces between
English words; WordSplitter puts them back.
"""

from PIL import Image, ImageDraw, ImageFont

from ml.ocr.base import OcrError, normalise_whitespace, to_rgb
from ml.ocr.words import WordSplitter


class RapidOcrEngine:
    """Read text with RapidOCR.

    Parameters
    ----------
    threads : int
        onnxruntime threads per session. One keeps a worker from starving its neighbours.
    min_score : float
        Lines the recogniser is less sure of are dropped: at RapidOCR's own 0.5, photo
        texture comes through as words ("ARAA", "m").
    min_side : int
        Images whose shorter side is smaller are upscaled to it first: the recogniser
        reads each line at the image's own resolution, and 128x128 memes have letters
        a few pixels tall (see docs/benchmarks.md).
    max_side : int
        Images whose longer side is larger are downscaled to it first.
    max_aspect : float
        Thinner images are padded with white to this ratio. RapidOCR raises on a thin
        strip (4000x30), and its detector scales the *shorter* side up to 736 px, so a
        long strip would become a huge image; padding bounds its input to about 1 MP.
    split_words : bool
        Split run-together words ("WHENYOU" -> "WHEN YOU").
    """

    name = "rapidocr"

    def __init__(
        self,
        *,
        threads: int = 1,
        min_score: float = 0.7,
        min_side: int = 256,
        max_side: int = 1024,
        max_aspect: float = 2.0,
        split_words: bool = True,
    ) -> None:
        self.threads = threads
        self.min_score = min_score
        self.min_side = min_side
        self.max_side = max_side
        self.max_aspect = max_aspect
        try:
            from rapidocr import RapidOCR

            self._splitter = WordSplitter() if split_words else None
        except ImportError as exc:
            raise OcrError(
                f"rapidocr is not installed ({exc}); pip install the rapidocr "
                "and wordsegment pins from requirements.txt"
            ) from exc
        try:
            self._ocr = RapidOCR(
                params={
                    "Global.text_score": min_score,
                    # Empty results are logged as warnings: one per meme without text.
                    "Global.log_level": "error",
                    "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": threads,
                }
            )
            # RapidOCR loads its models on first use; load them now, so that a broken
            # install fails here and the first meme is not slow.
            self._ocr(_warm_up_image())
        except Exception as exc:  # onnxruntime and omegaconf raise their own errors
            raise OcrError(f"rapidocr could not load its models: {exc}") from exc

    def read(self, image: Image.Image) -> str:
        rgb = self._prepare(to_rgb(image))
        try:
            # A PIL image, not an array: rapidocr takes arrays to be BGR.
            result = self._ocr(rgb)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise OcrError(f"rapidocr failed: {exc}") from exc
        text = normalise_whitespace(" ".join(result.txts or ()))
        return self._splitter.split(text) if self._splitter else text

    def _prepare(self, rgb: Image.Image) -> Image.Image:
        longer, shorter = max(rgb.size), min(rgb.size)
        scale = min(self.max_side / longer, 1.0)
        if shorter < self.min_side:
            scale = min(self.min_side / shorter, self.max_side / longer)
        if scale != 1.0:
            size = (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale)))
            rgb = rgb.resize(size, Image.Resampling.BICUBIC)
        least = round(max(rgb.size) / self.max_aspect)
        if min(rgb.size) >= least:
            return rgb
        padded = Image.new("RGB", (max(rgb.width, least), max(rgb.height, least)), "white")
        padded.paste(rgb)
        return padded


def _warm_up_image() -> Image.Image:
    image = Image.new("RGB", (320, 96), "white")
    font = ImageFont.load_default(size=40)
    ImageDraw.Draw(image).text((16, 24), "Memesense", font=font, fill="black")
    return image
