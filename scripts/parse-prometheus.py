#!/usr/bin/env python3
"""Parses a Prometheus text exposition (file argument) with prometheus_client's own
parser and prints one line per sample: `name{label=value,...} value`. Exit 1 if
the text does not parse. Used by the metrics tests (a parser none of us wrote)."""
import sys
from prometheus_client.parser import text_string_to_metric_families

text = open(sys.argv[1], encoding="utf-8").read()
try:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            print(f"{sample.name}{{{labels}}} {sample.value} type={family.type}")
except Exception as error:  # noqa: BLE001 - any parse failure fails the test
    print(f"parse error: {error}")
    sys.exit(1)
