#!/usr/bin/env python3
"""Parses every FHIR JSON resource the cramp-cds tests produced with an independent R4 model.

Why: our FHIR types are hand-written serde structs (integration.md §3), so a second, outside
implementation must agree that what we emit is valid FHIR R4 (4.0.1): required elements present,
types right, no unknown elements, nested Bundle resources valid too. `fhir.resources` 6.4.0 is the
last release whose top-level models are R4 4.0.1 (7.x moved to R5, with R4B as a subpackage); it
needs pydantic 1.x. `.ci/run` installs both pinned.

Usage: validate_fhir.py PATH...   (files, or folders whose *.json files are all read)
Exit status 0 when every file parses, 1 when any fails or no file was found.
"""

import json
import sys
from pathlib import Path

import fhir.resources
from fhir.resources import get_fhir_model_class

EXPECTED_FHIR_VERSION = "4.0.1"


def files(paths):
    for path in map(Path, paths):
        if path.is_dir():
            yield from sorted(path.glob("*.json"))
        else:
            yield path


def main(argv):
    if fhir.resources.__fhir_version__ != EXPECTED_FHIR_VERSION:
        print(f"fhir.resources models FHIR {fhir.resources.__fhir_version__}, not R4 {EXPECTED_FHIR_VERSION}")
        return 1
    passed, failed = 0, 0
    kinds = {}
    for path in files(argv[1:]):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            kind = data["resourceType"]
            get_fhir_model_class(kind).parse_obj(data)
        except Exception as err:  # any parse or validation error fails the file
            failed += 1
            print(f"FAIL {path}: {err}")
            continue
        passed += 1
        kinds[kind] = kinds.get(kind, 0) + 1
    summary = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    print(f"FHIR R4 {EXPECTED_FHIR_VERSION} validation ({summary})")
    print(f"{passed} passed, {failed} failed")
    if passed + failed == 0:
        print("no FHIR files found: the tests did not write any")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
