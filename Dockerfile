# Production image of the hub: the package without the `embedded` and `test` extras, so neither
# SecantusDB nor redis-server is inside. It needs HUB_MONGO_URL and HUB_REDIS_URL (see
# docker-compose.yml and docs/operations.md).

FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml ./
COPY hub/ hub/
COPY channels/ channels/
COPY bot/ bot/
COPY routing/ routing/
COPY voice/ voice/
COPY console/ console/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --user-group --home-dir /app --create-home --shell /usr/sbin/nologin hub
USER hub
WORKDIR /app
ENV HUB_HTTP__HOST=0.0.0.0 \
    HUB_HTTP__PORT=8080
EXPOSE 8080
# The console login page is static: this proves the HTTP server answers, not that MongoDB or
# Redis do (the hub refuses to start without them; see docs/operations.md, "Health checks").
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HUB_HTTP__PORT', '8080'), timeout=4)"]
STOPSIGNAL SIGTERM
CMD ["hub", "serve"]
