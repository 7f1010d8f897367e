"""Model selection: every candidate scored by grouped cross-validation, the best one served.

Candidates (hyper-parameters chosen inside each training fold, never on the fold scored):

- ``image_logreg``: L2 logistic regression on the standardised image features;
- ``text_logreg``: the same on the MiniLM text features;
- ``features_logreg``: the same on image and text features side by side;
- ``lexical_logreg``: word 1-2-gram and char 2-5-gram TF-IDF of the text -> logistic regression;
- ``keras_fusion``: the original design's Keras fusion head, sized for the data;
- ``stack``: logistic regression over the single candidates' out-of-fold log-probabilities.

Folds are StratifiedGroupKFold over duplicate groups (byte-identical images, identical
captions and repost clusters stay in one fold), as many as the smallest class allows, at
most ``n_splits``. A candidate is chosen by mean out-of-fold macro-F1 (rounded to three
decimals), then mean AUROC, then TIE_ORDER (the one easiest to follow). Every candidate is a
linear map or a small MLP on features, so the chosen one is written as one ONNX graph and
the worker needs neither scikit-learn nor TensorFlow (see ml.model.FusionModel).

Training only: imports scikit-learn (and TensorFlow for the Keras head).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from .encoders.onnx_graph import GraphBuilder, name_output, tensor_input
from .fusion import HeadConfig
from .lexical import LexicalVectorizer, fit_vectorizers, transform_sparse
from .metrics import auroc, macro_f1

SINGLE = ("image_logreg", "text_logreg", "features_logreg", "lexical_logreg", "keras_fusion")
ALL_CANDIDATES = (*SINGLE, "stack")
# Ties are broken towards the candidate a moderator can follow best: a lexical model's
# decisions are its words; a single modality before both; a stack last.
TIE_ORDER = (
    "lexical_logreg",
    "image_logreg",
    "text_logreg",
    "features_logreg",
    "keras_fusion",
    "stack",
)
# Bases of the stack: features_logreg is left out, it repeats image_logreg + text_logreg.
STACK_BASES = ("image_logreg", "text_logreg", "lexical_logreg", "keras_fusion")
DENSE_C = (1e-3, 3e-3, 1e-2, 3e-2, 0.1)
LEXICAL_C = (0.3, 1.0, 3.0, 10.0)
KERAS_MIN_EXAMPLES = 60  # below this a neural head cannot be trained and validated
# With 50 labels of religious_hateful (25 a class) the stack's meta-learner learnt to invert
# bases that scored below chance on 10-meme folds, and the inversion did not hold out
# (docs/benchmarks.md, learning curve): below this many labels of its smallest class the
# stack is not a candidate.
STACK_MIN_PER_CLASS = 50


@dataclass(frozen=True)
class SelectionConfig:
    candidates: tuple[str, ...] = ALL_CANDIDATES
    n_splits: int = 5
    seed: int = 42
    keras_epochs: int = 40
    keras_patience: int = 5


@dataclass
class Rows:
    """Training rows: features of each (meme, text) pair, with the meme's group and label.

    A meme can appear more than once (its OCR text, and its transcription as augmentation);
    ``served`` marks the row with the text the worker will see, the one that is scored.
    """

    img: np.ndarray
    txt: np.ndarray
    texts: list[str]
    y: np.ndarray
    groups: np.ndarray
    served: np.ndarray

    def take(self, idx) -> Rows:
        idx = np.asarray(idx, dtype=int)
        return Rows(
            self.img[idx],
            self.txt[idx],
            [self.texts[i] for i in idx],
            self.y[idx],
            self.groups[idx],
            self.served[idx],
        )

    def __len__(self) -> int:
        return len(self.y)


# --- fitted candidates: numpy logits for scoring, an ONNX subgraph for serving --------


def _logits_from_linear(z: np.ndarray, k: int) -> np.ndarray:
    # scikit-learn's binary decision function is one column: logits [0, z].
    return np.column_stack([np.zeros(len(z)), z]) if k == 2 and z.ndim == 1 else z


@dataclass
class _Linear:
    """coef (d, k) and intercept (k) over standardised blocks of features."""

    blocks: tuple[str, ...]  # "image", "text", "lexical"
    means: dict[str, np.ndarray]
    scales: dict[str, np.ndarray]
    coef: np.ndarray
    intercept: np.ndarray
    params: dict = field(default_factory=dict)
    vectorizers: object = None  # the LexicalFit of a lexical model (training only)

    def _design(self, rows: Rows):
        parts = []
        for block in self.blocks:
            if block == "lexical":
                parts.append(transform_sparse(self.vectorizers, rows.texts))
            else:
                x = rows.img if block == "image" else rows.txt
                parts.append((x - self.means[block]) / self.scales[block])
        if "lexical" in self.blocks:
            return parts[0]
        return np.hstack(parts)

    def logits(self, rows: Rows) -> np.ndarray:
        return np.asarray(self._design(rows) @ self.coef) + self.intercept

    def emit(self, g: GraphBuilder) -> str:
        parts = []
        for block in self.blocks:
            if block == "lexical":
                parts.append(g.op("Mul", ["lexical", "text_mask"]))
            else:
                # Standardise, then mask: 0 is the training mean, as in the Keras head.
                x = g.op("Sub", [block, g.const(self.means[block].astype(np.float32))])
                x = g.op("Div", [x, g.const(self.scales[block].astype(np.float32))])
                parts.append(g.op("Mul", [x, f"{block}_mask"]))
        x = parts[0] if len(parts) == 1 else g.op("Concat", parts, axis=1)
        return g.op(
            "Gemm",
            [x, g.const(self.coef.astype(np.float32)), g.const(self.intercept.astype(np.float32))],
        )

    @property
    def lexical(self) -> LexicalVectorizer | None:
        if "lexical" not in self.blocks:
            return None
        return LexicalVectorizer.from_sklearn(self.vectorizers)


@dataclass
class _Keras:
    head: object
    params: dict
    history: list

    def logits(self, rows: Rows) -> np.ndarray:
        probs = self.head.predict([rows.img, rows.txt], verbose=0, batch_size=512)
        return np.log(np.clip(probs, 1e-7, 1.0))

    def emit(self, g: GraphBuilder) -> str:
        from .fusion import emit_fusion_head

        return emit_fusion_head(g, self.head)

    lexical = None


@dataclass
class _Stack:
    bases: dict[str, object]
    meta: _Linear  # over the bases' log-probabilities, concatenated in `bases` order
    params: dict

    def logits(self, rows: Rows) -> np.ndarray:
        return _meta_features([b.logits(rows) for b in self.bases.values()]) @ self.meta.coef + (
            self.meta.intercept
        )

    def emit(self, g: GraphBuilder) -> str:
        parts = [g.op("LogSoftmax", [b.emit(g)], axis=1) for b in self.bases.values()]
        x = g.op("Concat", parts, axis=1)
        return g.op(
            "Gemm",
            [
                x,
                g.const(self.meta.coef.astype(np.float32)),
                g.const(self.meta.intercept.astype(np.float32)),
            ],
        )

    @property
    def lexical(self) -> LexicalVectorizer | None:
        for base in self.bases.values():
            if base.lexical is not None:
                return base.lexical
        return None


def _meta_features(logits: list[np.ndarray]) -> np.ndarray:
    out = []
    for z in logits:
        z = z - z.max(axis=1, keepdims=True)
        out.append(z - np.log(np.exp(z).sum(axis=1, keepdims=True)))
    return np.hstack(out)


# --- fitting -----------------------------------------------------------------------------


def _standardise(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # A floor on the scale keeps features that were constant in training (dead ReLU6
    # channels) from exploding when they are not at test time.
    return x.mean(axis=0), np.maximum(x.std(axis=0), 0.1)


def _inner_splits(y: np.ndarray, groups: np.ndarray, seed: int, max_splits: int = 3):
    n_splits = min(max_splits, _max_folds(y, groups))
    if n_splits < 2:
        return []
    from sklearn.model_selection import StratifiedGroupKFold

    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(splitter.split(np.zeros(len(y)), y, groups))


def _max_folds(y: np.ndarray, groups: np.ndarray) -> int:
    """How many grouped folds the smallest class can fill (each class in every fold)."""
    classes = np.unique(y)
    if len(classes) < 2:
        return 0
    return int(min(len(np.unique(groups[y == c])) for c in classes))


def _logreg(x, y, c: float, seed: int):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000, random_state=seed)
    return model.fit(x, y)


def _tuned_logreg(x, y, groups, scored, grid, seed, k):
    """The C of `grid` with the lowest inner-fold log-loss, refitted on all of x.

    Inner folds are split by group inside the data given (an outer training fold), and
    only the rows marked `scored` (the served text) are scored.
    """
    from sklearn.linear_model import LogisticRegression

    splits = _inner_splits(y, groups, seed)
    if splits:
        losses = np.zeros(len(grid))
        for tr, va in splits:
            va = va[scored[va]]
            # A warm-started path over C: each fit starts from the previous solution.
            model = LogisticRegression(
                class_weight="balanced", max_iter=3000, warm_start=True, random_state=seed
            )
            for i, c in enumerate(grid):
                model.set_params(C=c)
                model.fit(x[tr], y[tr])
                p = np.zeros((len(va), k))
                p[:, model.classes_] = model.predict_proba(x[va])
                losses[i] += -np.mean(np.log(np.clip(p[np.arange(len(va)), y[va]], 1e-7, 1)))
        best = grid[int(np.argmin(losses))]
    else:
        best = grid[len(grid) // 2]  # too few labels to tune: a middle value
    return _logreg(x, y, best, seed), best


def _coef(model, d: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's coefficients as (d, k) and (k), with classes it never saw at -inf-ish."""
    coef = np.zeros((d, k))
    intercept = np.full(k, -30.0)
    if k == 2 and model.coef_.shape[0] == 1:
        coef[:, 1] = model.coef_[0]
        intercept[:] = [0.0, model.intercept_[0]]
        return coef, intercept
    for row, c in enumerate(model.classes_):
        coef[:, c] = model.coef_[row]
        intercept[c] = model.intercept_[row]
    return coef, intercept


