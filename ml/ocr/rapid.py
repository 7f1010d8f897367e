"""RapidOCR: PaddleOCR's PP-OCRv4 detector and recogniser run through onnxruntime.

The rapidocr-onnxruntime wheel ships its ONNX models, so it runs fully offline. It finds
text lines with a neural detector, which copes with outlined captions over photos without
any thresholding of our own. Its recogniser drops many spaces between English words;
WordSplitter puts them back.
"""

from PIL import Image

from ml.ocr.base import OcrError, normalise_whitespace, to_rgb
from ml.ocr.words import WordSplitter


class RapidOcrEngine:
    """Read text with RapidOCR.

    Parameters
    ----------
    threads : int
        onnxruntime threads per session. One keeps a worker from starving its neighbours.
    min_score : float
        Lines the recogniser is less sure of are dropped.
    min_side : int
        Images whose shorter side is smaller are upscaled to it first. The recogniser
        reads each line at the image's own resolution; on Memotion's 128x128 memes,
        upscaling to 256 raised word recall from 0.37 to 0.41.
    max_side : int
        Images whose longer side is larger are downscaled to it first.
    max_aspect : float
        Thinner images are padded with white to this ratio. RapidOCR's detector scales
        the *shorter* side up to 736, so a long thin strip would become a gigapixel
        image and take minutes; padding bounds the detector's input to about 1 MP.
    split_words : bool
        Split run-together words ("WHENYOU" -> "WHEN YOU").
    """

    name = "rapidocr"

    def __init__(
        self,
        *,
        threads: int = 1,
        min_score: float = 0.5,
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
            from rapidocr_onnxruntime import RapidOCR

            self._splitter = WordSplitter() if split_words else None
        except ImportError as exc:
            raise OcrError(
                f"rapidocr is not installed ({exc}); pip install the rapidocr-onnxruntime "
                "and wordsegment pins from requirements.txt"
            ) from exc
        try:
            self._ocr = RapidOCR(
                intra_op_num_threads=threads,
                inter_op_num_threads=threads,
                text_score=min_score,
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise OcrError(f"rapidocr could not load its models: {exc}") from exc

    def read(self, image: Image.Image) -> str:
        rgb = self._prepare(to_rgb(image))
        try:
            # A PIL image, not an array: rapidocr takes arrays to be BGR.
            lines, _ = self._ocr(rgb)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise OcrError(f"rapidocr failed: {exc}") from exc
        text = normalise_whitespace(" ".join(line for _, line, _ in lines or []))
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
