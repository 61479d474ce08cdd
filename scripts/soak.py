#!/usr/bin/env python3
"""Chaos soak: the example site under `phasor simulate`, a mosquitto and the three
services (release builds), with faults injected at random moments, and the
invariants checked from what the services publish. Run by scripts/soak.sh.

The bridge's cloud link goes to a second local mosquitto (the "cloud"), where a
persistent MQTT 5 session records every up message's (stream, seq). The meter feeds
(P1, TIC) reach the gateway through the soak's own TCP relay, so a line can be pulled
alone. The services run under libfaketime (when installed) with a wall-clock offset the
soak changes at run time; `phasor simulate`, the brokers and the machine keep the real
clock.

Faults (one at a time, each undone before the next; the pauses between them, their
durations and their choice come from the seed):
  - service: a service killed with SIGKILL and started again 1-5 s later;
  - broker: the site broker killed with SIGKILL, started again 1-3 s later (same port);
  - devices: every simulated device silenced (the simulator stopped with SIGSTOP, so
    Modbus devices stop answering and the meter feeds stop) for 20 s, then resumed;
  - line: the meter lines (P1 and TIC) pulled alone for 20-60 s, the Modbus devices
    answering: either silent (the relay keeps the TCP connection and drops the bytes, a
    cable pulled behind a network dongle) or dropped (connections closed and new ones
    closed at once, the dongle gone);
  - clock: the services' wall clock stepped forward by 1-15 minutes for 20-40 s, then
    back to the real time (a backward step of the same size);
  - cloud: the cloud broker stopped (SIGTERM: it saves its sessions and queued messages,
    as a cloud broker does on a restart) for 2-20 s, then started again.

Invariants (the run fails when one is broken):
  - no crash: no service exits unless the soak killed it;
  - services come back: after each restart (and after the broker's) every service
    says `online` on status/<service> within 30 s;
  - a silenced device is reported offline: every Modbus device of the site says
    `offline` on device/<id>/availability within 20 s of the silencing;
  - no overload: the main meter's phase currents never stay above the site's main
    limit for more than 10 s in a row (control's own bound is well below that);
  - a pulled line: the P1 meter says `offline` within 3 telegram periods (1 s) + 3 s,
    the TIC meter within 3 periods (3 s, historique) + 3 s; control's fail-safe within
    the main node's meter_timeout_seconds (30 s) of the pull: `grid` in `stale_meters`
    and every charge point's setpoint reason says the meter is stale (safe current); after
    the line is back, both meters `online` within 15 s and no stale meter, no stale
    reason within 30 s;
  - a stepped clock: no crash, control's setpoints keep coming (none missing for more
    than 5 s) while the clock is off and after it is back, no overload; throughout the run
    every `control/state` budget value is a finite number, the quarter's energy between 0
    and what the main limit allows in a quarter, the kW figures within +-100 kW (but
    allowed_rest_kw, the rate for the quarter's remaining seconds, only finite);
  - cloud: after the cloud broker's restart new up messages arrive within 65 s (the
    link's reconnect backoff is capped at 60 s); at the end, with gateway and control
    stopped and the bridge's outbox drained, every (stream, seq) the outbox numbered and
    does not hold any more has reached the cloud (no hole), no payload reached it under
    two seqs of its stream and no seq carried two payloads (no duplicate); the same
    (stream, seq, payload) delivered again (at least once, docs/bridge.md) is counted,
    not a failure; dead letters and gap records are printed.
Memory: each service's RSS at the start and at the end is printed.
"""
import hashlib, json, math, os, random, re, select, signal, socket, sqlite3, subprocess, sys, tempfile, threading, time

root, bin_dir, port, seconds, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
rng = random.Random(seed)
work = tempfile.mkdtemp(prefix="phasor-soak-")
site_in = os.path.join(root, "docs/examples/site.yaml")
site_sim = os.path.join(work, "site-simulated.yaml")
site_out = os.path.join(work, "site.yaml")
SITE, SERVICES, MAIN_LIMIT = "home", ["gateway", "control", "bridge"], 25.0
MODBUS = ["heatpump_meter", "pv", "cp1", "cp2", "cp3"]
CHARGE_POINTS = ["cp1", "cp2", "cp3"]
MAIN_METER, METER_TIMEOUT = "grid", 30.0
# Offline within lost periods (3) x the telegram period + 3 s for the services' and the
# soak's own scheduling on a shared machine.
LINE_OFFLINE_S = {"grid": 3 * 1 + 3, "linky": 3 * 3 + 3}
QUARTER_KWH_MAX = MAIN_LIMIT * 3 * 230 / 1000 * 0.25
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"
failures, log_lines = [], []