def fit_linear(name: str, rows: Rows, k: int, seed: int) -> _Linear:
    blocks = {
        "image_logreg": ("image",),
        "text_logreg": ("text",),
        "features_logreg": ("image", "text"),
        "lexical_logreg": ("lexical",),
    }[name]
    means, scales, vectorizers = {}, {}, None
    if blocks == ("lexical",):
        vectorizers = fit_vectorizers(rows.texts)
        x = transform_sparse(vectorizers, rows.texts)
        grid = LEXICAL_C
    else:
        for block in blocks:
            means[block], scales[block] = _standardise(rows.img if block == "image" else rows.txt)
        x = np.hstack(
            [((rows.img if b == "image" else rows.txt) - means[b]) / scales[b] for b in blocks]
        )
        grid = DENSE_C
    if x.shape[1] == 0:
        raise ValueError("no features to learn from")
    model, c = _tuned_logreg(x, rows.y, rows.groups, rows.served, grid, seed, k)
    coef, intercept = _coef(model, x.shape[1], k)
    return _Linear(blocks, means, scales, coef, intercept, {"C": c}, vectorizers)


def keras_size(n: int) -> HeadConfig:
    """The fusion head sized for n training examples: narrower and more regularised when few.

    The original 256/128 units with dropout 0.5 learnt nothing from 470 examples of 1,664
    dimensions (issue 11); a head with about as many first-layer units as n/10 and an L2
    penalty does.
    """
    units = int(np.clip(2 ** round(np.log2(max(n, 1) / 10)), 16, 256))
    return HeadConfig(
        branch_units=units,
        fused_units=max(8, units // 2),
        input_dropout=0.2 if n >= 2000 else 0.3,
        dropout=0.5,
        modality_dropout=0.15,
        l2=1e-3 if n < 2000 else 1e-4,
    )


def fit_keras(rows: Rows, k: int, config: SelectionConfig) -> _Keras:
    import keras
    import tensorflow as tf

    from .fusion import create_fusion_head
    from .keras_parts import ValidationMetrics
    from .training import group_split

    head_config = keras_size(int(rows.served.sum()))
    tr, va = group_split(rows.y, rows.groups, 0.2, config.seed)
    va = va[rows.served[va]]  # early stopping watches the served text only
    keras.utils.set_random_seed(config.seed)
    tf.config.experimental.enable_op_determinism()
    head = create_fusion_head(
        rows.img.shape[1],
        rows.txt.shape[1],
        k,
        head_config,
        _keras_stats(rows.img[tr]),
        _keras_stats(rows.txt[tr]),
    )
    head.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        # Sixteen batches per call into the graph: the head is small and Keras's per-step
        # overhead large; on religious_hateful a fit took 10-11 s of wall time instead of
        # 17-18 s at load 7, for the same CPU time.
        steps_per_execution=16,
    )
    counts = np.bincount(rows.y[tr], minlength=k).astype(float)
    weights = {c: float(len(tr) / (k * counts[c])) for c in range(k) if counts[c] > 0}
    history: list[dict] = []
    head.fit(
        [rows.img[tr], rows.txt[tr]],
        rows.y[tr],
        validation_data=([rows.img[va], rows.txt[va]], rows.y[va]),
        epochs=config.keras_epochs,
        batch_size=32,
        class_weight=weights,
        verbose=0,
        callbacks=[
            ValidationMetrics(rows.img[va], rows.txt[va], rows.y[va], list(range(k)), history),
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=config.keras_patience, restore_best_weights=True
            ),
        ],
    )
    params = {**head_config.to_dict(), "epochs_run": len(history)}
    return _Keras(head, params, history)


