# Shared by scripts/*.sh: installs what Phasor needs on Debian 12, idempotently.

# apt packages the build, tests and demo use.
# postgresql + libpq-dev: the cloud-side consumer (phasor-cloud-consumer) and its fleet test.
# libfaketime: the soak steps the services' wall clock (scripts/soak.py).
PHASOR_APT_PACKAGES=(libmosquitto-dev libmodbus-dev mosquitto mosquitto-clients socat openssl pkg-config libsqlite3-dev
  libpq-dev postgresql libcurl4-openssl-dev libfaketime)
# Python packages tests use as independent peers and validators.
PHASOR_PIP_PACKAGES=(dsmr-parser==1.11.2 jsonschema pymodbus==3.16.1 paho-mqtt PyYAML aiosmtpd==1.4.6 prometheus-client)

phasor_ensure_apt() {
  local missing=()
  for p in "${PHASOR_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

# A virtualenv in .venv with the Python peers; exports PHASOR_PYTHON.
phasor_ensure_venv() {
  local root="$1"
  if [ ! -x "$root/.venv/bin/python" ]; then
    python3 -m venv "$root/.venv"
  fi
  if ! "$root/.venv/bin/python" -c "import dsmr_parser, jsonschema, pymodbus, paho, yaml, aiosmtpd, prometheus_client" 2>/dev/null; then
    "$root/.venv/bin/pip" install -q --disable-pip-version-check "${PHASOR_PIP_PACKAGES[@]}"
  fi
  export PHASOR_PYTHON="$root/.venv/bin/python"
}

# Starts a mosquitto on a free loopback port; exports PHASOR_TEST_MQTT_PORT and
# PHASOR_TEST_MQTT_PID. Stop it with phasor_stop_broker. Lines in
# PHASOR_BROKER_EXTRA_CONF are appended to its configuration.
phasor_start_broker() {
  local dir
  dir=$(mktemp -d /tmp/phasor-ci-broker.XXXXXX)
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat > "$dir/mosquitto.conf" <<CONF
listener $port 127.0.0.1
allow_anonymous true
user $(id -un)
max_queued_messages 1000000
set_tcp_nodelay true
log_dest file $dir/mosquitto.log
${PHASOR_BROKER_EXTRA_CONF:-}
CONF
  /usr/sbin/mosquitto -c "$dir/mosquitto.conf" &
  PHASOR_TEST_MQTT_PID=$!
  export PHASOR_TEST_MQTT_PORT=$port PHASOR_TEST_MQTT_PID
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "mosquitto did not start; log:" >&2
  cat "$dir/mosquitto.log" >&2
  return 1
}

phasor_stop_broker() {
  if [ -n "${PHASOR_TEST_MQTT_PID:-}" ] && kill -0 "$PHASOR_TEST_MQTT_PID" 2>/dev/null; then
    kill -TERM "$PHASOR_TEST_MQTT_PID"
    for _ in $(seq 1 50); do kill -0 "$PHASOR_TEST_MQTT_PID" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$PHASOR_TEST_MQTT_PID" 2>/dev/null || true
  fi
}

# Optional: Home Assistant's own discovery schemas (homeassistant==2025.4.4, the newest
# release for Python 3.13.0) in .venv-ha; exports PHASOR_HA_PYTHON. Takes several
# minutes from PyPI, so only with PHASOR_HA_CHECK=1 (docs/home-assistant.md).
phasor_ensure_ha_venv() {
  local root="$1"
  local python="${PHASOR_HA_BASE_PYTHON:-$(command -v python3.13 || true)}"
  [ -n "$python" ] || { echo "PHASOR_HA_CHECK: no python3.13 found" >&2; return 1; }
  if [ ! -x "$root/.venv-ha/bin/python" ]; then
    "$python" -m venv "$root/.venv-ha"
  fi
  if ! "$root/.venv-ha/bin/python" -c "import homeassistant.components.mqtt" 2>/dev/null; then
    "$root/.venv-ha/bin/pip" install -q --disable-pip-version-check homeassistant==2025.4.4 paho-mqtt==2.1.0
  fi
  export PHASOR_HA_PYTHON="$root/.venv-ha/bin/python"
}
