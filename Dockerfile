# Drydock's container image: the release server and the hydrated site, built in a Rust image,
# run from a minimal Debian with CA certificates as an unprivileged user. Configuration comes
# from the environment (DRYDOCK_*; docs/CONFIGURATION.md); deploy/kubernetes/ runs it.
#
#   docker build -t drydock .
#   docker run -p 3000:3000 -e DRYDOCK_DATABASE_URL=postgres://... -e DRYDOCK_LEDGER_KEY=/keys/ledger.pem drydock
#
# hadolint runs over this file in the tests (.hadolint.yaml says what it leaves out and why).

FROM rust:1.95-bookworm AS build
# The tools the site's build needs offline, at the versions .ci/setup.sh pins.
RUN rustup target add wasm32-unknown-unknown \
 && cargo install cargo-leptos --locked --version 0.3.10 \
 && cargo install wasm-bindgen-cli --locked --version 0.2.130
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# binaryen's wasm-opt from npm (Debian's breaks hydration: BUILD-FACTS).
WORKDIR /src/end2end
RUN PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
WORKDIR /src
ENV PATH="/src/end2end/node_modules/.bin:${PATH}"
RUN cargo leptos build --release

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 drydock \
 && useradd --system --uid 10001 --gid drydock --home-dir /var/lib/drydock --create-home --shell /usr/sbin/nologin drydock
COPY --from=build /src/target/release/drydock /usr/local/bin/drydock
COPY --from=build /src/target/site /opt/drydock/site
# A SQLite database (the default) lives in the working directory, a volume; PostgreSQL is named
# by DRYDOCK_DATABASE_URL.
WORKDIR /var/lib/drydock
VOLUME ["/var/lib/drydock"]
ENV DRYDOCK_SITE_ROOT=/opt/drydock/site \
    DRYDOCK_ADDR=0.0.0.0:3000
USER 10001:10001
EXPOSE 3000
ENTRYPOINT ["/usr/local/bin/drydock", "serve"]
