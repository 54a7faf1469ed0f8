# syntax=docker/dockerfile:1
#
# One image for the whole product: `backend` (API server, ETL and admin CLI),
# `migration` (schema CLI) and the dashboard that `backend serve` serves.
#   docker build -t revenue-analytics .      (docker-compose.yaml builds it too)
# Needs BuildKit (the default builder since Docker 23) for the cache mounts.

# ---- build: Debian bookworm, like the runtime, so the binaries fit its glibc ----
FROM rust:1-bookworm AS build

# scripts/build-frontend.sh builds the dashboard with Debian's rustc-web
# toolchain and -Z build-std when apt offers rust-web-src (docs/wasm-toolchain.md):
# no rustup target is downloaded. These are the packages it would install
# itself (in a layer of their own here, so a source change does not repeat
# them; lld-22 is the wasm linker Debian's rustc calls), plus npm, with which
# it fetches wasm-opt. The package lists stay: the script asks apt-cache.
# Not pinned: bookworm-security replaces rustc-web's version as it updates it.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends rustc-web cargo-web rust-web-src lld-22 npm

WORKDIR /src
# Trunk and wasm-bindgen-cli (a quarter of an hour of `cargo install`) are kept
# in a cache between builds; the script checks their versions and reinstalls
# them when Cargo.lock or the script asks for others.
ENV CARGO_INSTALL_ROOT=/opt/wasm-tools \
    PATH=/opt/wasm-tools/bin:$PATH

COPY Cargo.toml Cargo.lock Trunk.toml ./
COPY api-types api-types
COPY backend backend
COPY migration migration
COPY frontend frontend
# A workspace member (the cost-curve chart): cargo needs every member's manifest.
COPY bench/chart bench/chart
COPY scripts/build-frontend.sh scripts/build-frontend.sh

# The dashboard, into /src/frontend/dist (outside the cached target directory).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/opt/wasm-tools,sharing=locked \
    --mount=type=cache,target=/src/.tools,sharing=locked \
    --mount=type=cache,target=/src/target,sharing=locked \
    bash scripts/build-frontend.sh \
 && test -f frontend/dist/index.html

# The two binaries, copied out of the cached target directory (a cache mount
# is not part of the image).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target,sharing=locked \
    cargo build --release --locked -p backend -p migration \
 && mkdir -p /out \
 && cp target/release/backend target/release/migration /out/

# ---- runtime ----------------------------------------------------------------
FROM debian:bookworm-slim

# The one TLS client (sqlx, to PostgreSQL) is OpenSSL's, as libpq's: libssl3,
# and ca-certificates for sslmode=verify-ca/verify-full without sslrootcert.
# Not pinned: bookworm-security updates OpenSSL in place.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
            --shell /usr/sbin/nologin app \
 && mkdir -p /app/data \
 && chown app:app /app/data

COPY --from=build /out/backend /out/migration /usr/local/bin/
COPY --from=build /src/frontend/dist /app/frontend/dist

# Without DATABASE_URL or DATABASE_URL_FILE the data is the SQLite file
# data/revenue.db under the working directory: mount a volume on /app/data.
WORKDIR /app
# `serve` listens on BIND, and `healthcheck` asks the same address (a wildcard
# on loopback). Open mode is refused on this address: create a token first,
# or set ALLOW_ANONYMOUS=true where only trusted clients reach the port.
ENV BIND=0.0.0.0:8080 \
    STATIC_DIR=/app/frontend/dist

USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=10s --start-period=30s --retries=3 \
    CMD ["backend", "healthcheck"]
ENTRYPOINT ["backend"]
CMD ["serve"]