def _keras_stats(x):
    return x.mean(axis=0).astype(np.float32), np.maximum(x.var(axis=0), 1e-2).astype(np.float32)


def fit_candidate(name: str, rows: Rows, k: int, config: SelectionConfig):
    if name == "keras_fusion":
        return fit_keras(rows, k, config)
    from threadpoolctl import threadpool_limits

    # One BLAS thread: these problems are small (a few thousand rows), and on 2 cores
    # OpenBLAS's threads cost far more than they give. Measured on religious_hateful's
    # cached features (2,851 rows, loaded machine): fitting the four linear candidates
    # once took 45 CPU-s with its default threads and 5.5 CPU-s with one.
    with threadpool_limits(limits=1, user_api="blas"):
        return fit_linear(name, rows, k, config.seed)


def _fit_and_score(name: str, train: Rows, test: Rows | None, k: int, config: SelectionConfig):
    fitted = fit_candidate(name, train, k, config)
    return fitted, (None if test is None else fitted.logits(test))


def fit_in_two_lanes(jobs: list[tuple], k: int, config: SelectionConfig):
    """Fit `jobs` ((candidate, training rows, rows to score or None) each), in order.

    Yields (fitted candidate, its logits on the rows to score or None) per job.

    The Keras head trains in one thread while the linear candidates fit in the other: the
    machine has two cores and both libraries release the GIL in their numeric kernels. One
    lane each keeps TensorFlow's global state (seeds, determinism) on one thread. Results
    are yielded on the caller's thread, so progress callbacks (which may write to a
    database) never run on a worker thread.
    """
    if len({job[0] == "keras_fusion" for job in jobs}) < 2:  # one lane: nothing to overlap
        for name, train, test in jobs:
            yield _fit_and_score(name, train, test, k, config)
        return
    lanes = {
        True: ThreadPoolExecutor(max_workers=1, thread_name_prefix="fit-keras"),
        False: ThreadPoolExecutor(max_workers=1, thread_name_prefix="fit-linear"),
    }
    try:
        futures = [
            lanes[name == "keras_fusion"].submit(_fit_and_score, name, train, test, k, config)
            for name, train, test in jobs
        ]
        for future in futures:
            yield future.result()
    finally:
        for lane in lanes.values():
            lane.shutdown(cancel_futures=True)


