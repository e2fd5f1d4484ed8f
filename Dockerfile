# One image for both processes of the product: the API (default command) and the Temporal
# worker (docker-compose overrides the command with `python worker.py`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Runtime dependencies only: no dev tools and no embedded PostgreSQL (DATABASE_URL is required).
COPY . .
RUN pip install . \
    && useradd --system --uid 10001 --no-create-home orderflow

USER orderflow
EXPOSE 8000

CMD ["uvicorn", "api.app:app", "--host", "0.0.0.0", "--port", "8000"]
