# One image for every process of the product: the API (default command), the Temporal worker
# (`python worker.py`) and the one-shot jobs (`python -m db.migrate`,
# `python -m deploy.temporal_setup`); docker-compose builds it once and overrides the command.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, from pyproject.toml alone, so that a change to the source reuses this
# layer instead of downloading and installing every dependency again. Runtime dependencies
# only: no dev tools and no embedded PostgreSQL (DATABASE_URL is required).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the source, installed without touching the dependencies.
COPY . .
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --no-create-home orderflow

USER orderflow
EXPOSE 8000

CMD ["uvicorn", "api.app:app", "--host", "0.0.0.0", "--port", "8000"]
