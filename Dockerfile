# syntax=docker/dockerfile:1
# Ava's image: the `ava` binary (release), every plugin for wasm32-wasip2, the SPA, and the
# production plugin file, on a slim Debian as a non-root user. The same image runs
# `ava serve`, `ava worker` and `ava migrate` (docker-compose.yml).
#
# cargo-chef builds the dependencies (wasmtime, sqlx, ...) in a layer of their own, keyed by
# the lockfile and manifests only: a change to Ava's code rebuilds Ava, not them.

ARG RUST_IMAGE=rust:1.95-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${RUST_IMAGE} AS chef
RUN cargo install cargo-chef --locked --version 0.1.73 \
    && rustup target add wasm32-wasip2
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# The dependencies of the host (native) and of the plugins (wasm32-wasip2, `plugin` profile).
RUN cargo chef cook --release -p ava-host --bin ava --recipe-path recipe.json \
    && cargo chef cook --profile plugin --target wasm32-wasip2 --recipe-path recipe.json \
       --workspace --exclude ava-host
COPY . .
RUN cargo build --release -p ava-host --bin ava \
    && CARGO_TARGET_DIR=target ./scripts/build-plugins.sh

FROM ${NODE_IMAGE} AS web
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin ava \
    && mkdir -p /data \
    && chown ava:ava /data
WORKDIR /app
COPY --from=builder /src/target/release/ava /app/ava
COPY --from=builder /src/dist/plugins/ /app/dist/plugins/
COPY --from=web /src/frontend/dist/ /app/frontend/dist/
COPY ava.production.toml /app/ava.production.toml
ENV APP_ENV=production \
    AVA_ADDR=0.0.0.0:8080 \
    AVA_DATA_DIR=/data \
    AVA_CONFIG=/app/ava.production.toml \
    AVA_WEB_DIR=/app/frontend/dist
# Photos, generated secrets and the compiled-plugin cache (data/plugin-cache): compiling the
# plugins takes seconds on a cold start; the volume keeps them across restarts.
VOLUME ["/data"]
USER ava
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD curl -fsS http://127.0.0.1:8080/health || exit 1
ENTRYPOINT ["/app/ava"]
CMD ["serve"]
