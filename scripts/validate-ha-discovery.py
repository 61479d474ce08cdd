#!/usr/bin/env python3
"""Validates device-based discovery payloads (JSON files) with Home Assistant's own
MQTT discovery schemas, offline: `homeassistant==2025.4.4` (the newest release that
installs on Python 3.13.0) with `paho-mqtt`. For each payload: abbreviations expanded
as HA does, `DEVICE_DISCOVERY_SCHEMA`, then each component, with the device's shared
options merged in as HA merges them, through its platform's `DISCOVERY_SCHEMA`.
HA's schemas drop unknown keys silently, so a key we sent that the schema did not
keep is an error too (except `default_entity_id`, which HA knows from 2025.10 on).
Exit 1 on any problem; prints one line per problem."""
import copy
import importlib
import json
import sys

import voluptuous as vol
from homeassistant.helpers import frame

# Outside a running HA, templates built without `hass` ask the frame helper to
# report that usage; there is no HA to report to, and it is not a payload problem.
frame.report_usage = lambda *args, **kwargs: None

from homeassistant.components.mqtt import discovery  # noqa: E402
from homeassistant.components.mqtt.schemas import DEVICE_DISCOVERY_SCHEMA, SHARED_OPTIONS  # noqa: E402

KNOWN_LATER = {"default_entity_id"}
problems = 0
checked = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        payload = json.load(f)
    expanded = copy.deepcopy(payload)
    discovery._replace_all_abbreviations(expanded)
    try:
        DEVICE_DISCOVERY_SCHEMA(copy.deepcopy(expanded))
    except vol.Invalid as error:
        print(f"{path}: device payload: {error}")
        problems += 1
        continue
    for component_id, component in expanded["components"].items():
        config = dict(component)
        platform = config.pop("platform")
        config["device"] = expanded["device"]
        config["origin"] = expanded.get("origin")
        for option in SHARED_OPTIONS:
            if option in expanded and option not in config:
                config[option] = expanded[option]
        schema = importlib.import_module(f"homeassistant.components.mqtt.{platform}").DISCOVERY_SCHEMA
        try:
            kept = schema(copy.deepcopy(config))
        except vol.Invalid as error:
            print(f"{path}: {component_id} ({platform}): {error}")
            problems += 1
            continue
        dropped = set(config) - set(kept) - KNOWN_LATER
        if dropped:
            print(f"{path}: {component_id} ({platform}): keys dropped by the schema: {sorted(dropped)}")
            problems += 1
        checked += 1
print(f"{checked} components checked, {problems} problems")
sys.exit(1 if problems else 0)
