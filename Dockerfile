# kdsguard as a container: a static (musl) binary on a small Alpine base, which keeps a shell
# for CI systems that run their scripts inside the image (GitLab CI).
#
#   docker build -t kdsguard .
#   docker run --rm --user "$(id -u):$(id -g)" -v "$PWD:/src" -w /src kdsguard check infra/
#
# The build stage's image pins the toolchain (rust-toolchain.toml is not copied: the image's
# own 1.95.0 is the one it names, without rustup fetching components a build does not need).

FROM rust:1.95.0-alpine AS build
SHELL ["/bin/ash", "-eo", "pipefail", "-c"]
# hadolint ignore=DL3018
RUN apk add --no-cache file
WORKDIR /build
# Dependencies first, so that a change to kdsguard's sources reuses their layer.
COPY Cargo.toml Cargo.lock ./
COPY benches benches
RUN mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src
COPY src src
COPY rules rules
# A musl target links statically; the check below fails the build if it did not.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked \
    && file target/release/kdsguard | grep -Eq 'static(-pie)? linked' \
    && target/release/kdsguard --version

FROM alpine:3.22
COPY --from=build /build/target/release/kdsguard /usr/local/bin/kdsguard
WORKDIR /src
ENTRYPOINT ["kdsguard"]
CMD ["--help"]
