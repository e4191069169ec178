FROM python:3.11-slim-bookworm

# PYTHONPATH puts the source tree ahead of the installed copy: templates, static files and manage.py
# live next to the packages in /app, and settings derive BASE_DIR from the imported package's location.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=commerce_hub.settings \
    COMMERCE_HUB_DATA_DIR=/data \
    MEDIA_ROOT=/data/media

# WeasyPrint renders PDFs through Pango/HarfBuzz and needs at least one font installed.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz0b \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes do not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .

# Settings refuse to import without these; collectstatic never connects to either service, and the
# values are scoped to this RUN so none of them end up in the image environment.
RUN pip install . \
    && rm -rf build *.egg-info \
    && chmod 0755 deploy/entrypoint.sh \
    && DATABASE_URL=postgresql://collectstatic@localhost/collectstatic \
       REDIS_URL=redis://localhost:6379/0 \
       SECRET_KEY=collectstatic-only \
       python manage.py collectstatic --noinput \
    && install -d -o app -g app /data/media \
    && chown app:app /data

USER app

EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/app/deploy/entrypoint.sh", "healthcheck"]

ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["web"]