def fit_meta(features: np.ndarray, y: np.ndarray, k: int, seed: int) -> _Linear:
    model = _logreg(features, y, 1.0, seed)
    coef, intercept = _coef(model, features.shape[1], k)
    return _Linear((), {}, {}, coef, intercept, {"C": 1.0})


# --- selection ---------------------------------------------------------------------------


@dataclass
class Selection:
    chosen: str
    fitted: object  # the chosen candidate refitted on all rows
    oof_logits: np.ndarray  # its out-of-fold logits on the served rows, in row order
    served_index: np.ndarray  # the rows those logits belong to
    report: dict
    oof_all: dict = field(default_factory=dict)  # every candidate's out-of-fold logits


def outer_folds(rows: Rows, config: SelectionConfig):
    """Grouped, stratified folds over the memes (their served rows decide the strata)."""
    from sklearn.model_selection import StratifiedGroupKFold

    served = np.flatnonzero(rows.served)
    n_splits = min(config.n_splits, _max_folds(rows.y[served], rows.groups[served]))
    if n_splits < 2:
        return []
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=config.seed)
    folds = []
    for _tr, te in splitter.split(np.zeros(len(served)), rows.y[served], rows.groups[served]):
        held_groups = set(rows.groups[served[te]])
        test_rows = served[te]
        train_rows = np.flatnonzero([g not in held_groups for g in rows.groups])
        folds.append((train_rows, test_rows))
    return folds


