#!/usr/bin/env bash
# Builds the repository's own Dockerfile on a machine that cannot pull images (CI here, or any offline box), and
# starts a Docker engine first when none answers.
#
#   docker/build-local.sh                 # -> image fanfare-emulator:0.1.0 (+ :local), from ./Dockerfile
#
# The Dockerfile's two base images are build arguments (SDK_IMAGE, RUNTIME_IMAGE; defaults: the official
# mcr.microsoft.com/dotnet/sdk:10.0 and runtime-deps:10.0). This script builds local stand-ins for them and passes those:
#   fanfare-local/debian:bookworm      debootstrap --variant=minbase of Debian bookworm + libssl3, libicu72, tzdata,
#                                      ca-certificates (what the official runtime-deps image adds)
#   fanfare-local/dotnet-sdk:10.0      that + this machine's .NET SDK (dotnet --info) + this machine's CA bundle
#   fanfare-local/dotnet-runtime-deps:10.0
#                                      the Debian one + the `app` user (UID 1654), APP_UID, ASPNETCORE_HTTP_PORTS=8080 —
#                                      what the official runtime-deps image provides (the emulator is a NativeAOT
#                                      executable: no .NET runtime in the image)
# The Dockerfile's build stage installs clang and zlib1g-dev with apt-get (NativeAOT links with them): the build runs
# with --network host and reaches the Debian archive the stand-in's sources.list names (the mirror debootstrap used).
# Each stand-in is one `docker import`ed layer (the vfs storage driver copies every layer in full: few layers).
# Idempotent: the debootstrapped root filesystem is cached as a tarball in $FANFARE_DOCKER_CACHE
# (default /var/cache/fanfare-docker); a stand-in is rebuilt only when missing or made from another .NET version.
#
# Engine: when `docker info` fails and we are root, installs docker.io/debootstrap from Debian if missing and starts
#   dockerd --storage-driver=vfs --iptables=false   (log: $FANFARE_DOCKERD_LOG, default /var/log/fanfare-dockerd.log)
# Environment: FANFARE_IMAGE (default fanfare-emulator), DEBIAN_MIRROR (default: this machine's apt source for bookworm).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cache=${FANFARE_DOCKER_CACHE:-/var/cache/fanfare-docker}
dockerd_log=${FANFARE_DOCKERD_LOG:-/var/log/fanfare-dockerd.log}
image=${FANFARE_IMAGE:-fanfare-emulator}
suite=bookworm
base_image=fanfare-local/debian:$suite
sdk_image=fanfare-local/dotnet-sdk:10.0
runtime_image=fanfare-local/dotnet-runtime-deps:10.0

say() { echo "build-local [${SECONDS}s]: $*"; }
die() { echo "build-local: $*" >&2; exit 1; }
root() { [[ $(id -u) -eq 0 ]]; }

