from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from classifier import selectors, services
from classifier.api.throttling import throttle_wait
from classifier.extensions import meme_extensions
from classifier.forms import MemeUploadForm
from classifier.models import Meme, user_sees_all_memes
from classifier.reposts import selectors as reposts

# The memes an anonymous visitor uploaded (ALLOW_ANONYMOUS_UPLOAD): the only ones they see.
SESSION_MEMES = "memesense_uploaded_memes"
# Enough for a visitor's session; older ids drop off first.
SESSION_MEMES_MAX = 100


def _session_memes(request) -> list[int]:
    if request.user.is_authenticated:
        return []
    return request.session.get(SESSION_MEMES, [])


def _remember_upload(request, meme: Meme) -> None:
    if request.user.is_authenticated:
        return
    ids = [i for i in _session_memes(request) if i != meme.pk] + [meme.pk]
    request.session[SESSION_MEMES] = ids[-SESSION_MEMES_MAX:]


def _visible_meme_or_404(request, meme_id: int) -> Meme:
    """The meme if the user may see it; not theirs answers 404, exactly like not found."""
    try:
        return selectors.meme_get_visible(
            meme_id=meme_id, user=request.user, session_meme_ids=_session_memes(request)
        )
    except Meme.DoesNotExist:
        raise Http404("No such meme") from None


def _recent(request):
    return selectors.memes_recent(
        user=request.user, session_meme_ids=_session_memes(request), limit=12
    )


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
    # The batch page's script sends one file per request and asks for JSON.
    wants_json = request.headers.get("Accept") == "application/json"
    wait = throttle_wait(request, scope="uploads") if request.method == "POST" else None
    if wait is not None:
        error = f"Too many uploads in a short time; please try again in {wait} seconds."
        response = _upload_refusal(request, error, 429, wants_json)
        response["Retry-After"] = str(wait)
        return response
    if request.method == "POST" and _body_too_large(request):
        # Refused before Django reads the body into memory or a temporary file.
        limit = settings.MAX_UPLOAD_BYTES / (1024 * 1024)
        error = f"The upload is too large; the limit is {limit:.1f} MB."
        return _upload_refusal(request, error, 413, wants_json)
    form = MemeUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and not form.is_valid() and wants_json:
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        return JsonResponse({"error": " ".join(errors)}, status=400)
    if request.method == "POST" and wants_json and len(request.FILES.getlist("image")) > 1:
        return JsonResponse({"error": "Send one file per request."}, status=400)
    if request.method == "POST" and form.is_valid():
        caption = form.cleaned_data["caption"]
        results = form.cleaned_data["image"]
        stored = []
        for result in results:
            if result.image is None:
                continue
            meme, created = services.meme_create(
                image=result.image, uploader=request.user, caption=caption
            )
            if created:
                _remember_upload(request, meme)
            stored.append((result, meme, created, created or _can_see(request, meme)))
        if wants_json:
            return _upload_answer(stored[0])
        if len(results) == 1:
            result, meme, created, visible = stored[0]
            for note in result.image.notes:
                messages.info(request, note)
            if not visible:
                messages.info(request, SOMEONE_ELSES)
                return redirect("classifier:upload")
            if not created:
                messages.info(request, "This exact image was uploaded before: here is its meme.")
            return redirect("classifier:meme_detail", meme_id=meme.pk)
        _batch_messages(request, results, stored)
        return redirect("classifier:upload")
    context = {"form": form, "recent": _recent(request)}
    return render(request, "classifier/upload.html", context)


# Someone else's meme: saying so reveals nothing the uploader does not have (the exact
# bytes), but its page, id, caption and uploader stay theirs.
SOMEONE_ELSES = (
    "This exact image is already in Memesense, uploaded by someone else; "
    "moderators review it there."
)


def _upload_refusal(request, error: str, status: int, wants_json: bool):
    if wants_json:
        return JsonResponse({"error": error}, status=status)
    messages.error(request, error)
    context = {"form": MemeUploadForm(), "recent": _recent(request)}
    return render(request, "classifier/upload.html", context, status=status)


def _upload_answer(stored) -> JsonResponse:
    result, meme, created, visible = stored
    if not visible:
        return JsonResponse({"name": result.name, "error": SOMEONE_ELSES}, status=409)
    answer = {
        "id": meme.pk,
        "name": result.name,
        "created": created,
        "status": meme.status,
        "url": reverse("classifier:meme_detail", args=[meme.pk]),
        "notes": list(result.image.notes),
    }
    return JsonResponse(answer, status=201 if created else 200)


def _batch_messages(request, results, stored) -> None:
    """One line per file of a batch sent without the page's script (no JavaScript)."""
    for result, meme, created, visible in stored:
        if not visible:
            messages.info(request, f"{result.name}: {SOMEONE_ELSES}")
            continue
        seen = "stored" if created else "uploaded before"
        messages.info(request, f"{result.name}: {seen} as meme {meme.pk}.")
    for result in results:
        if result.error:
            messages.error(request, f"{result.name}: {result.error}")


def _can_see(request, meme: Meme) -> bool:
    visible = Meme.objects.visible_to(request.user, session_meme_ids=_session_memes(request))
    return visible.filter(pk=meme.pk).exists()


def _detail_context(request, meme: Meme) -> dict:
    context = {
        "meme": meme,
        "predictions": selectors.meme_latest_predictions(meme=meme),
        "reposts": reposts.meme_reposts(
            meme=meme, limit=8, user=request.user, session_meme_ids=_session_memes(request)
        ),
        "suggestions": [],
        "can_retry": meme.status == Meme.Status.FAILED and _may_retry(request.user, meme),
    }
    # Moderation adds its part (repost label suggestions) through classifier/extensions.py.
    for extension in meme_extensions():
        context.update(extension.page_context(user=request.user, meme=meme))
    return context


@upload_access
def meme_detail(request, meme_id: int):
    meme = _visible_meme_or_404(request, meme_id)
    return render(request, "classifier/meme_detail.html", _detail_context(request, meme))


@login_required
@require_POST
def meme_retry(request, meme_id: int):
    meme = _visible_meme_or_404(request, meme_id)
    try:
        services.meme_retry(meme=meme, user=request.user)
    except services.RetryRefused as refused:
        messages.error(request, str(refused))
        context = _detail_context(request, meme)
        return render(request, "classifier/meme_detail.html", context, status=409)
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
    return user.is_authenticated and (user_sees_all_memes(user) or meme.uploader_id == user.pk)


# The only types a stored meme is ever served as; anything else is refused.
SERVED_IMAGE_TYPES = {"image/jpeg", "image/png"}


def meme_file(request, path: str):
    """Serve a stored meme file (embedded mode, SERVE_MEDIA on).

    The content type is the one recorded for the meme when it was stored, never a guess
    from the file name, and only an image type: a file under MEDIA_ROOT that no meme owns
    is not served at all, nor is a meme the user may not see (404, as for no file).
    SecurityMiddleware adds nosniff; the CSP keeps a browser that
    opens the file directly from running anything in it.
    """
    meme = selectors.meme_find_by_image(
        name=path, user=request.user, session_meme_ids=_session_memes(request)
    )
    if meme is None or meme.content_type not in SERVED_IMAGE_TYPES:
        raise Http404("No such meme file")
    try:
        handle = meme.image.open("rb")
    except FileNotFoundError:
        raise Http404("No such meme file") from None
    response = FileResponse(handle, content_type=meme.content_type)
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    # private: the answer depends on who asks, so no shared cache may keep it.
    response["Cache-Control"] = "private, max-age=31536000, immutable"
    response["Vary"] = "Cookie"
    return response