def _fold_scores(y, logits, k) -> dict:
    return {"macro_f1": macro_f1(y, logits.argmax(axis=1), k), "auroc": auroc(y, _softmax(logits))}


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _summarise(fold_scores: list[dict]) -> dict:
    out = {"folds": fold_scores}
    for key in ("macro_f1", "auroc"):
        values = np.array([f[key] for f in fold_scores if f[key] is not None], dtype=float)
        out[f"{key}_mean"] = float(values.mean()) if len(values) else None
        out[f"{key}_sd"] = float(values.std(ddof=1)) if len(values) > 1 else None
    return out


def _rank_key(name: str, summary: dict, order: tuple[str, ...]):
    f1 = summary.get("macro_f1_mean")
    au = summary.get("auroc_mean")
    return (
        -(round(f1, 3) if f1 is not None else -1.0),
        -(au if au is not None else -1.0),
        order.index(name),
    )


def select(rows: Rows, k: int, config: SelectionConfig = SelectionConfig(), progress=None):
    """Score every candidate by grouped CV, choose one, refit it on all rows.

    `progress(stage, done, total)` is called as candidates are scored.
    """
    progress = progress or (lambda *_: None)
    unknown = sorted(set(config.candidates) - set(ALL_CANDIDATES))
    if unknown or not config.candidates:
        raise ValueError(
            f"unknown model candidates {unknown or '(none given)'}; "
            f"choose from {', '.join(ALL_CANDIDATES)}"
        )
    n_served = int(rows.served.sum())
    names = [c for c in config.candidates if c in SINGLE]
    skipped = {}
    if "keras_fusion" in names and n_served < KERAS_MIN_EXAMPLES:
        names.remove("keras_fusion")
        skipped["keras_fusion"] = f"fewer than {KERAS_MIN_EXAMPLES} examples"
    if "lexical_logreg" in names and not _has_words(rows.texts):
        names.remove("lexical_logreg")
        skipped["lexical_logreg"] = "no word occurs in two texts"
    folds = outer_folds(rows, config)
    served_index = np.flatnonzero(rows.served)
    position = {r: i for i, r in enumerate(served_index)}
    report: dict = {
        "n_splits": len(folds),
        "grouped": True,
        "rule": "highest mean out-of-fold macro-F1 (3 decimals), then AUROC, then TIE_ORDER",
        "rows": {"served": n_served, "augmentation": int(len(rows) - n_served)},
        "skipped": skipped,
        "candidates": {},
    }
    if not folds:
        # Too few labels per class for two grouped folds: nothing can be compared honestly.
        name = "features_logreg"
        fitted = fit_linear(name, rows, k, config.seed)
        report["chosen"] = name
        report["why"] = (
            "too few labelled memes per class for cross-validation: "
            "the regularised linear model is used without selection"
        )
        return Selection(name, fitted, fitted.logits(rows.take(served_index)), served_index, report)

    oof = {name: np.zeros((n_served, k)) for name in names}
    scores: dict[str, list[dict]] = {name: [] for name in names}
    fold_of = np.zeros(n_served, dtype=int)
    params: dict[str, list] = {name: [] for name in names}
    jobs, tests = [], []
    for f, (train_rows, test_rows) in enumerate(folds):
        fold_of[[position[r] for r in test_rows]] = f
        train, test = rows.take(train_rows), rows.take(test_rows)
        jobs += [(name, train, test) for name in names]
        tests += [test_rows] * len(names)
    fits = zip(jobs, tests, fit_in_two_lanes(jobs, k, config), strict=True)
    for done, ((name, _train, test), test_rows, (fitted, z)) in enumerate(fits, start=1):
        oof[name][[position[r] for r in test_rows]] = z
        scores[name].append(_fold_scores(test.y, z, k))
        params[name].append(fitted.params)
        progress("cross-validation", done, len(jobs))
    for name in names:
        report["candidates"][name] = {**_summarise(scores[name]), "params_per_fold": params[name]}

    bases = [n for n in STACK_BASES if n in names]
    y_served = rows.y[served_index]
    smallest = int(np.bincount(y_served, minlength=k).min())
    if "stack" in config.candidates and smallest < STACK_MIN_PER_CLASS:
        report["skipped"]["stack"] = f"fewer than {STACK_MIN_PER_CLASS} labels of a class"
    elif "stack" in config.candidates and len(bases) >= 2:
        meta_x = _meta_features([oof[b] for b in bases])
        stack_oof = np.zeros((n_served, k))
        stack_scores = []
        for f in range(len(folds)):
            tr, te = fold_of != f, fold_of == f
            meta = fit_meta(meta_x[tr], y_served[tr], k, config.seed)
            stack_oof[te] = meta_x[te] @ meta.coef + meta.intercept
            stack_scores.append(_fold_scores(y_served[te], stack_oof[te], k))
        oof["stack"] = stack_oof
        report["candidates"]["stack"] = {
            **_summarise(stack_scores),
            "bases": bases,
            # The bases' out-of-fold scores were made without this fold's meme, but the meta
            # learner's folds reuse them: a slightly optimistic estimate, noted as such.
            "note": "meta-learner cross-validated on the bases' out-of-fold log-probabilities",
        }
    elif "stack" in config.candidates:
        report["skipped"]["stack"] = "fewer than two base candidates"

    order = TIE_ORDER
    ranked = sorted(
        report["candidates"], key=lambda n: _rank_key(n, report["candidates"][n], order)
    )
    chosen = ranked[0]
    report["ranking"] = ranked
    report["chosen"] = chosen
    report["why"] = _why(ranked, report["candidates"])
    progress("fitting the chosen model", 0, 1)
    if chosen == "stack":
        lanes = fit_in_two_lanes([(b, rows, None) for b in bases], k, config)
        fitted_bases = {b: fitted for b, (fitted, _) in zip(bases, lanes, strict=True)}
        fitted = fit_stack(fitted_bases, oof, y_served, k, config.seed)
    else:
        fitted = fit_candidate(chosen, rows, k, config)
    progress("fitting the chosen model", 1, 1)
    return Selection(chosen, fitted, oof[chosen], served_index, report, oof)


