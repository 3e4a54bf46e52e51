# The DLSC portal: one image for web (gunicorn), Celery worker and beat; docker-compose.yml picks the command.
FROM python:3.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=dlsc.settings

# gettext compiles the translations at build time; Pango and a font let WeasyPrint render invoice PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .
# Build-time settings only: translations and static files do not depend on the real key or services.
RUN DEBUG=0 SECRET_KEY=build-only-not-used-at-run-time-0123456789abcdefghijklmnopqrstuvwxyz \
        python manage.py compilemessages --ignore=.venv --verbosity 0 \
    && DEBUG=0 SECRET_KEY=build-only-not-used-at-run-time-0123456789abcdefghijklmnopqrstuvwxyz \
        python manage.py collectstatic --no-input --verbosity 0 \
    && useradd --create-home --uid 1000 dlsc \
    && mkdir -p /app/media \
    && chown -R dlsc /app/media

USER dlsc
EXPOSE 8000
# gunicorn reads its number of processes from WEB_CONCURRENCY.
ENV WEB_CONCURRENCY=3
CMD ["gunicorn", "dlsc.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
