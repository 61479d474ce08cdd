#!/usr/bin/env bash
# Installs Phasor as three systemd services behind a local mosquitto with one
# MQTT user per service, a password file and the ACL in deploy/mosquitto/.
#
#   sudo deploy/install.sh                 # build (release), install, enable, start
#   DESTDIR=/tmp/stage deploy/install.sh   # stage the files only: no users, no systemctl
#
# Idempotent: existing credentials and /etc/phasor/site.yaml are kept.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${DESTDIR:-}"
staging=$([ -n "$dest" ] && echo 1 || echo 0)
services=(gateway control bridge)
operator_user=operator
# Reads only (dashboards): client ids are usernames (phasor.conf), so a dashboard
# on its own user is not replaced when someone sends a command as `operator`.
viewer_user=viewer

if [ "$staging" = 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "run as root (or set DESTDIR to stage the files)" >&2; exit 1
fi

source "$root/scripts/lib/deps.sh"
[ "$staging" = 0 ] && phasor_ensure_apt
if [ -z "${PHASOR_BIN_DIR:-}" ]; then
  (cd "$root" && swift build -c release 2>&1 | grep -E "error:|Compiling|Build complete" | tail -3)
  PHASOR_BIN_DIR="$(cd "$root" && swift build -c release --show-bin-path)"
fi

install -d "$dest/usr/local/bin" "$dest/etc/phasor/credentials" "$dest/etc/mosquitto/conf.d" \
  "$dest/etc/systemd/system" "$dest/usr/local/share/doc/phasor"
for exe in phasor phasor-gateway phasor-control phasor-bridge; do
  install -m 0755 "$PHASOR_BIN_DIR/$exe" "$dest/usr/local/bin/$exe"
done
# The Modbus profiles ship as a resource bundle next to the executables.
for bundle in "$PHASOR_BIN_DIR"/*.resources; do
  [ -d "$bundle" ] && cp -r "$bundle" "$dest/usr/local/bin/"
done
install -m 0644 "$root/deploy/mosquitto/phasor.conf" "$dest/etc/mosquitto/conf.d/phasor.conf"
install -m 0644 "$root/deploy/mosquitto/phasor.acl" "$dest/etc/mosquitto/phasor.acl"
for s in "${services[@]}"; do
  install -m 0644 "$root/deploy/systemd/phasor-$s.service" "$dest/etc/systemd/system/phasor-$s.service"
done
install -m 0644 "$root/README.md" "$dest/usr/local/share/doc/phasor/README.md"
[ -f "$dest/etc/phasor/site.yaml" ] || install -m 0640 "$root/deploy/site.example.yaml" "$dest/etc/phasor/site.yaml"

# One random password per MQTT user, readable by the services only.
passwd_file="$dest/etc/mosquitto/phasor.passwd"
touch "$passwd_file"
chmod 0640 "$passwd_file"
# bridge_outbox: the bridge's outbox intake, a second (persistent) session that only reads.
for user in "${services[@]}" "$operator_user" "$viewer_user" bridge_outbox; do
  cred="$dest/etc/phasor/credentials/$user"
  if [ ! -s "$cred" ]; then
    umask 077
    head -c 24 /dev/urandom | base64 | tr -d '/+=\n' > "$cred"
    echo >> "$cred"
  fi
  mosquitto_passwd -b "$passwd_file" "$user" "$(head -n 1 "$cred")"
done

if [ "$staging" = 1 ]; then
  echo "staged in $dest (no users created, nothing started)"
  exit 0
fi

id -u phasor >/dev/null 2>&1 || useradd --system --home-dir /var/lib/phasor --shell /usr/sbin/nologin phasor
usermod -a -G dialout phasor
chown -R root:phasor /etc/phasor
chmod 0750 /etc/phasor /etc/phasor/credentials
chmod 0640 /etc/phasor/credentials/*
chown root:mosquitto "$passwd_file"
systemctl daemon-reload
systemctl restart mosquitto
systemctl enable --now "${services[@]/#/phasor-}"
echo "Phasor installed. Operator MQTT login: $operator_user / $(head -n 1 /etc/phasor/credentials/$operator_user)"
echo "Read-only MQTT login (dashboards): $viewer_user / $(head -n 1 /etc/phasor/credentials/$viewer_user)"
echo "Edit /etc/phasor/site.yaml, check it with 'phasor config check /etc/phasor/site.yaml', then"
echo "'systemctl restart phasor-gateway phasor-control phasor-bridge'."
