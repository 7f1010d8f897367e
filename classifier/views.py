from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from classifier import selectors, services
from classifier.forms import MemeUploadForm
from classifier.models import Meme
from classifier.reposts import selectors as reposts


def upload_access(view):
    """Require a login unless ALLOW_ANONYMOUS_UPLOAD is on."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not (settings.ALLOW_ANONYMOUS_UPLOAD or request.user.is_authenticated):
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


@upload_access
def upload(request):
    wants_json = request.headers.get("Accept") == "application/json"
    if request.method == "POST" and _body_too_large(request):
        # Refused before Django reads the body into memory or a temporary file.
        limit = settings.MAX_UPLOAD_BYTES / (1024 * 1024)
        error = f"The upload is too large; the limit is {limit:.1f} MB."
        if wants_json:
            return JsonResponse({"error": error}, status=413)
        messages.error(request, error)
        context = {"form": MemeUploadForm(), "recent": selectors.memes_recent(limit=12)}
        return render(request, "classifier/upload.html", context, status=413)
    form = MemeUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and not form.is_valid() and wants_json:
        # The batch page's script sends one file per request and shows this beside it.
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        return JsonResponse({"error": " ".join(errors)}, status=400)
    if request.method == "POST" and wants_json and len(request.FILES.getlist("image")) > 1:
        return JsonResponse({"error": "Send one file per request."}, status=400)
    if request.method == "POST" and form.is_valid():
        caption = form.cleaned_data["caption"]
        results = form.cleaned_data["image"]
        stored = [
            (
                result,
                *services.meme_create(image=result.image, uploader=request.user, caption=caption),
            )
            for result in results
            if result.image is not None
        ]
        if wants_json:
            return JsonResponse(_upload_answer(stored[0]), status=201 if stored[0][2] else 200)
        if len(results) == 1:
            result, meme, created = stored[0]
            for note in result.image.notes:
                messages.info(request, note)
            if not created:
                messages.info(request, "This exact image was uploaded before: here is its meme.")
            return redirect("classifier:meme_detail", meme_id=meme.pk)
        _batch_messages(request, results, stored)
        return redirect("classifier:upload")
    context = {"form": form, "recent": selectors.memes_recent(limit=12)}
    return render(request, "classifier/upload.html", context)


def _upload_answer(stored) -> dict:
    result, meme, created = stored
    return {
        "id": meme.pk,
        "name": result.name,
        "created": created,
        "status": meme.status,
        "url": reverse("classifier:meme_detail", args=[meme.pk]),
        "notes": list(result.image.notes),
    }


def _batch_messages(request, results, stored) -> None:
    """One line per file of a batch sent without the page's script (no JavaScript)."""
    for result, meme, created in stored:
        seen = "stored" if created else "uploaded before"
        messages.info(request, f"{result.name}: {seen} as meme {meme.pk}.")
    for result in results:
        if result.error:
            messages.error(request, f"{result.name}: {result.error}")


@upload_access
def meme_detail(request, meme_id: int):
    try:
        meme = selectors.meme_get(meme_id=meme_id)
    except Meme.DoesNotExist:
        raise Http404("No such meme") from None
    context = {
        "meme": meme,
        "predictions": selectors.meme_latest_predictions(meme=meme),
        "reposts": reposts.meme_reposts(meme=meme, limit=8),
        "suggestions": reposts.meme_label_suggestions(meme=meme),
        "can_retry": meme.status == Meme.Status.FAILED and _may_retry(request.user, meme),
    }
    return render(request, "classifier/meme_detail.html", context)


@login_required
@require_POST
def meme_retry(request, meme_id: int):
    try:
        meme = selectors.meme_get(meme_id=meme_id)
    except Meme.DoesNotExist:
        raise Http404("No such meme") from None
    if not _may_retry(request.user, meme):
        raise PermissionDenied
    services.meme_request_classification(meme=meme)
    messages.info(request, "The meme was queued for classification again.")
    return redirect("classifier:meme_detail", meme_id=meme.pk)


def _body_too_large(request) -> bool:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    # Room for the caption and the multipart framing on top of the file itself.
    return length > settings.MAX_UPLOAD_BYTES + 64 * 1024


def _may_retry(user, meme: Meme) -> bool:
    return user.is_authenticated and (user.is_staff or meme.uploader_id == user.pk)


# The only types a stored meme is ever served as; anything else is refused.
SERVED_IMAGE_TYPES = {"image/jpeg", "image/png"}


def meme_file(request, path: str):
    """Serve a stored meme file (embedded mode, SERVE_MEDIA on).

    The content type is the one recorded for the meme when it was stored, never a guess
    from the file name, and only an image type: a file under MEDIA_ROOT that no meme owns
    is not served at all. SecurityMiddleware adds nosniff; the CSP keeps a browser that
    opens the file directly from running anything in it.
    """
    meme = selectors.meme_find_by_image(name=path)
    if meme is None or meme.content_type not in SERVED_IMAGE_TYPES:
        raise Http404("No such meme file")
    try:
        handle = meme.image.open("rb")
    except FileNotFoundError:
        raise Http404("No such meme file") from None
    response = FileResponse(handle, content_type=meme.content_type)
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response
