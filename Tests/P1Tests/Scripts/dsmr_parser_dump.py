#!/usr/bin/env python3
"""Parse P1 telegrams with dsmr_parser and print what it found as JSON.

Used by the differential test (DifferentialTests.swift): the Swift test runs this
with the interpreter in PHASOR_PYTHON and compares every value both parsers give.

Usage: dsmr_parser_dump.py SPEC[:nocrc]=PATH ...
Output: {"PATH": {"error": "..."} | {"objects": [...], "mbus": [...]}}
Each object: {"obis": "1-0:1.7.0", "value": "0.433", "unit": "kW", "datetime": "...Z"}.
Values are printed as decimal strings (dsmr_parser keeps Decimal), datetimes in UTC.
"""
import json
import re
import sys
from decimal import Decimal

from dsmr_parser import telegram_specifications
from dsmr_parser.parsers import TelegramParser


def cde_by_name(spec):
    """dsmr_parser keeps only groups A and B on parsed objects; C.D.E come from the
    spec's regex for each value name (e.g. r'^\d-\d:96\.1\.4.+?\r\n')."""
    table = {}
    for entry in spec["objects"]:
        match = re.search(r":(\d+)\\\.(\d+)\\\.(\d+)", entry["obis_reference"])
        if match:
            table[entry["value_name"]] = tuple(int(g) for g in match.groups())
    return table


def obis_text(ab, cde):
    if ab is None or cde is None:
        return None
    return "%d-%d:%d.%d.%d" % (tuple(ab[:2]) + cde)


def plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.astimezone().isoformat() if value.tzinfo is None else value.isoformat()
    return value if value is None or isinstance(value, (int, str)) else str(value)


def describe(obj, cde):
    out = {"obis": obis_text(getattr(obj, "obis_id_code", None), cde), "value": plain(obj.value), "unit": obj.unit}
    if getattr(obj, "datetime", None) is not None:
        out["datetime"] = plain(obj.datetime)
    if getattr(obj, "occurred", None) is not None:
        out["occurred"] = plain(obj.occurred)
    return out


def dump(spec_name, path, check_crc):
    raw = open(path, "rb").read().decode("latin-1")
    spec = getattr(telegram_specifications, spec_name)
    try:
        telegram = TelegramParser(spec, apply_checksum_validation=check_crc).parse(raw)
    except Exception as error:  # noqa: BLE001 - the error kind is what is compared
        return {"error": type(error).__name__}
    cde = cde_by_name(spec)
    objects, mbus = [], []
    for name, item in telegram:
        if name == "MBUS_DEVICES":
            for device in item:
                entry = {"channel": device.channel_id}
                for field, obj in device:
                    entry[field] = describe(obj, cde.get(field))
                mbus.append(entry)
        elif name == "POWER_EVENT_FAILURE_LOG":
            entries = [{"datetime": plain(e.datetime), "seconds": plain(e.value)} for e in item.buffer]
            objects.append({"name": name, "obis": "1-0:99.97.0", "entries": entries})
        elif isinstance(item, list):
            objects.append({"name": name, "list": [describe(o, cde.get(name)) for o in item]})
        else:
            d = describe(item, cde.get(name))
            d["name"] = name
            objects.append(d)
    return {"objects": objects, "mbus": mbus}


def main():
    result = {}
    for arg in sys.argv[1:]:
        spec, path = arg.split("=", 1)
        check = True
        if spec.endswith(":nocrc"):
            spec, check = spec[: -len(":nocrc")], False
        result[path] = dump(spec, path, check)
    json.dump(result, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
