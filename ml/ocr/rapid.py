"""RapidOCR: PaddleOCR's PP-OCRv6 detector and recogniser run through onnxruntime.

The rapidocr 3.10 wheel ships the ONNX models of its default configuration (PP-OCRv6
small detector and recogniser, PP-OCRv4 angle classifier), so it runs fully offline as
long as that configuration is kept: other languages or model sizes would be downloaded.
It finds text lines with a neural detector, which copes with outlined captions over
photos without any thresholding of our own. Its recogniser drops some spaces between
English words; WordSplitter puts them back.

We drive rapidocr's three models ourselves instead of calling its pipeline, because the
choices that decide the cost on platform-sized memes are between them (figures in
docs/benchmarks.md, "OCR on real memes"): the detector's input is bounded by its longer
side, lines too small to matter are not recognised, the angle classifier only sees lines
that are not horizontal, and the lines are put in reading order by layout.
"""

import logging
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ml.ocr.base import OcrError, normalise_whitespace, to_rgb
from ml.ocr.layout import Box, reading_order
from ml.ocr.words import WordSplitter

logger = logging.getLogger(__name__)

STAGES = ("detect", "classify", "recognise", "order")
# A line whose top edge rises or falls more than this per unit of width (about 10 degrees)
# is tilted, and goes through the angle classifier.
MAX_TILT = 0.18


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
        strip (4000x30), and the detector's cost grows with its input's area.
    det_side : int
        The detector's input is scaled so that its longer side is at most this. RapidOCR's
        default scales the *shorter* side up to 736, which costs four times as much on a
        800x600 meme for almost no recall; 480 read as many words as 640 on 400
        religious_hateful memes, the rendered and the Memotion sets, for 30 ms less of
        detection per meme (docs/benchmarks.md).
    min_line_height : float
        Detected lines less tall than this, in pixels of the prepared image, are not
        recognised: they are watermarks and small print, or noise.
    det_limit : str
        "max" bounds the detector's longer side by `det_side`; "min" is RapidOCR's own
        rule (the shorter side scaled up to `det_side`), kept for comparison.
    angle : str
        "tilted" runs the angle classifier on tilted and vertical lines only, "all" on
        every line (RapidOCR's own rule), "none" never.
    rec_batch : int
        Lines recognised per onnxruntime call. Every line of a batch is padded to the
        widest, so lines one at a time waste the least.
    rec_width : int
        The narrowest input the recogniser gets, in pixels at its 48 px height: shorter
        lines are padded to it. RapidOCR's 320 pads a one-word line to six times its
        width; 160 costs a quarter less recognition time (docs/benchmarks.md).
    det_model, rec_model : str or None
        Other ONNX files for the detector or recogniser; None means the wheel's.
    det_int8 : bool
        Run the wheel's detector statically quantised to int8 (ml/ocr/int8.py, built on
        first use and cached): about 3x less detection time for the same words read
        (docs/benchmarks.md). Ignored with `det_model`.
    det_int8_from : int
        With `det_int8`, images whose longer side (once prepared) is smaller than this are
        still detected in float32: they cost a fraction of a platform-sized meme, and on
        the rendered 256 px memes and Memotion's 128 px ones (256 px once upscaled) int8 missed
        a few words.
    split_words : bool
        Split run-together words ("WHENYOU" -> "WHEN YOU").
    layout : bool
        Read panels one after the other (ml.ocr.layout) instead of top to bottom across
        the whole image.
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
        det_side: int = 480,
        det_limit: str = "max",
        angle: str = "tilted",
        min_line_height: float = 0.0,
        rec_batch: int = 1,
        rec_width: int = 160,
        det_model: str | None = None,
        det_int8: bool = True,
        det_int8_from: int = 300,
        rec_model: str | None = None,
        split_words: bool = True,
        layout: bool = True,
    ) -> None:
        self.threads = threads
        self.min_score = min_score
        self.min_side = min_side
        self.max_side = max_side
        self.max_aspect = max_aspect
        if det_limit not in ("max", "min") or angle not in ("tilted", "all", "none"):
            raise ValueError(f"unknown det_limit {det_limit!r} or angle {angle!r}")
        self.det_side = det_side
        self.det_limit = det_limit
        self.det_int8_from = det_int8_from
        self.angle = angle
        self.rec_width = rec_width
        self.min_line_height = min_line_height
        self.rec_batch = rec_batch
        self.layout = layout
        try:
            from rapidocr import RapidOCR
            from rapidocr.ch_ppocr_rec import TextRecInput
            from rapidocr.utils.process_img import get_rotate_crop_image

            self._splitter = WordSplitter() if split_words else None
        except ImportError as exc:
            raise OcrError(
                f"rapidocr is not installed ({exc}); pip install the rapidocr "
                "and wordsegment pins from requirements.txt"
            ) from exc
        self._rec_input = TextRecInput
        self._crop = get_rotate_crop_image
        models = {"Det.model_path": det_model, "Rec.model_path": rec_model}
        try:
            ocr = RapidOCR(
                params={
                    **{key: path for key, path in models.items() if path},
                    "Global.text_score": min_score,
                    # Empty results are logged as warnings: one per meme without text.
                    "Global.log_level": "error",
                    "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                    "EngineConfig.onnxruntime.inter_op_num_threads": threads,
                    "Det.limit_type": det_limit,
                    "Det.limit_side_len": det_side,
                    "Rec.rec_batch_num": rec_batch,
                    "Rec.rec_img_shape": [3, 48, rec_width],
                }
            )
            # RapidOCR's loaders resolve the wheel's model files and session options;
            # loading all three now makes a broken install fail here, not on a meme.
            self._det = self._det_small = ocr._load_det_model()
            if det_int8 and det_model is None:
                self._det = self._int8_detector(ocr)
            # Public, so that the OCR text cache's key (ml.ocr_cache) tells the two apart.
            self.det_int8 = self._det is not self._det_small
            self._cls = ocr._load_cls_model()
            self._rec = ocr._load_rec_model()
            self.read(_warm_up_image())
        except OcrError:
            raise
        except Exception as exc:  # onnxruntime and omegaconf raise their own errors
            raise OcrError(f"rapidocr could not load its models: {exc}") from exc

    def _int8_detector(self, ocr):
        """The wheel's detector in int8 (ml/ocr/int8.py); the float32 one stays loaded
        for small images (`det_int8_from`)."""
        from ml.ocr.int8 import int8_detector

        # The file the wheel's detector was loaded from (RapidOCR resolves it itself).
        source = Path(self._det.session.session._model_path)
        try:
            path = int8_detector(source, self._det.get_preprocess())
        except Exception as exc:  # onnxruntime's quantisation raises its own errors
            # Slower OCR, not none: every meme still gets its text.
            logger.warning("int8 text detector not built (%s); detecting in float32", exc)
            return self._det_small
        ocr.text_det = None
        ocr.cfg.Det.model_path = str(path)
        try:
            return ocr._load_det_model()
        finally:
            ocr.text_det = self._det_small

    def read(self, image: Image.Image) -> str:
        return self.read_timed(image)[0]

    def read_timed(self, image: Image.Image) -> tuple[str, dict[str, float]]:
        """Return the text and the CPU seconds of this process each stage took (STAGES).

        CPU time rather than wall time, so that bench/ figures taken on a busy machine
        still say what a stage costs one core.
        """
        times = dict.fromkeys(STAGES, 0.0)
        rgb = self._prepare(to_rgb(image))
        # rapidocr's models take BGR arrays, as OpenCV reads them.
        bgr = np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])
        try:
            start = time.process_time()
            # Small images are cheap to detect in float32, and there int8 missed words.
            small = max(rgb.size) < self.det_int8_from
            detected = (self._det_small if small else self._det)(bgr)
            times["detect"] = time.process_time() - start
            if detected.boxes is None:
                return "", times
            boxes, crops, tilted = self._lines(bgr, detected.boxes)
            if not crops:
                return "", times
            start = time.process_time()
            crops = self._upright(crops, tilted)
            times["classify"] = time.process_time() - start
            start = time.process_time()
            recognised = self._rec(self._rec_input(img=crops))
            times["recognise"] = time.process_time() - start
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise OcrError(f"rapidocr failed: {exc}") from exc
        start = time.process_time()
        scores = zip(recognised.txts, recognised.scores, strict=True)
        kept = [
            index
            for index, (text, score) in enumerate(scores)
            if score >= self.min_score and text.strip()
        ]
        if self.layout:
            grey = np.asarray(rgb.convert("L"))
            order = reading_order(grey, [boxes[index] for index in kept])
            kept = [kept[position] for position in order]
        text = normalise_whitespace(" ".join(recognised.txts[index] for index in kept))
        if self._splitter:
            text = self._splitter.split(text)
        times["order"] = time.process_time() - start
        return text, times

    def _lines(self, bgr: np.ndarray, points: np.ndarray):
        """The boxes, crops and tilt flags of the lines tall enough to be read."""
        boxes, crops, tilted = [], [], []
        for quad in np.asarray(points, dtype=np.float32):
            box = Box.from_points(quad)
            if box.bottom - box.top < self.min_line_height:
                continue
            dx, dy = quad[1] - quad[0]
            # rapidocr turns lines 1.5 times taller than wide by 90 degrees when cropping.
            vertical = box.bottom - box.top >= 1.5 * (box.right - box.left)
            boxes.append(box)
            crops.append(self._crop(bgr, quad))
            tilted.append(vertical or abs(dy) > MAX_TILT * abs(dx))
        return boxes, crops, tilted

    def _upright(self, crops: list[np.ndarray], tilted: list[bool]) -> list[np.ndarray]:
        """Run the angle classifier on the lines that are not horizontal.

        Horizontal lines in memes are upright; the classifier's 180-degree verdicts on
        them were more often wrong than right and cost recall (docs/benchmarks.md).
        Tilted and vertical lines still get it.
        """
        if self.angle == "none":
            return crops
        doubtful = [i for i, flag in enumerate(tilted) if flag or self.angle == "all"]
        if not doubtful:
            return crops
        turned = self._cls([crops[index] for index in doubtful]).img_list
        crops = list(crops)
        for index, crop in zip(doubtful, turned, strict=True):
            crops[index] = crop
        return crops

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
