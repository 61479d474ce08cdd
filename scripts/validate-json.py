#!/usr/bin/env python3
"""Validates JSON documents against a JSON Schema (Draft 2020-12).

Usage: validate-json.py SCHEMA FILE...   (FILE may be YAML when it ends in .yaml)
Prints one line per invalid document and exits 1 if any is invalid.
"""
import json
import sys

import jsonschema


def load(path):
    with open(path, encoding="utf-8") as f:
        if path.endswith((".yaml", ".yml")):
            import yaml
            return yaml.safe_load(f)
        return json.load(f)


def main():
    schema = load(sys.argv[1])
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    bad = 0
    for path in sys.argv[2:]:
        for error in validator.iter_errors(load(path)):
            bad += 1
            print(f"{path}: {'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}")
    print(f"validated {len(sys.argv) - 2} document(s), {bad} error(s)")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
