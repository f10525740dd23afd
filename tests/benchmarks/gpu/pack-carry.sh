#!/usr/bin/env bash
# After ../shared/gpu/prepare.sh: fits the publishes under the 64 MiB carry limit. Identical files of the publish
# folders become hard links (tar stores them once), the copies nothing on the GPU machine loads are dropped
# (librdkafka's alpine/centos8 builds: Ubuntu takes librdkafka.so; the test platform's code-coverage and
# instrumentation-engine files; BenchmarkDotNet's disassembler libcapstone and Windows msdia), and the folders are packed into DIR/apps.tar.xz, which run-on-device.sh unpacks.
#   tests/benchmarks/gpu/pack-carry.sh [DIR]      (DIR: prepare.sh's -o, default .gpu)
set -euo pipefail
dir=${1:-.gpu}
cd "$dir"
apps=(); for d in */; do d=${d%/}; [ "$d" = .dotnet ] || [ "$d" = apps ] || apps+=("$d"); done
[ ${#apps[@]} -gt 0 ] || { echo "pack-carry: no publish folder in $dir (run prepare.sh first)" >&2; exit 2; }
for d in "${apps[@]}"; do
  rm -f "$d/alpine-librdkafka.so" "$d/centos8-librdkafka.so" "$d/libcapstone.so"
  rm -rf "$d/CodeCoverage" "$d/InstrumentationEngine" "$d/macos" "$d/alpine" "$d/ubuntu" "$d/arm64" "$d/x86" "$d/x64" "$d/amd64"
done
first=${apps[0]}
for d in "${apps[@]:1}"; do
  (cd "$d" && find . -type f) | while read -r f; do
    if [ -f "$first/$f" ] && cmp -s "$first/$f" "$d/$f"; then ln -f "$first/$f" "$d/$f"; fi
  done
done
rm -f apps.tar.xz
XZ_OPT="-6 -T2" tar -cJf apps.tar.xz "${apps[@]}"
rm -rf "${apps[@]}"
echo "packed ${apps[*]} -> $dir/apps.tar.xz ($(du -h apps.tar.xz | cut -f1)); $dir is $(du -sh . | cut -f1) (limit 64 MiB)"
