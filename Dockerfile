# The dashboard image: front-end packages in one stage, the app in the next; runs as a
# non-root user and serves with daphne (`manage.py serve`). The base images are build
# arguments so that a site without a registry can pass images it built itself
# (tests/test_packaging.py builds them from Debian packages that way).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# --- front-end assets: xterm.js and htmx from the lock file --------------------------
FROM ${NODE_IMAGE} AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

# --- the app ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH \
    DINDWEB_STATE_DIR=/var/lib/dindweb PORT=8000
WORKDIR /app
# Only the packages the app runs with: what follows "# tests" in requirements.txt is
# for the test suite.
COPY requirements.txt ./
RUN python3 -m venv /opt/venv \
 && sed '/^# tests/,$d' requirements.txt > /tmp/runtime.txt \
 && pip install --no-cache-dir -r /tmp/runtime.txt \
 && rm /tmp/runtime.txt
COPY --from=assets /build/node_modules ./node_modules
COPY manage.py ./
COPY dindweb ./dindweb
COPY environments ./environments
COPY templates ./templates
COPY static ./static
COPY images ./images
COPY scripts/healthcheck.py ./scripts/healthcheck.py
# Its own user; access to the Docker socket comes from the socket's group, given at run
# time (compose: group_add), never from running as root.
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/dindweb --create-home dindweb \
 && DINDWEB_STATE_DIR=/tmp/collect python3 manage.py check \
 && rm -rf /tmp/collect
USER dindweb
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python3", "/app/scripts/healthcheck.py"]
# Background workers run inside each web process unless DINDWEB_INPROCESS_WORKERS=0
# (then run `python3 manage.py run_workers` as a service of its own).
CMD ["sh", "-c", "exec python3 manage.py serve --host 0.0.0.0 --port \"$PORT\""]
