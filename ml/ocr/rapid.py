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
        Images whose shorter side is smaller are upscaled to it first (0: never).
    split_words : bool
        Split run-together words ("WHENYOU" -> "WHEN YOU").
    """

    name = "rapidocr"

    def __init__(
        self,
        *,
        threads: int = 1,
        min_score: float = 0.5,
        min_side: int = 0,
        split_words: bool = True,
    ) -> None:
        self.threads = threads
        self.min_score = min_score
        self.min_side = min_side
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
        rgb = to_rgb(image)
        shorter = min(rgb.size)
        if self.min_side and shorter < self.min_side:
            scale = self.min_side / shorter
            size = (round(rgb.width * scale), round(rgb.height * scale))
            rgb = rgb.resize(size, Image.Resampling.BICUBIC)
        try:
            # A PIL image, not an array: rapidocr takes arrays to be BGR.
            lines, _ = self._ocr(rgb)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise OcrError(f"rapidocr failed: {exc}") from exc
        text = normalise_whitespace(" ".join(line for _, line, _ in lines or []))
        return self._splitter.split(text) if self._splitter else text