def log(text):
    line = f"[{time.monotonic() - t0:7.1f} s] {text}"
    log_lines.append(line)
    print(line, flush=True)


def fail(text):
    failures.append(text)
    log("INVARIANT BROKEN: " + text)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def write_conf(name, listen, extra=""):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(f"listener {listen} 127.0.0.1\nallow_anonymous true\nuser {os.environ.get('USER', 'root')}\n"
                f"max_queued_messages 1000000\nset_tcp_nodelay true\nlog_dest file {work}/{name}.log\n{extra}")
    return path


conf = write_conf("mosquitto.conf", port)
cloud_port = free_port()
os.makedirs(os.path.join(work, "cloud"), exist_ok=True)
# The cloud keeps its sessions (and the messages queued for them) across its restarts.
cloud_conf = write_conf("cloud.conf", cloud_port,
                        f"persistence true\npersistence_location {work}/cloud/\nautosave_interval 30\n")


def start_broker(config=conf, listen=port):
    p = subprocess.Popen(["/usr/sbin/mosquitto", "-c", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", listen), timeout=0.2).close()
            return p
        except OSError:
            time.sleep(0.05)
    raise SystemExit("mosquitto did not start")


class Relay:
    """A meter feed through the soak: `cut("silent")` drops the bytes and keeps the TCP
    connections (a cable pulled behind a network dongle), `cut("dropped")` closes them and
    every new one at once; `restore()` lets the feed through again."""

    def __init__(self, upstream):
        self.upstream, self.mode, self.conns = upstream, None, set()
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.guard = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            client, _ = self.listener.accept()
            if self.mode == "dropped":
                client.close()
                continue
            try:
                up = socket.create_connection(("127.0.0.1", self.upstream), timeout=2)
            except OSError:
                client.close()
                continue
            with self.guard:
                self.conns.add((client, up))
            threading.Thread(target=self.pump, args=(client, up), daemon=True).start()

    def pump(self, client, up):
        try:
            while True:
                readable, _, _ = select.select([up, client], [], [], 1)
                if client in readable and not client.recv(4096):
                    break
                if up in readable:
                    data = up.recv(65536)
                    if not data:
                        break
                    if self.mode is None:
                        client.sendall(data)
        except (OSError, ValueError):
            pass
        with self.guard:
            self.conns.discard((client, up))
        for s in (client, up):
            try:
                s.close()
            except OSError:
                pass

    def cut(self, mode):
        self.mode = mode
        if mode == "dropped":
            with self.guard:
                for pair in list(self.conns):
                    for s in pair:
                        try:
                            s.shutdown(socket.SHUT_RDWR)
                        except OSError:
                            pass

    def restore(self):
        self.mode = None


t0 = time.monotonic()
broker = start_broker()
cloud = start_broker(cloud_conf, cloud_port)
sim = subprocess.Popen([f"{bin_dir}/phasor", "simulate", site_in, "--output", site_sim, "--broker",
                        f"mqtt://127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(200):
    if os.path.exists(site_sim):
        break
    time.sleep(0.05)
else:
    raise SystemExit("phasor simulate wrote no site file")

# The services' site file: the meter feeds through the relays, the P1 split port free,
# the bridge's cloud link to the local cloud broker and its outbox in the work folder.
with open(site_sim) as f:
    text = f.read()
relays, meter_ids = {}, re.findall(r"^\s*- id: (\S+)\n\s+type: (?:p1|tic)", text, re.M)


def relay_source(match):
    relay = Relay(int(match.group(1)))
    relays[meter_ids[len(relays)]] = relay
    return f"source: tcp://127.0.0.1:{relay.port}"


text = re.sub(r"source: \"?tcp://127\.0\.0\.1:(\d+)\"?", relay_source, text)
text = re.sub(r"split_port: \d+", f"split_port: {free_port()}", text)
outbox_path = os.path.join(work, "outbox.sqlite")
assert "\nbridge:" not in text, "the example site grew a bridge section: merge the soak's into it"
text += (f"\nbridge:\n  cloud: {{url: 'mqtt://127.0.0.1:{cloud_port}', protocol: '5', session_expiry_s: 86400}}\n"
         f"  outbox: {{path: '{outbox_path}'}}\n")
with open(site_out, "w") as f:
    f.write(text)
log("meter lines through the soak's relay: " + ", ".join(f"{m} :{r.port}" for m, r in relays.items()))

# The services' wall clock: libfaketime reads the offset from this file (at most a second old).
clock_file = os.path.join(work, "clock-offset")
with open(clock_file, "w") as f:
    f.write("+0\n")
faketime = os.path.exists(FAKETIME_LIB)


def set_clock_offset(offset):
    with open(clock_file + ".tmp", "w") as f:
        f.write(f"{offset:+.0f}\n")
    os.replace(clock_file + ".tmp", clock_file)


# The cloud: a persistent MQTT 5 session records every up message.
cloud_seen = {}        # stream -> {seq: set(payload digests)}
cloud_digests = {}     # stream -> {payload digest: first seq}
cloud_thinned = {}     # stream -> seqs a gap record says were thinned
cloud_stats = {"messages": 0, "redelivered": 0, "last": 0.0, "seq_reused": [], "content_twice": []}
cloud_lock = threading.Lock()
UP = f"phasor/{SITE}/v1/up/"


def on_cloud_message(client, userdata, message):
    try:
        envelope = json.loads(message.payload)
        stream, seq = envelope["stream"], int(envelope["seq"])
    except (ValueError, KeyError, TypeError):
        fail(f"cloud: an up message that is no envelope on {message.topic}: {message.payload[:80]!r}")
        return
    digest = hashlib.blake2b(json.dumps(envelope.get("payload"), sort_keys=True).encode(), digest_size=8).digest()
    payload = envelope.get("payload")
    with cloud_lock:
        if stream == "gap" and isinstance(payload, dict):  # thinned on purpose: accounted, not lost
            for thinned in range(int(payload.get("from_seq", 0)), int(payload.get("to_seq", -1)) + 1):
                cloud_thinned.setdefault(payload.get("stream"), set()).add(thinned)
        cloud_stats["messages"] += 1
        cloud_stats["last"] = time.monotonic()
        seqs = cloud_seen.setdefault(stream, {})
        if seq in seqs:
            if digest in seqs[seq]:
                cloud_stats["redelivered"] += 1
            else:
                cloud_stats["seq_reused"].append((stream, seq))
            seqs[seq].add(digest)
            return
        seqs[seq] = {digest}
        first = cloud_digests.setdefault(stream, {}).setdefault(digest, seq)
        if first != seq:
            cloud_stats["content_twice"].append((stream, first, seq))


def start_cloud_recorder():
    import paho.mqtt.client as mqtt
    from paho.mqtt.properties import Properties
    from paho.mqtt.packettypes import PacketTypes
    subscribed = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="soak-cloud-recorder", protocol=mqtt.MQTTv5)
    client.on_message = on_cloud_message
    client.on_connect = lambda c, u, flags, rc, props: c.subscribe(UP + "#", qos=1)
    client.on_subscribe = lambda c, u, mid, rcs, props: subscribed.set()
    client.reconnect_delay_set(0.2, 1)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = 86400
    client.connect("127.0.0.1", cloud_port, clean_start=False, properties=props)
    client.loop_start()
    if not subscribed.wait(10):
        raise SystemExit("the cloud recorder did not subscribe")
    return client


recorder = start_cloud_recorder()

# What the services publish, as seen by a subscriber that reconnects by itself.
state = {"status": {}, "availability": {}, "over_since": None, "worst": 0.0, "over_s": 0.0,
         "setpoints": {}, "setpoint_last": 0.0, "control": {}, "budget_broken": set()}
lock = threading.Lock()


def check_budget(payload):
    """Every budget figure finite and sane (a stepped clock must not corrupt the quarter)."""
    budget = payload.get("budget") or {}
    problems = []
    for key, value in budget.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if not math.isfinite(value):
            problems.append(f"{key} = {value}")
        elif key == "energy_kwh" and not 0 <= value <= QUARTER_KWH_MAX:
            problems.append(f"energy_kwh = {value} outside 0…{QUARTER_KWH_MAX:.2f}")
        elif key.endswith("_kw") and key != "allowed_rest_kw" and abs(value) > 100:
            # allowed_rest_kw is the rate for the quarter's remaining seconds: unbounded
            # near the quarter's end (finite is all that holds).
            problems.append(f"{key} = {value}")
    for problem in problems:
        if problem.split(" ")[0] not in state["budget_broken"]:
            state["budget_broken"].add(problem.split(" ")[0])
            fail(f"control/state budget {problem} (first occurrence; budget {json.dumps(budget)})")


def watch():
    while not stop_watching.is_set():
        p = subprocess.Popen(["mosquitto_sub", "-p", str(port), "-v", "-t", f"phasor/{SITE}/status/+",
                              "-t", f"phasor/{SITE}/device/+/availability", "-t", f"phasor/{SITE}/meter/grid/state",
                              "-t", f"phasor/{SITE}/control/state", "-t", f"phasor/{SITE}/chargepoint/+/setpoint"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        watchers.append(p)
        for line in p.stdout:
            topic, _, payload = line.rstrip("\n").partition(" ")
            parts = topic.split("/")
            with lock:
                if parts[2] == "status" and len(parts) == 4:
                    state["status"][parts[3]] = payload
                elif parts[2] == "device":
                    state["availability"][parts[3]] = payload
                elif parts[2] == "chargepoint":
                    try:
                        setpoint = json.loads(payload)
                    except ValueError:
                        continue
                    state["setpoints"][parts[3]] = (setpoint.get("reason", ""), setpoint.get("current"), time.monotonic())
                    state["setpoint_last"] = time.monotonic()
                elif parts[2] == "control":
                    try:
                        control = json.loads(payload)
                    except ValueError:
                        fail(f"control/state is not JSON: {payload[:120]}")
                        continue
                    state["control"] = control
                    check_budget(control)
                elif parts[2] == "meter":
                    try:
                        values = json.loads(payload).get("values", json.loads(payload))
                    except ValueError:
                        continue
                    currents = [values.get(f"current_l{i}") for i in (1, 2, 3)]
                    worst = max((c for c in currents if isinstance(c, (int, float))), default=0.0)
                    state["worst"] = max(state["worst"], worst)
                    now = time.monotonic()
                    if worst > MAIN_LIMIT:
                        state["over_since"] = state["over_since"] or now
                        if now - state["over_since"] > 10:
                            fail(f"main meter at {worst:.1f} A, above {MAIN_LIMIT} A for more than 10 s")
                            state["over_since"] = now
                    else:
                        state["over_since"] = None
        time.sleep(0.5)


stop_watching, watchers = threading.Event(), []
threading.Thread(target=watch, daemon=True).start()

procs, pids, killed_by_us = {}, {}, set()


def start_service(name):
    args = [f"{bin_dir}/phasor-{name}", "--config", site_out, "--broker", f"mqtt://127.0.0.1:{port}",
            "--log-level", "warning"]
    if name == "control":
        args += ["--state-dir", os.path.join(work, "control-state")]
    env = dict(os.environ)
    out = open(os.path.join(work, f"{name}.log"), "a")
    if not faketime:
        procs[name] = subprocess.Popen(args, stdout=out, stderr=out, env=env)
        pids[name] = procs[name].pid
        return
    # A Swift service exec'd straight from Python with libfaketime preloaded loses its
    # arguments ("no site id"); started by a shell's fork it gets them. The shell waits
    # for it and exits with its status; signals go to the service's own pid.
    env.update(LD_PRELOAD=FAKETIME_LIB, FAKETIME_TIMESTAMP_FILE=clock_file, FAKETIME_CACHE_DURATION="1",
               FAKETIME_DONT_FAKE_MONOTONIC="1")
    procs[name] = subprocess.Popen(["sh", "-c", '"$@"', "sh"] + args, stdout=out, stderr=out, env=env)
    pids[name] = None
    for _ in range(100):
        try:
            with open(f"/proc/{procs[name].pid}/task/{procs[name].pid}/children") as f:
                children = f.read().split()
        except OSError:
            children = []
        if children:
            pids[name] = int(children[0])
            return
        if procs[name].poll() is not None:
            return
        time.sleep(0.02)


def signal_service(name, sig):
    try:
        os.kill(pids[name] or procs[name].pid, sig)
    except ProcessLookupError:
        pass


def rss(name):
    try:
        with open(f"/proc/{pids[name]}/status") as f:
            return next(int(l.split()[1]) / 1024 for l in f if l.startswith("VmRSS"))
    except (OSError, StopIteration):
        return float("nan")


def check_crashes():
    for name, p in procs.items():
        code = p.poll()
        if code is not None and name not in killed_by_us:
            fail(f"phasor-{name} exited by itself (code {code}); log {work}/{name}.log")
            if len(failures) > 30:
                cleanup()
                raise SystemExit(f"stopped: {len(failures)} invariants broken; logs {work}")
            start_service(name)


def wait_for(what, predicate, timeout):
    """Waits for `predicate`; returns the seconds it took, or None (and fails) after `timeout`."""
    start = time.monotonic()
    while time.monotonic() < start + timeout:
        with lock:
            if predicate():
                return time.monotonic() - start
        check_crashes()
        time.sleep(0.2)
    fail(f"{what} not within {timeout:.0f} s")
    return None


def hold(until, during=None):
    """Sleeps until `until`, checking crashes (and `during`) every 0.2 s."""
    while time.monotonic() < until:
        check_crashes()
        if during:
            during()
        time.sleep(0.2)


def all_online():
    return all(state["status"].get(s) == "online" for s in SERVICES)


def fail_safe(since):
    """Control's fail-safe on a stale main meter, decided after `since`."""
    control = state["control"]
    if MAIN_METER not in (control.get("stale_meters") or []):
        return False
    return all(cp in state["setpoints"] and state["setpoints"][cp][2] > since and "stale" in state["setpoints"][cp][0]
               for cp in CHARGE_POINTS)


def no_fail_safe(since):
    control = state["control"]
    return (MAIN_METER not in (control.get("stale_meters") or [])
            and all(cp in state["setpoints"] and state["setpoints"][cp][2] > since
                    and "stale" not in state["setpoints"][cp][0] for cp in CHARGE_POINTS))


def cleanup():
    stop_watching.set()
    for name in list(procs):
        killed_by_us.add(name)
        signal_service(name, signal.SIGTERM)
    for name, p in list(procs.items()):
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            signal_service(name, signal.SIGKILL)
    sim.send_signal(signal.SIGCONT)
    sim.terminate()
    for w in watchers:
        w.terminate()
    recorder.loop_stop()
    broker.terminate()
    cloud.terminate()


for name in SERVICES:
    start_service(name)
wait_for("all services online at start", all_online, 60)
time.sleep(5)
rss_start = {s: rss(s) for s in SERVICES}
log("started; RSS " + ", ".join(f"{s} {rss_start[s]:.1f} MB" for s in SERVICES)
    + ("" if faketime else f"; no {FAKETIME_LIB}: the clock is not stepped (apt install libfaketime)"))

events = {"service killed": 0, "broker killed": 0, "devices silenced": 0, "line pulled": 0, "clock stepped": 0,
          "cloud restarted": 0}
figures = {"line offline s": {}, "fail-safe s": [], "line back s": [], "cloud back s": [], "setpoint gap s": 0.0}
kinds = ["service", "broker", "devices", "line", "cloud"] + (["clock"] if faketime else [])
first_faults = list(kinds)
rng.shuffle(first_faults)
end = t0 + seconds


def pull_line():
    mode = rng.choice(["silent", "dropped"])
    duration = rng.uniform(20, 60)
    log(f"meter lines pulled ({mode}) for {duration:.0f} s: " + ", ".join(relays))
    pulled = time.monotonic()
    for relay in relays.values():
        relay.cut(mode)
    for meter in relays:
        took = wait_for(f"meter {meter} reported offline after its line was pulled",
                        lambda: state["availability"].get(meter) == "offline", LINE_OFFLINE_S.get(meter, 15))
        if took is not None:
            figures["line offline s"].setdefault(meter, []).append(time.monotonic() - pulled)
    if MAIN_METER in relays:
        took = wait_for("control's fail-safe (main meter stale, every setpoint at its safe current)",
                        lambda: fail_safe(pulled), max(0.0, pulled + METER_TIMEOUT - time.monotonic()))
        if took is not None:
            figures["fail-safe s"].append(time.monotonic() - pulled)
    hold(pulled + duration)
    for relay in relays.values():
        relay.restore()
    back = time.monotonic()
    log("meter lines back")
    took = wait_for("every meter online after its line came back",
                    lambda: all(state["availability"].get(m) == "online" for m in relays), 15)
    if took is not None:
        figures["line back s"].append(took)
    wait_for("control out of its fail-safe after the line came back", lambda: no_fail_safe(back), 30)
    events["line pulled"] += 1


def step_clock():
    # Forward, then back to the real time: both steps, never behind the real time. Behind
    # it, libfaketime shifts every absolute timerfd deadline by the offset, the monotonic
    # ones Dispatch arms for Task.sleep included, so each timer of a service would fire
    # minutes late: an artefact of the fake (a real step leaves monotonic timers alone).
    offset = rng.uniform(60, 900)
    duration = rng.uniform(20, 40)
    log(f"services' clock stepped {offset:+.0f} s for {duration:.0f} s")

    def setpoints_flowing():
        with lock:
            gap = time.monotonic() - state["setpoint_last"]
        figures["setpoint gap s"] = max(figures["setpoint gap s"], gap)
        if gap > 5 and not flow_broken:
            flow_broken.append(gap)
            fail(f"no setpoint for {gap:.0f} s with the services' clock at {current[0]:+.0f} s")

    flow_broken, current = [], [offset]
    set_clock_offset(offset)
    hold(time.monotonic() + duration, setpoints_flowing)
    current[0] = 0
    flow_broken.clear()
    set_clock_offset(0)
    log(f"services' clock stepped back ({-offset:+.0f} s)")
    hold(time.monotonic() + 15, setpoints_flowing)
    events["clock stepped"] += 1


def restart_cloud():
    global cloud
    down = rng.uniform(2, 20)
    log(f"cloud broker stopped for {down:.0f} s")
    cloud.terminate()
    cloud.wait()
    hold(time.monotonic() + down)
    cloud = start_broker(cloud_conf, cloud_port)
    restarted = time.monotonic()
    took = wait_for("up messages at the cloud after its restart", lambda: cloud_stats["last"] > restarted, 65)
    if took is not None:
        figures["cloud back s"].append(took)
    events["cloud restarted"] += 1


while time.monotonic() < end - 30:
    pause = rng.uniform(5, 15)
    hold(time.monotonic() + pause)
    # Every kind once first (in a random order), then at random (services twice as often).
    fault = first_faults.pop() if first_faults else rng.choice(kinds + ["service"])
    if fault == "service":
        name = rng.choice(SERVICES)
        log(f"kill -9 phasor-{name}")
        killed_by_us.add(name)
        signal_service(name, signal.SIGKILL)
        procs[name].wait()
        with lock:
            state["status"][name] = "killed"
        time.sleep(rng.uniform(1, 5))
        killed_by_us.discard(name)
        start_service(name)
        wait_for(f"phasor-{name} online again", lambda: state["status"].get(name) == "online", 30)
        events["service killed"] += 1
    elif fault == "broker":
        log("kill -9 mosquitto")
        broker.send_signal(signal.SIGKILL)
        broker.wait()
        with lock:
            state["status"].clear()
        time.sleep(rng.uniform(1, 3))
        broker = start_broker()
        wait_for("every service online after the broker came back", all_online, 30)
        events["broker killed"] += 1
    elif fault == "devices":
        log("devices silenced (simulator stopped)")
        silenced = time.monotonic()
        sim.send_signal(signal.SIGSTOP)
        if wait_for("every Modbus device reported offline",
                    lambda: all(state["availability"].get(d) == "offline" for d in MODBUS), 20) is None:
            log("availability then: " + ", ".join(f"{d} {state['availability'].get(d)}" for d in MODBUS))
        time.sleep(max(0.0, silenced + 20 - time.monotonic()))
        sim.send_signal(signal.SIGCONT)
        log("devices answering again")
        wait_for("every Modbus device back online",
                 lambda: all(state["availability"].get(d) == "online" for d in MODBUS), 30)
        events["devices silenced"] += 1
    elif fault == "line":
        pull_line()
    elif fault == "clock":
        step_clock()
    else:
        restart_cloud()

# A quiet end: nothing injected, everything must stay up and online.
hold(end)
wait_for("every service online at the end", all_online, 30)
wait_for("up messages reaching the cloud at the end", lambda: time.monotonic() - cloud_stats["last"] < 5, 30)
rss_end = {s: rss(s) for s in SERVICES}
log("end; RSS " + ", ".join(f"{s} {rss_end[s]:.1f} MB" for s in SERVICES))

# The final drain: gateway and control stopped, the bridge sends what its outbox holds.
for name in ["gateway", "control"]:
    killed_by_us.add(name)
    signal_service(name, signal.SIGTERM)
for name in ["gateway", "control"]:
    try:
        procs[name].wait(timeout=15)
    except subprocess.TimeoutExpired:
        fail(f"phasor-{name} did not stop within 15 s of SIGTERM")
        signal_service(name, signal.SIGKILL)


def outbox_rows():
    db = sqlite3.connect(f"file:{outbox_path}?mode=ro", uri=True, timeout=10)
    try:
        with db:
            queued = db.execute("SELECT stream, seq FROM outbox").fetchall()
            last = dict(db.execute("SELECT stream, last_seq FROM streams").fetchall())
            dead = db.execute("SELECT stream, seq, reason FROM dead_letter").fetchall()
        return queued, last, dead
    finally:
        db.close()


drain_start = time.monotonic()
while True:
    queued, last, dead = outbox_rows()
    if not queued or time.monotonic() - drain_start > 120:
        break
    time.sleep(1)
time.sleep(5)  # what was sent reaches the recorder
with cloud_lock:
    seen = {stream: set(seqs) for stream, seqs in cloud_seen.items()}
    holdout = {stream: set(seqs) for stream, seqs in cloud_thinned.items()}
    holdout_thinned = {stream: set(seqs) for stream, seqs in cloud_thinned.items()}
for stream, seq in queued:
    holdout.setdefault(stream, set()).add(seq)
for stream, seq, _ in dead:
    holdout.setdefault(stream, set()).add(seq)
holes = {}
for stream, last_seq in last.items():
    missing = set(range(1, last_seq + 1)) - seen.get(stream, set()) - holdout.get(stream, set())
    if missing:
        holes[stream] = sorted(missing)
unknown = {s: sorted(q for q in seqs if q > last.get(s, 0)) for s, seqs in seen.items()}
unknown = {s: q for s, q in unknown.items() if q}
for stream, missing in holes.items():
    fail(f"cloud: stream {stream} misses {len(missing)} seq(s): {missing[:10]}")
for stream, seqs in unknown.items():
    fail(f"cloud: stream {stream} got seq(s) the outbox never numbered: {seqs[:10]}")
for stream, seq in cloud_stats["seq_reused"][:10]:
    fail(f"cloud: stream {stream} seq {seq} carried two different payloads")
for stream, first, seq in cloud_stats["content_twice"][:10]:
    fail(f"cloud: stream {stream} got one payload twice, as seq {first} and {seq}")
if len(queued) > 0:
    fail(f"cloud: {len(queued)} message(s) still in the outbox 120 s after the services stopped")
numbered = sum(last.values())
cloud_line = (f"cloud: {len(last)} streams, {numbered} messages numbered, {sum(len(s) for s in seen.values())} received "
              f"({cloud_stats['redelivered']} redelivered), {sum(len(h) for h in holes.values())} missing, "
              f"{len(cloud_stats['content_twice']) + len(cloud_stats['seq_reused'])} duplicated, {len(dead)} dead letters, "
              f"{len(seen.get('gap', ()))} gap records ({sum(len(t) for t in holdout_thinned.values())} thinned)")
log(cloud_line)

cleanup()


def spread(values):
    return f"{max(values):.1f} s max" if values else "n/a"


print(f"SOAK {seconds:.0f} s, seed {seed}: " + ", ".join(f"{k} {v}" for k, v in events.items())
      + f"; main meter peak {state['worst']:.1f} A (limit {MAIN_LIMIT} A); "
      + ("all invariants held" if not failures else f"{len(failures)} invariant(s) broken"))
print("  line pulled: " + ", ".join(f"{m} offline after {spread(v)} (limit {LINE_OFFLINE_S.get(m, 15)} s)"
                                   for m, v in figures["line offline s"].items())
      + f", control fail-safe after "
      f"{spread(figures['fail-safe s'])} (limit {METER_TIMEOUT:.0f} s), meters back after {spread(figures['line back s'])}; "
      f"clock stepped: longest setpoint gap {figures['setpoint gap s']:.1f} s; cloud back after {spread(figures['cloud back s'])}")
print("  " + cloud_line)
print("  RSS start -> end: " + ", ".join(f"{s} {rss_start[s]:.1f} -> {rss_end[s]:.1f} MB" for s in SERVICES))
if not os.path.isdir("/sys/kernel/config/gpio-sim"):
    print("  pulse counts: not injected (no gpio-sim: S0 inputs need GPIO, and this kernel offers no simulated chip)")
for f in failures:
    print("  - " + f)
print(f"logs: {work}")
sys.exit(1 if failures else 0)
