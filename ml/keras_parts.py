"""Custom Keras layers and callbacks. Importing this module imports Keras (training only)."""

from __future__ import annotations

import keras
import numpy as np
from tqdm import tqdm

from .evaluation import compute_metrics


@keras.saving.register_keras_serializable(package="memesense")
class ModalityDropout(keras.layers.Layer):
    """Zero a whole (normalised) modality for a random subset of training samples."""

    def __init__(self, rate: float, seed: int = 1337, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        if not training or self.rate <= 0:
            return inputs
        keep = keras.random.uniform((keras.ops.shape(inputs)[0], 1), seed=self.seed_generator)
        return inputs * keras.ops.cast(keep >= self.rate, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class ValidationMetrics(keras.callbacks.Callback):
    """Adds val macro-F1 and AUROC to each epoch's logs and records the history."""

    def __init__(self, img, txt, y, classes, history: list):
        super().__init__()
        self.img, self.txt, self.y, self.classes, self.history = img, txt, y, list(classes), history

    def on_epoch_end(self, epoch, logs=None):
        # A direct call, not predict(): predict builds a data pipeline on every call, which
        # doubled the wall time of a whole fit on religious_hateful (measured).
        probs = np.asarray(self.model([self.img, self.txt], training=False))
        m = compute_metrics(self.y, probs, self.classes)
        logs = logs if logs is not None else {}
        logs["val_macro_f1"], logs["val_auroc"] = m["macro_f1"], m["auroc"]
        self.history.append(
            {"epoch": epoch + 1, **{k: None if v is None else float(v) for k, v in logs.items()}}
        )


class ProgressBar(keras.callbacks.Callback):
    def __init__(self, epochs: int, enabled: bool, callback=None):
        super().__init__()
        self.epochs, self.enabled, self.callback = epochs, enabled, callback

    def on_train_begin(self, logs=None):
        self.bar = tqdm(total=self.epochs, desc="training", unit="epoch", disable=not self.enabled)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.bar.set_postfix(
            val_loss=f"{logs.get('val_loss', 0):.4f}", val_f1=f"{logs.get('val_macro_f1') or 0:.3f}"
        )
        self.bar.update(1)
        if self.callback is not None:
            self.callback("training", epoch + 1, self.epochs)

    def on_train_end(self, logs=None):
        self.bar.close()
