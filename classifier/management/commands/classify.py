import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from classifier import selectors, services
from classifier.validation import InvalidImage, normalise_upload


class Command(BaseCommand):
    help = (
        "Classify image files with the active model(s), synchronously, storing nothing. "
        "Prints one result per file; with --json one JSON object per line."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("images", nargs="+", metavar="IMAGE")
        parser.add_argument("--text", default="", help="Caption text, as an uploader types it.")
        parser.add_argument(
            "--label-set", help="Only this label set (default: every one with an active model)."
        )
        parser.add_argument("--json", action="store_true", help="One JSON object per line.")

    def handle(self, *args, **options) -> None:
        versions = self._versions(options["label_set"])
        failures = 0
        for name in options["images"]:
            result = self._classify(Path(name), options["text"], versions)
            failures += "error" in result
            if options["json"]:
                self.stdout.write(json.dumps(result, ensure_ascii=False))
            else:
                self._write_human(result)
        if failures:
            raise CommandError(f"{failures} of {len(options['images'])} file(s) failed")

    def _versions(self, label_set: str | None):
        if label_set:
            found = selectors.label_set_get(name=label_set)
            version = found and selectors.model_version_active(label_set=found)
            if version is None:
                raise CommandError(f"label set {label_set!r} has no active model version")
            return [version]
        versions = selectors.model_versions_active()
        if not versions:
            raise CommandError("no label set has an active model version")
        return versions

    def _classify(self, path: Path, text: str, versions) -> dict:
        result: dict = {"file": str(path)}
        try:
            image = normalise_upload(path.read_bytes(), path.name)
            outcome = services.image_classify(
                image_bytes=image.data, caption=text, versions=versions
            )
        except OSError as exc:
            return {**result, "error": f"cannot read file: {exc.strerror or exc}"}
        except (InvalidImage, services.ClassificationError) as exc:
            return {**result, "error": str(exc)}
        result["ocr_text"] = outcome.ocr_text
        result["offensive_score"] = outcome.offensive_score
        result["nsfw_score"] = outcome.nsfw_score
        result["predictions"] = {}
        for item in outcome.results:
            c = item.classification
            result["predictions"][item.model_version.label_set.name] = {
                "label": c.label,
                "probabilities": c.probabilities,
                "model_version": item.model_version.version,
                "duration_ms": c.duration_ms,
            }
        return result

    def _write_human(self, result: dict) -> None:
        self.stdout.write(result["file"])
        if "error" in result:
            self.stdout.write(f"  error: {result['error']}")
            return
        self.stdout.write(f"  OCR text: {result['ocr_text']!r}")
        for label_set, p in result["predictions"].items():
            probs = ", ".join(f"{k} {v:.3f}" for k, v in p["probabilities"].items())
            self.stdout.write(f"  {label_set}: {p['label']} ({probs}) [{p['model_version']}]")
        self.stdout.write(
            f"  offensive language: {_score(result['offensive_score'])}, "
            f"NSFW: {_score(result['nsfw_score'])}"
        )


def _score(value: float | None) -> str:
    return "not computed" if value is None else f"{value:.3f}"
