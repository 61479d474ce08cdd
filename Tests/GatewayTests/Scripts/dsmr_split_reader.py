#!/usr/bin/env python3
"""Read P1 telegrams from Phasor's P1 split port with dsmr_parser's own TCP client.

Used by SplitTests.swift: an independent reader (dsmr_parser.clients.SocketReader,
what dsmr_parser users point at a P1 network dongle) connects, parses what Phasor
passes on, and prints one JSON line per telegram it accepted (CRC checked by
dsmr_parser): {"power_import_kw": "...", "energy_import_t1_kwh": "..."}.

Usage: dsmr_split_reader.py HOST PORT COUNT
Prints "connected" first (so the test knows when to start sending), exits after
COUNT telegrams, or with status 3 after 30 s.
"""
import json
import signal
import socket
import sys

from dsmr_parser import obis_references as obis
from dsmr_parser import telegram_specifications
from dsmr_parser.clients.socket_ import SocketReader

host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
signal.signal(signal.SIGALRM, lambda *_: sys.exit(3))
signal.alarm(30)


class AnnouncingSocketReader(SocketReader):
    """SocketReader.read() as shipped, with a line printed once connected (the
    upstream method opens its socket itself, so wrap socket.socket.connect)."""

    def read(self):
        original = socket.socket.connect

        def connect(sock, address):
            original(sock, address)
            print("connected", flush=True)

        socket.socket.connect = connect
        try:
            yield from super().read()
        finally:
            socket.socket.connect = original


reader = AnnouncingSocketReader(host, port, telegram_specifications.V5)
seen = 0
for telegram in reader.read():
    print(json.dumps({
        "power_import_kw": str(telegram[obis.CURRENT_ELECTRICITY_USAGE].value),
        "energy_import_t1_kwh": str(telegram[obis.ELECTRICITY_USED_TARIFF_1].value),
    }), flush=True)
    seen += 1
    if seen >= count:
        break
