#!/usr/bin/env bash
# Publishes the emulator in Release (with the Dockerfile's own `dotnet publish` line) and benchmarks the published build.
#   bench/run.sh                                  # every scenario
#   bench/run.sh --scenario startup,reset         # some; see bench/README.md for all options
#   bench/run.sh --quick                          # the issue-15 table only, < 2 min
#   bench/run.sh --jit --quick                    # the same against a framework-dependent ReadyToRun build (JIT)
# The Dockerfile's line is a NativeAOT publish: it needs clang and zlib's headers (apt-get install clang zlib1g-dev).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

jit=false
args=()
for a in "$@"; do if [[ $a == --jit ]]; then jit=true; else args+=("$a"); fi; done
set -- "${args[@]+"${args[@]}"}"

out="$PWD/bench/results/publish"
rm -rf "$out"

# The publish arguments live in one place, the Dockerfile; only the output folder changes.
line=$(grep -m1 -E '^RUN dotnet publish ' Dockerfile) || { echo "bench: no 'RUN dotnet publish' line in Dockerfile" >&2; exit 1; }
read -ra publish <<<"${line#RUN }"
for i in "${!publish[@]}"; do
  if [[ ${publish[$i]} == -o || ${publish[$i]} == --output ]]; then publish[i+1]=$out; fi
done
if $jit; then
  # Not what the Dockerfile ships: the framework-dependent ReadyToRun build the image shipped before NativeAOT.
  publish=(dotnet publish Emulator/Emulator.csproj -c Release -o "$out" -p:UseAppHost=false -p:PublishReadyToRun=true)
fi
if [[ " ${publish[*]} " == *" -p:PublishAot=true "* ]]; then emulator="$out/Fanfare.Emulator"; else emulator="$out/Fanfare.Emulator.dll"; fi
echo "bench: ${publish[*]}"
# A NativeAOT publish prints its trim/AOT analysis warnings whatever the verbosity: they go to a log, shown on failure.
mkdir -p bench/results
if ! "${publish[@]}" -v quiet >bench/results/publish.log 2>&1; then
  cat bench/results/publish.log >&2
  echo "bench: the publish failed (bench/results/publish.log)" >&2
  exit 1
fi

# The bare-Kestrel reference of the kestrel scenario (ratios), published the same way.
dotnet publish bench/Reference/Fanfare.Bench.Reference.csproj -c Release -o bench/results/reference -p:UseAppHost=false -v quiet >/dev/null
command -v wrk >/dev/null || [[ -x /usr/bin/wrk ]] || echo "bench: wrk is not installed (apt-get install -y wrk); the kestrel scenario needs it" >&2

dotnet build bench/Fanfare.Emulator.Bench -c Release -v quiet -o bench/results/bench >/dev/null
exec dotnet bench/results/bench/Fanfare.Emulator.Bench.dll --emulator "$emulator" \
  --reference bench/results/reference/Fanfare.Bench.Reference.dll "$@"