# ---- 1. packages and engine -------------------------------------------------------------------------------------
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if ((${#need[@]} > 0)); then
  root || die "missing ${need[*]}: run as root or apt-get install -y ${need[*]}"
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  root || die "no Docker engine answers and we are not root to start one"
  say "starting dockerd (log: $dockerd_log)"
  mkdir -p "$(dirname "$dockerd_log")"
  # setsid + nohup: the engine outlives this script (the tests use it afterwards).
  setsid nohup dockerd --storage-driver=vfs --iptables=false >>"$dockerd_log" 2>&1 </dev/null &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { tail -n 30 "$dockerd_log" >&2; die "dockerd did not answer within 30 s"; }
fi
say "engine: $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})') storage $(docker info --format '{{.Driver}}')"

# ---- 2. the Debian root filesystem (cached tarball) ------------------------------------------------------------
mkdir -p "$cache"
# What the official runtime-deps image adds to Debian for .NET: libssl3 (else "No usable version of libssl"), libicu72
# (the SDK is not built invariant: "Couldn't find a valid ICU package"), tzdata, ca-certificates.
include=libssl3,libicu72,tzdata,ca-certificates
rootfs_tar=$cache/debian-$suite-minbase-$(echo "$include" | md5sum | cut -c1-8).tar
if [[ ! -s $rootfs_tar ]]; then
  root || die "debootstrap needs root"
  mirror=${DEBIAN_MIRROR:-}
  if [[ -z $mirror ]]; then
    # The mirror this machine's apt uses for the suite (deb822 .sources or one-line .list), else Debian's CDN.
    mirror=$(awk -v s="$suite" '
      /^URIs:/ { uri = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == s) found = uri }
      /^deb[[:space:]]/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { u = $i; if ($(i+1) == s) found = u; break } }
      END { if (found) print found }' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | head -n1 || true)
    mirror=${mirror:-http://deb.debian.org/debian}
  fi
  say "debootstrap $suite from $mirror (once; cached in $rootfs_tar)"
  work=$(mktemp -d "$cache/rootfs.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  if ! debootstrap --variant=minbase --include="$include" "$suite" "$work/root" "$mirror" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log" >&2; die "debootstrap failed"
  fi
  # Slim it like the official -slim images: no apt lists/caches, docs or man pages.
  rm -rf "$work/root"/var/cache/apt/archives/*.deb "$work/root"/var/lib/apt/lists/* "$work/root"/usr/share/{doc,man,info}/*
  tar --numeric-owner -C "$work/root" -cf "$rootfs_tar.tmp" .
  mv "$rootfs_tar.tmp" "$rootfs_tar"
  rm -rf "$work"; trap - EXIT
fi

# ---- 3. the stand-in images -----------------------------------------------------------------------------------
dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
sdk_version=$(dotnet --version)
runtime_version=$(dotnet --list-runtimes | awk '$1 == "Microsoft.NETCore.App" { v = $2 } END { print v }')
aspnet_version=$(dotnet --list-runtimes | awk '$1 == "Microsoft.AspNetCore.App" { v = $2 } END { print v }')
[[ -n $sdk_version && -n $runtime_version && -n $aspnet_version ]] || die "no .NET SDK + ASP.NET Core runtime found (dotnet --info)"
stamp="sdk $sdk_version runtime $runtime_version aspnet $aspnet_version rootfs $(stat -c %Y "$rootfs_tar")"

label() { docker image inspect --format '{{ index .Config.Labels "fanfare.standin" }}' "$1" 2>/dev/null || true; }

# Extracts the cached root filesystem into a fresh staging folder ($stage/root).
stage_rootfs() {
  stage=$(mktemp -d "$cache/stage.XXXXXX")
  trap 'rm -rf "$stage"' EXIT
  mkdir "$stage/root"
  tar --numeric-owner -C "$stage/root" -xf "$rootfs_tar"
}
import_stage() { # image, then --change instructions
  local name=$1; shift
  local changes=() c
  for c in "$@"; do changes+=(--change "$c"); done
  tar --numeric-owner -C "$stage/root" -c . | docker import "${changes[@]}" --change "LABEL fanfare.standin=\"$stamp\"" - "$name" >/dev/null
  rm -rf "$stage"; trap - EXIT
}

if [[ $(label "$base_image") != "$stamp" ]]; then
  say "importing $base_image"
  stage_rootfs
  import_stage "$base_image" 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["bash"]'
fi

if [[ $(label "$sdk_image") != "$stamp" ]]; then
  say "importing $sdk_image (.NET SDK $sdk_version from $dotnet_root)"
  stage_rootfs
  mkdir -p "$stage/root/usr/share/dotnet"
  cp -a "$dotnet_root"/. "$stage/root/usr/share/dotnet/"
  ln -sf /usr/share/dotnet/dotnet "$stage/root/usr/bin/dotnet"
  # This machine's CA bundle: package registries may be reached through a TLS-inspecting proxy whose root is only
  # trusted here (without it `dotnet restore` fails with UntrustedRoot).
  cp /etc/ssl/certs/ca-certificates.crt "$stage/root/etc/ssl/certs/ca-certificates.crt"
  import_stage "$sdk_image" \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    "ENV DOTNET_SDK_VERSION=$sdk_version DOTNET_VERSION=$runtime_version ASPNET_VERSION=$aspnet_version" \
    'ENV DOTNET_RUNNING_IN_CONTAINER=true DOTNET_GENERATE_ASPNET_CERTIFICATE=false DOTNET_NOLOGO=true DOTNET_CLI_TELEMETRY_OPTOUT=1 NUGET_XMLDOC_MODE=skip' \
    "ENV NUGET_CERT_REVOCATION_MODE=${NUGET_CERT_REVOCATION_MODE:-online} SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
    'CMD ["bash"]'
fi

if [[ $(label "$runtime_image") != "$stamp" ]]; then
  say "importing $runtime_image"
  stage_rootfs
  # The official image's non-root user: app, UID/GID 1654, home /home/app.
  echo 'app:x:1654:1654::/home/app:/bin/sh' >>"$stage/root/etc/passwd"
  echo 'app:x:1654:' >>"$stage/root/etc/group"
  echo 'app:!:19000::::::' >>"$stage/root/etc/shadow"
  install -d -m 0750 -o 1654 -g 1654 "$stage/root/home/app"
  import_stage "$runtime_image" \
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'ENV APP_UID=1654 ASPNETCORE_HTTP_PORTS=8080 DOTNET_RUNNING_IN_CONTAINER=true' \
    'CMD ["bash"]'
fi

# ---- 4. the repository's Dockerfile, as written, on the stand-ins -------------------------------------------------
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Emulator/Emulator.csproj | head -n1)
say "docker build -t $image:${version:-local} -t $image:local (SDK_IMAGE=$sdk_image RUNTIME_IMAGE=$runtime_image)"
started=$SECONDS
# --network host: the build stage's `dotnet restore` reaches the package registry the way this machine does.
# BuildKit when a client can drive the engine's builtin BuildKit without the buildx plugin (Debian's docker.io client,
# 20.10): it runs metadata steps without containers, about twice as fast as the legacy builder on vfs. Otherwise the
# legacy builder (every client still has it).
build=(env DOCKER_BUILDKIT=0 docker build)
if [[ -x /usr/bin/docker ]] && [[ $(/usr/bin/docker version --format '{{.Client.Version}}' 2>/dev/null) == 20.* ]]; then
  build=(env DOCKER_BUILDKIT=1 /usr/bin/docker build --progress plain)
fi
set +e
"${build[@]}" --network host \
  --build-arg SDK_IMAGE="$sdk_image" --build-arg RUNTIME_IMAGE="$runtime_image" \
  -t "$image:${version:-local}" -t "$image:local" -f Dockerfile . 2>&1 | sed -u 's/^/  | /'
rc=${PIPESTATUS[0]}
set -e
((rc == 0)) || die "docker build failed ($rc)"
say "built $image:${version:-local} in $((SECONDS - started)) s"
# Intermediate images of the legacy builder and replaced tags only take disk space under vfs.
docker image prune -f >/dev/null 2>&1 || true
