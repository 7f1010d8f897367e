"""Versioned model folders, written atomically and verified on load.

A version is a folder holding `manifest.json` (label set, classes, encoders,
priors, parent, data fingerprint, created time and the SHA-256 of every other
file), the ONNX head that serves, the Keras head it was exported from, and
its evaluation report. It is written into a hidden temporary folder and
renamed into place, so a crash never leaves a half-written version under its
real name; a folder whose files do not match its manifest is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import numpy as np

from .encoders import EncoderConfig
from .lexical import LexicalVectorizer
from .model import FusionModel, ModelError

MANIFEST = "manifest.json"
HEAD = "head.onnx"
LEXICAL = "lexical.json"
FORMAT = 1


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def new_version_name(label_set: str) -> str:
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    return f"{label_set}-{stamp}-{uuid.uuid4().hex[:6]}"


def save_model(
    model: FusionModel,
    root: str | Path,
    version: str | None = None,
    *,
    keras_head=None,
    report: dict | None = None,
    extra_files: dict[str, bytes] | None = None,
    info: dict | None = None,
    folder: str | None = None,
) -> Path:
    """Write `model` as a new version folder under `root` and return its path.

    `report` (metrics JSON) and `extra_files` (e.g. plots) go into the folder;
    `info` (parent, data fingerprint, training counts, trigger) into the manifest.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    version = version or new_version_name(model.label_set)
    final = root / (folder or version)
    if final.exists():
        raise ModelError(f"{final} already exists")
    tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", dir=root))
    try:
        (tmp / HEAD).write_bytes(model.head_onnx)
        if model.lexical is not None:
            (tmp / LEXICAL).write_text(json.dumps(model.lexical.to_dict(), sort_keys=True))
        if keras_head is not None:
            keras_head.save(tmp / "head.keras")
        if report is not None:
            (tmp / "metrics.json").write_text(json.dumps(report, indent=2, sort_keys=True))
        for name, data in (extra_files or {}).items():
            target = tmp / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        files = {str(p.relative_to(tmp)): _sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        manifest = {
            "format": FORMAT,
            "version": version,
            "label_set": model.label_set,
            "classes": list(model.classes),
            "encoders": model.encoders.to_dict(),
            "log_prior_shift": [float(x) for x in model.log_prior_shift],
            "temperature": float(model.temperature),
            "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            **(info or {}),
            "files": files,
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
        tmp.chmod(0o755)  # mkdtemp makes it private; other processes serve from it
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    model.version, model.manifest, model.path = version, manifest, final
    return final


def read_manifest(path: str | Path, verify: bool = True) -> dict:
    """Return a version's manifest; raise ModelError if the folder is not intact."""
    path = Path(path)
    if not path.is_dir():
        raise ModelError(f"model folder not found: {path}")
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except FileNotFoundError:
        raise ModelError(f"{path}: no {MANIFEST} (partial or not a model folder)") from None
    except (OSError, ValueError) as exc:
        raise ModelError(f"{path}: unreadable {MANIFEST} ({exc})") from exc
    if manifest.get("format") != FORMAT:
        raise ModelError(f"{path}: unknown model format {manifest.get('format')!r}")
    for key in ("version", "label_set", "classes", "encoders", "files"):
        if key not in manifest:
            raise ModelError(f"{path}: manifest lacks {key!r}")
    if HEAD not in manifest["files"]:
        raise ModelError(f"{path}: manifest lists no {HEAD}")
    if verify:
        for name, expected in manifest["files"].items():
            file = path / name
            if not file.is_file():
                raise ModelError(f"{path}: missing {name}")
            if _sha256(file) != expected:
                raise ModelError(f"{path}: {name} does not match its checksum (corrupt)")
    return manifest


def load_model(path: str | Path) -> FusionModel:
    """Load and verify a model version folder."""
    path = Path(path)
    manifest = read_manifest(path)
    try:
        model = FusionModel(
            label_set=manifest["label_set"],
            classes=list(manifest["classes"]),
            encoders=EncoderConfig.from_dict(manifest["encoders"]),
            head_onnx=(path / HEAD).read_bytes(),
            log_prior_shift=np.asarray(
                manifest.get("log_prior_shift") or [0.0] * len(manifest["classes"]), np.float32
            ),
            temperature=float(manifest.get("temperature", 1.0)),
            version=manifest["version"],
            manifest=manifest,
            path=path,
            lexical=(
                LexicalVectorizer.from_dict(json.loads((path / LEXICAL).read_text()))
                if LEXICAL in manifest["files"]
                else None
            ),
        )
        model.session  # noqa: B018 - fail here, not at the first prediction
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(f"{path}: cannot load the head ({exc})") from exc
    return model


def list_versions(root: str | Path) -> list[dict]:
    """Manifests of the intact versions under root, oldest first (partial ones skipped)."""
    root = Path(root)
    out = []
    for child in sorted(root.iterdir()) if root.is_dir() else []:
        if child.name.startswith(".") or not child.is_dir():
            continue
        try:
            out.append({**read_manifest(child, verify=False), "path": str(child)})
        except ModelError:
            continue
    return sorted(out, key=lambda m: m.get("created_at", ""))
