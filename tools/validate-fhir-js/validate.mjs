// The second FHIR R4 validator: FHIR.js (npm `fhir`, Lantana Consulting Group) validates every
// resource cramp-cds emitted against the R4 StructureDefinitions and value sets it ships, with
// unknown elements as errors, independently of `tools/validate_fhir.py` (fhir.resources, Python).
// Same inputs as that script: files, or folders whose *.json files are all read. A Bundle's
// entries (and a Parameters' resources) are validated as part of it; they are counted too.
//
// usage: node validate.mjs PATH...
// Exit status 0 when every file validates with no error, 1 when any fails or no file was found.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import fhirPackage from "fhir";

const { Fhir, Versions } = fhirPackage;

function* files(paths) {
  for (const path of paths) {
    if (statSync(path).isDirectory()) {
      for (const name of readdirSync(path).filter((n) => n.endsWith(".json")).sort()) {
        yield join(path, name);
      }
    } else {
      yield path;
    }
  }
}

/** Every resource inside `resource` (entries, parameters, contained), itself included. */
function* resourcesIn(resource) {
  if (!resource || typeof resource !== "object" || !resource.resourceType) return;
  yield resource;
  for (const entry of resource.entry ?? []) yield* resourcesIn(entry.resource);
  for (const parameter of resource.parameter ?? []) yield* resourcesIn(parameter.resource);
  for (const contained of resource.contained ?? []) yield* resourcesIn(contained);
}

const fhir = new Fhir();
let passed = 0;
let failed = 0;
const kinds = new Map();
for (const path of files(process.argv.slice(2))) {
  let resource;
  let result;
  try {
    resource = JSON.parse(readFileSync(path, "utf8"));
    result = fhir.validate(resource, { errorOnUnexpected: true });
  } catch (error) {
    failed += 1;
    console.log(`FAIL ${path}: ${error}`);
    continue;
  }
  const errors = result.messages.filter((m) => m.severity === "error" || m.severity === "fatal");
  if (!result.valid || errors.length > 0) {
    failed += 1;
    for (const message of errors.length > 0 ? errors : result.messages) {
      console.log(`FAIL ${path}: ${message.location ?? ""}: ${message.message}`);
    }
    continue;
  }
  passed += 1;
  for (const inner of resourcesIn(resource)) {
    kinds.set(inner.resourceType, (kinds.get(inner.resourceType) ?? 0) + 1);
  }
}
const total = [...kinds.values()].reduce((a, b) => a + b, 0);
const summary = [...kinds.entries()].sort().map(([k, n]) => `${k} ${n}`).join(", ");
console.log(`FHIR ${Versions.R4} validation by FHIR.js (${summary})`);
console.log(`${passed} files passed (${total} resources, nested ones included), ${failed} failed`);
if (passed + failed === 0) {
  console.log("no FHIR files found: the tests did not write any");
  process.exit(1);
}
process.exit(failed > 0 ? 1 : 0);
