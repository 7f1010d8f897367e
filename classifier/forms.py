from dataclasses import dataclass

from django import forms
from django.conf import settings

from classifier.validation import InvalidImage, NormalisedImage, normalise_upload

ACCEPT = "image/jpeg,image/png,image/webp,image/gif,image/bmp"


@dataclass(frozen=True)
class FileResult:
    """One file of an upload: the image to store, or why it was refused."""

    name: str
    image: NormalisedImage | None
    error: str = ""


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class ImageFilesField(forms.FileField):
    """One or more files; each is cleaned as a plain FileField would clean it."""

    widget = MultipleFileInput

    def clean(self, data, initial=None) -> list:
        files = data if isinstance(data, list | tuple) else [data]
        files = [f for f in files if f] or [None]
        return [super(ImageFilesField, self).clean(f, initial) for f in files]


def image_from_file(upload) -> FileResult:
    """Validate and normalise one uploaded file, as every upload is."""
    # Checked before reading, so a huge upload is never loaded into memory.
    if upload.size > settings.MAX_UPLOAD_BYTES:
        limit = settings.MAX_UPLOAD_BYTES / (1024 * 1024)
        return FileResult(
            upload.name,
            None,
            f"The file is {upload.size / (1024 * 1024):.1f} MB; the limit is {limit:.1f} MB.",
        )
    try:
        return FileResult(upload.name, normalise_upload(upload.read(), upload.name))
    except InvalidImage as exc:
        return FileResult(upload.name, None, str(exc))


class MemeUploadForm(forms.Form):
    # Empty files are let through to normalise_upload so every rejection reads the same way.
    image = ImageFilesField(
        label="Meme images",
        allow_empty_file=True,
        widget=MultipleFileInput(attrs={"accept": ACCEPT}),
        help_text="JPEG, PNG, WebP, GIF (first frame) or BMP. Pick or drop several at once: "
        "each is checked and stored on its own.",
    )
    caption = forms.CharField(
        label="Caption (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Text that goes with the meme, if any (with several files: every one); "
        "the text in the picture is read by OCR.",
    )

    def clean_image(self) -> list[FileResult]:
        results = [image_from_file(upload) for upload in self.cleaned_data["image"]]
        # A single file's refusal is the form's error, shown beside the field.
        if len(results) == 1 and results[0].error:
            raise forms.ValidationError(results[0].error)
        return results
