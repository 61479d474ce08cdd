#!/usr/bin/env bash
# Builds dist/phasor_<version>_<arch>.deb: the four executables (static Swift
# runtime), the Modbus device profiles, schemas, systemd units, mosquitto config
# and ACL, and maintainer scripts that create the user and the MQTT passwords
# without overwriting an existing /etc/phasor/site.yaml (docs/deploy.md).
#
#   scripts/build-deb.sh                 # release build, then the package
#   PHASOR_BIN_DIR=.build/debug scripts/build-deb.sh   # package these binaries (tests)
#   scripts/build-deb.sh OUTDIR          # write the .deb there (default dist/)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/dist}"
version=$(sed -n 's/.*static let string = "\(.*\)".*/\1/p' "$root/Sources/PhasorCore/Version.swift")
arch=$(dpkg --print-architecture)
executables=(phasor phasor-gateway phasor-control phasor-bridge)

if [ -z "${PHASOR_BIN_DIR:-}" ]; then
  # The Swift runtime and Foundation linked in: the package runs without a toolchain.
  for exe in "${executables[@]}"; do
    (cd "$root" && swift build -c release --static-swift-stdlib --product "$exe" 2>&1 | grep -E "error:|complete" | tail -1 || true)
  done
  PHASOR_BIN_DIR="$(cd "$root" && swift build -c release --show-bin-path)"
fi

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg="$stage/phasor_${version}_${arch}"
install -d "$pkg/DEBIAN" "$pkg/usr/bin" "$pkg/usr/lib/phasor" "$pkg/lib/systemd/system" \
  "$pkg/etc/mosquitto/conf.d" "$pkg/usr/share/phasor/schemas" "$pkg/usr/share/doc/phasor"

# Executables live beside their resource bundle (Bundle.module looks next to the
# real executable); /usr/bin has links.
for exe in "${executables[@]}"; do
  install -m 0755 "$PHASOR_BIN_DIR/$exe" "$pkg/usr/lib/phasor/$exe"
  strip --strip-unneeded "$pkg/usr/lib/phasor/$exe"
  ln -s "../lib/phasor/$exe" "$pkg/usr/bin/$exe"
done
cp -r "$PHASOR_BIN_DIR/Phasor_Modbus.resources" "$pkg/usr/lib/phasor/"
find "$pkg/usr/lib/phasor/Phasor_Modbus.resources" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +

for unit in "$root"/deploy/systemd/phasor-*.service; do
  sed -e 's#/usr/local/bin/#/usr/bin/#g' -e 's#/usr/local/share/doc/phasor/#/usr/share/doc/phasor/#g' "$unit" \
    > "$pkg/lib/systemd/system/$(basename "$unit")"
  chmod 0644 "$pkg/lib/systemd/system/$(basename "$unit")"
done
install -m 0644 "$root/deploy/mosquitto/phasor.conf" "$pkg/etc/mosquitto/conf.d/phasor.conf"
install -m 0644 "$root/deploy/mosquitto/phasor.acl" "$pkg/etc/mosquitto/phasor.acl"
install -m 0644 "$root/deploy/site.example.yaml" "$pkg/usr/share/phasor/site.example.yaml"
install -m 0644 "$root"/schemas/*.json "$pkg/usr/share/phasor/schemas/"
install -m 0644 "$root/README.md" "$pkg/usr/share/doc/phasor/README.md"
install -m 0644 "$root/deploy/debian/copyright" "$pkg/usr/share/doc/phasor/copyright"
install -d "$pkg/usr/share/lintian/overrides"
install -m 0644 "$root/deploy/debian/lintian-overrides" "$pkg/usr/share/lintian/overrides/phasor"
printf 'phasor (%s) stable; urgency=medium\n\n  * Release %s.\n\n -- Phasor developers <phasor@localhost>  %s\n' \
  "$version" "$version" "$(date -R -u -d @"${SOURCE_DATE_EPOCH:-0}")" | gzip -9n > "$pkg/usr/share/doc/phasor/changelog.gz"
chmod 0644 "$pkg/usr/share/doc/phasor/changelog.gz"

for script in postinst prerm postrm; do install -m 0755 "$root/deploy/debian/$script" "$pkg/DEBIAN/$script"; done
printf '/etc/mosquitto/conf.d/phasor.conf\n/etc/mosquitto/phasor.acl\n' > "$pkg/DEBIAN/conffiles"
# The libraries the executables need, as Debian packages (the Swift runtime is static
# in a release build; a build linked against a toolchain needs that toolchain too).
depends="mosquitto, adduser"
exe="$pkg/usr/lib/phasor/phasor-gateway"
for name in $(objdump -p "$exe" | awk '/NEEDED/{print $2}'); do
  lib=$(ldd "$exe" | awk -v n="$name" '$1 == n && $3 ~ /^\// {print $3}')
  [ -n "$lib" ] || continue
  owner=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1 || true)
  [ -n "$owner" ] || owner=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -1 | cut -d: -f1 || true)
  [ -n "$owner" ] && case ", $depends, " in *", $owner, "*) ;; *) depends="$depends, $owner" ;; esac
done
size=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@DEPENDS@/$depends/" -e "s/@SIZE@/$size/" \
  "$root/deploy/debian/control.in" > "$pkg/DEBIAN/control"

mkdir -p "$out"
# gzip: xz takes minutes on two cores for a few seconds' gain in size.
dpkg-deb --root-owner-group -Zgzip --build "$pkg" "$out/phasor_${version}_${arch}.deb" >/dev/null
echo "$out/phasor_${version}_${arch}.deb"
