#!/usr/bin/env python3
"""Chaos soak: the example site under `phasor simulate`, a mosquitto and the three
services (release builds), with faults injected at random moments, and the
invariants checked from what the services publish. Run by scripts/soak.sh.

Faults (bounded: one at a time, each undone before the next):
  - a service killed with SIGKILL and started again 1-5 s later;
  - the broker killed with SIGKILL and started again 1-3 s later (same port);
  - every simulated device silenced (the simulator stopped with SIGSTOP, so Modbus
    devices stop answering and the meter feeds stop) for 20 s, then resumed.

Invariants (the run fails when one is broken):
  - no crash: no service exits unless the soak killed it;
  - services come back: after each restart (and after the broker's) every service
    says `online` on status/<service> within 30 s;
  - a silenced device is reported offline: every Modbus device of the site says
    `offline` on device/<id>/availability within 20 s of the silencing;
  - no overload: the main meter's phase currents never stay above the site's main
    limit for more than 10 s in a row (control's own bound is well below that).
Memory: each service's RSS at the start and at the end is printed.
"""
import json, os, random, signal, subprocess, sys, tempfile, threading, time

root, bin_dir, port, seconds, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
rng = random.Random(seed)
work = tempfile.mkdtemp(prefix="phasor-soak-")
site_in = os.path.join(root, "docs/examples/site.yaml")
site_out = os.path.join(work, "site.yaml")
SITE, SERVICES, MAIN_LIMIT = "home", ["gateway", "control", "bridge"], 25.0
MODBUS = ["heatpump_meter", "pv", "cp1", "cp2", "cp3"]
failures, log_lines = [], []


def log(text):
    line = f"[{time.monotonic() - t0:7.1f} s] {text}"
    log_lines.append(line)
    print(line, flush=True)


def fail(text):
    failures.append(text)
    log("INVARIANT BROKEN: " + text)


conf = os.path.join(work, "mosquitto.conf")
with open(conf, "w") as f:
    f.write(f"listener {port} 127.0.0.1\nallow_anonymous true\nuser {os.environ.get('USER', 'root')}\n"
            f"max_queued_messages 100000\nset_tcp_nodelay true\nlog_dest file {work}/mosquitto.log\n")


def start_broker():
    p = subprocess.Popen(["/usr/sbin/mosquitto", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            import socket
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return p
        except OSError:
            time.sleep(0.05)
    raise SystemExit("mosquitto did not start")


t0 = time.monotonic()
broker = start_broker()
sim = subprocess.Popen([f"{bin_dir}/phasor", "simulate", site_in, "--output", site_out, "--broker",
                        f"mqtt://127.0.0.1:{port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
for _ in range(200):
    if os.path.exists(site_out):
        break
    time.sleep(0.05)
else:
    raise SystemExit("phasor simulate wrote no site file")

# What the services publish, as seen by a subscriber that reconnects by itself.
state = {"status": {}, "availability": {}, "over_since": None, "worst": 0.0, "over_s": 0.0}
lock = threading.Lock()


def watch():
    while not stop_watching.is_set():
        p = subprocess.Popen(["mosquitto_sub", "-p", str(port), "-v", "-t", f"phasor/{SITE}/status/+",
                              "-t", f"phasor/{SITE}/device/+/availability", "-t", f"phasor/{SITE}/meter/grid/state"],
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

procs, killed_by_us = {}, set()


def start_service(name):
    args = [f"{bin_dir}/phasor-{name}", "--config", site_out, "--broker", f"mqtt://127.0.0.1:{port}",
            "--log-level", "warning"]
    if name == "control":
        args += ["--state-dir", os.path.join(work, "control-state")]
    out = open(os.path.join(work, f"{name}.log"), "a")
    procs[name] = subprocess.Popen(args, stdout=out, stderr=out)


def rss(name):
    try:
        with open(f"/proc/{procs[name].pid}/status") as f:
            return next(int(l.split()[1]) / 1024 for l in f if l.startswith("VmRSS"))
    except (OSError, StopIteration):
        return float("nan")


def check_crashes():
    for name, p in procs.items():
        code = p.poll()
        if code is not None and name not in killed_by_us:
            fail(f"phasor-{name} exited by itself (code {code}); log {work}/{name}.log")
            start_service(name)


def wait_for(what, predicate, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with lock:
            if predicate():
                return True
        check_crashes()
        time.sleep(0.2)
    fail(f"{what} not within {timeout:.0f} s")
    return False


def all_online():
    return all(state["status"].get(s) == "online" for s in SERVICES)


for name in SERVICES:
    start_service(name)
wait_for("all services online at start", all_online, 60)
time.sleep(5)
rss_start = {s: rss(s) for s in SERVICES}
log("started; RSS " + ", ".join(f"{s} {rss_start[s]:.1f} MB" for s in SERVICES))

events = {"service killed": 0, "broker killed": 0, "devices silenced": 0}
first_faults = ["service", "broker", "devices"]
rng.shuffle(first_faults)
end = t0 + seconds
while time.monotonic() < end - 25:
    pause = rng.uniform(5, 15)
    while pause > 0:
        check_crashes()
        time.sleep(min(pause, 1))
        pause -= 1
    # Every kind once first (in a random order), then at random.
    fault = first_faults.pop() if first_faults else rng.choice(["service", "service", "broker", "devices"])
    if fault == "service":
        name = rng.choice(SERVICES)
        log(f"kill -9 phasor-{name}")
        killed_by_us.add(name)
        procs[name].send_signal(signal.SIGKILL)
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
    else:
        log("devices silenced (simulator stopped)")
        silenced = time.monotonic()
        sim.send_signal(signal.SIGSTOP)
        wait_for("every Modbus device reported offline",
                 lambda: all(state["availability"].get(d) == "offline" for d in MODBUS), 20)
        time.sleep(max(0.0, silenced + 20 - time.monotonic()))
        sim.send_signal(signal.SIGCONT)
        log("devices answering again")
        wait_for("every Modbus device back online",
                 lambda: all(state["availability"].get(d) == "online" for d in MODBUS), 30)
        events["devices silenced"] += 1

# A quiet end: nothing injected, everything must stay up and online.
while time.monotonic() < end:
    check_crashes()
    time.sleep(1)
wait_for("every service online at the end", all_online, 30)
rss_end = {s: rss(s) for s in SERVICES}
log("end; RSS " + ", ".join(f"{s} {rss_end[s]:.1f} MB" for s in SERVICES))
stop_watching.set()
for p in list(procs.values()):
    p.send_signal(signal.SIGTERM)
for p in list(procs.values()):
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
sim.send_signal(signal.SIGCONT)
sim.terminate()
for w in watchers:
    w.terminate()
broker.terminate()
print(f"SOAK {seconds:.0f} s, seed {seed}: " + ", ".join(f"{k} {v}" for k, v in events.items())
      + f"; main meter peak {state['worst']:.1f} A (limit {MAIN_LIMIT} A); "
      + ("all invariants held" if not failures else f"{len(failures)} invariant(s) broken"))
for f in failures:
    print("  - " + f)
print(f"logs: {work}")
sys.exit(1 if failures else 0)
