#!/usr/bin/env bash
# Deletes the incremental build products of Phasor's own modules (not the
# dependencies'), for the stale-layout crashes of docs/pitfalls.md: after a
# struct changes shape across modules (a merge, a stash), SwiftPM may relink old
# objects and the program dies in swift_release. A full rebuild of ours takes ~2 min.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
ours=$(find Sources Tests Benchmarks -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | tr '-' '_')
for config in debug release; do
  dir=".build/$(uname -m)-unknown-linux-gnu/$config"
  [ -d "$dir" ] || continue
  for m in $ours PhasorPackageTests PhasorPackageDiscoveredTests; do rm -rf "$dir/$m.build"; done
  rm -rf "$dir"/phasor_bench_*.build
done
echo "removed the incremental products of: $(echo $ours | tr '\n' ' ')"