def fit_stack(fitted_bases: dict, oof: dict, y_served, k: int, seed: int) -> _Stack:
    """The stack over bases fitted on all rows, its meta-learner fitted on their OOF logits."""
    names = list(fitted_bases)
    meta = fit_meta(_meta_features([oof[b] for b in names]), y_served, k, seed)
    return _Stack(fitted_bases, meta, {"bases": names})


def _has_words(texts: list[str]) -> bool:
    return fit_vectorizers(texts, offensive=False).has_terms


def _why(ranked: list[str], candidates: dict) -> str:
    best = candidates[ranked[0]]
    text = (
        f"{ranked[0]} has the highest mean out-of-fold macro-F1 "
        f"({_fmt(best, 'macro_f1')}; AUROC {_fmt(best, 'auroc')})"
    )
    if len(ranked) > 1:
        runner = candidates[ranked[1]]
        text += f"; next {ranked[1]} ({_fmt(runner, 'macro_f1')}; AUROC {_fmt(runner, 'auroc')})"
    return text


def _fmt(summary: dict, key: str) -> str:
    mean, sd = summary.get(f"{key}_mean"), summary.get(f"{key}_sd")
    if mean is None:
        return "n/a"
    return f"{mean:.3f}" + (f" ± {sd:.3f}" if sd is not None else "")


def export_onnx(fitted, image_dim: int, text_dim: int, k: int) -> bytes:
    """The fitted candidate as one ONNX graph: inputs image, text, masks (and lexical)."""
    g = GraphBuilder("memesense_head")
    logits = fitted.emit(g)
    name_output(g, logits, "logits")
    inputs = [
        tensor_input("image", np.float32, ["N", image_dim]),
        tensor_input("image_mask", np.float32, ["N", 1]),
        tensor_input("text", np.float32, ["N", text_dim]),
        tensor_input("text_mask", np.float32, ["N", 1]),
    ]
    if fitted.lexical is not None:
        inputs.append(tensor_input("lexical", np.float32, ["N", fitted.lexical.dim]))
    graph = g.build(inputs, [tensor_input("logits", np.float32, ["N", k])])
    return graph.SerializeToString()
