# Fanfare Emulator image.
#   docker build -t fanfare-emulator .
#   docker run --rm -p 4800:4800 -p 4802:4802 -p 4803:4803 -p 4805:4805 -v fanfare-data:/data fanfare-emulator
#
# The two base images are build arguments so a machine that cannot pull them can pass local stand-ins
# (docker/build-local.sh does, for CI): everything below the FROM lines is built as written.
#
# The emulator is published with NativeAOT: one native executable, no .NET runtime in the image (start-up and memory,
# issue 15, bench/README.md "NativeAOT in the image"). The runtime image is runtime-deps (glibc, OpenSSL, CA certificates,
# the non-root app user), the same family the official .NET images build on.
#
# Emulator.Tests/Packaging/PublishedBinaryTests.cs reads this file: it runs the `RUN dotnet publish` line (with its own
# output folder), then starts the result with the final stage's ENV, ENTRYPOINT and HEALTHCHECK. bench/run.sh publishes
# with the same line, and .ci/run runs the test suite against the executable this image holds. Keep the publish
# arguments here and only here.
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0

FROM ${SDK_IMAGE} AS build
# NativeAOT links the executable with the platform's C toolchain: clang and zlib's headers (not in the SDK image).
RUN apt-get update \
 && apt-get install -y --no-install-recommends clang zlib1g-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Restore first, from the project file only, so the package layer is cached until the dependencies change.
COPY Emulator/Emulator.csproj Emulator/
RUN dotnet restore Emulator/Emulator.csproj -p:PublishAot=true
COPY . .
RUN dotnet publish Emulator/Emulator.csproj -c Release -o /app -p:PublishAot=true

FROM ${RUNTIME_IMAGE} AS runtime
WORKDIR /app
# /data holds emulator.db; owned by the image's non-root "app" user ($APP_UID, 1654) so a fresh named volume is writable.
RUN mkdir -p /data && chown "$APP_UID" /data
COPY --from=build /app .
# ASPNETCORE_HTTP_PORTS is emptied: the emulator binds its own four ports (Emulator__*Port), not the image's 8080.
ENV Emulator__BindAddress=0.0.0.0 \
    Emulator__DataDirectory=/data \
    ASPNETCORE_HTTP_PORTS=
VOLUME ["/data"]
# admin, consumer, beacon, checkout
EXPOSE 4800 4802 4803 4805
USER $APP_UID
# The app's own probe (GET /_emulator/health on the admin port, exit 0 when 200): the image has no curl.
HEALTHCHECK --interval=5s --timeout=5s --start-period=20s --retries=5 CMD ["/app/Fanfare.Emulator", "healthcheck"]
ENTRYPOINT ["/app/Fanfare.Emulator"]
