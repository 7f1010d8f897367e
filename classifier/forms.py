from django import forms
from django.conf import settings

from classifier.validation import InvalidImage, normalise_upload

ACCEPT = "image/jpeg,image/png,image/webp,image/gif,image/bmp"


class MemeUploadForm(forms.Form):
    # Empty files are let through to normalise_upload so every rejection reads the same way.
    image = forms.FileField(
        label="Meme image",
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
        help_text="JPEG, PNG, WebP, GIF (first frame) or BMP.",
    )
    caption = forms.CharField(
        label="Caption (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Text that goes with the meme, if any; the text in the picture is read by OCR.",
    )

    def clean_image(self):
        upload = self.cleaned_data["image"]
        # Checked before reading, so a huge upload is never loaded into memory.
        if upload.size > settings.MAX_UPLOAD_BYTES:
            limit = settings.MAX_UPLOAD_BYTES / (1024 * 1024)
            raise forms.ValidationError(
                f"The file is {upload.size / (1024 * 1024):.1f} MB; the limit is {limit:.1f} MB."
            )
        try:
            return normalise_upload(upload.read(), upload.name)
        except InvalidImage as exc:
            raise forms.ValidationError(str(exc)) from None
