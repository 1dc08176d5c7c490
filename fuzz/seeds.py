#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/ from the examples, the test data and the shared
vignettes (../shared/vignettes*): JSON, CSV and JWT seeds always; the protobuf seeds too when the
`protobuf` package (pip install protobuf==6.33.6) is importable and a descriptor set is given
(`--descriptors target/debug/build/cramp-wire-*/out/cramp_descriptor.bin`): the same requests,
converted from proto3 JSON by the reference implementation. Seeds are small on purpose: the
fuzzer mutates them; they only have to start it on each path.

    python3 fuzz/seeds.py [SHARED_DIR] [--descriptors FILE]
"""
import base64, csv, hashlib, io, json, pathlib, sys

root = pathlib.Path(__file__).resolve().parent.parent
args = sys.argv[1:]
descriptors = None
if "--descriptors" in args:
    at = args.index("--descriptors")
    descriptors = pathlib.Path(args[at + 1])
    del args[at : at + 2]
shared = pathlib.Path(args[0]) if args else root.parent / "shared"
corpus = root / "fuzz" / "corpus"
BASE = "https://cds.example.org"


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    folder = corpus / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()[:16]).write_bytes(data)


def requests():
    out = [json.loads(p.read_text()) for p in sorted((root / "examples").glob("*.json"))]
    for folder in [root / "tests/data/vignettes", shared / "vignettes", shared / "vignettes-second-edition"]:
        for p in sorted(folder.glob("*.json")):
            case = json.loads(p.read_text())
            if isinstance(case.get("request"), dict):
                out.append(case["request"])
    seen, unique = set(), []
    for r in out:
        key = json.dumps(r, sort_keys=True)
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return unique


def answers(value):
    if isinstance(value, bool):
        return [{"valueBoolean": value}]
    if isinstance(value, int):
        return [{"valueInteger": value}]
    if isinstance(value, float):
        return [{"valueDecimal": value}]
    if isinstance(value, list):
        return [{"valueCoding": {"system": f"{BASE}/fhir/CodeSystem/cramp-intake", "code": v}} for v in value]
    if isinstance(value, str) and value.isupper():
        return [{"valueCoding": {"system": f"{BASE}/fhir/CodeSystem/cramp-intake", "code": value}}]
    return [{"valueString": value}]


def items(prefix, message, nested):
    out = []
    for field, value in message.items():
        link = f"{prefix}.{field}"
        if isinstance(value, dict):
            out.extend(items(link, value, nested))
        else:
            out.append({"linkId": link, "answer": answers(value)})
    return [{"linkId": prefix, "item": out}] if nested and out else out


def questionnaire_response(history, rid, nested):
    all_items = []
    for group, value in history.items():
        if group == "medications" and isinstance(value, list):
            for med in value:
                all_items.append({"linkId": "medications", "item": items("medications", med, False)})
        elif isinstance(value, dict):
            all_items.extend(items(group, value, nested))
    return {
        "resourceType": "QuestionnaireResponse", "id": rid,
        "questionnaire": f"{BASE}/fhir/Questionnaire/cramp-intake|1.1.0",
        "status": "completed", "subject": {"reference": "Patient/pat-1"},
        "authored": "2026-05-14T09:30:00Z", "item": all_items,
    }


def main():
    reqs = requests()
    lines = [l for l in (root / "examples/screening-1000.ndjson").read_text().splitlines() if l.strip()]
    # NDJSON: single records, a few multi-record files, a BOM, a broken line.
    for r in reqs:
        put("screen_ndjson", json.dumps({"record_id": r.get("request_id", ""), "history": r.get("history", {})}))
    for i in range(0, 40, 4):
        put("screen_ndjson", "\n".join(lines[i:i + 3]) + "\n")
    put("screen_ndjson", "\ufeff" + lines[0] + "\n")
    put("screen_ndjson", lines[1][: len(lines[1]) // 2] + "\n" + lines[2] + "\n")
    # CSV: the header with one to three rows.
    rows = (root / "examples/screening-1000.csv").read_text().splitlines()
    for i in range(1, 40, 3):
        put("screen_csv", "\n".join([rows[0]] + rows[i:i + (1 + i % 3)]) + "\n")
    put("screen_csv", "\ufeff" + rows[0] + "\n" + rows[5] + "\n")
    put("screen_csv", "record_id,patient.age_years,medications\nx,70,\"furosemide 40 mg|2;atorvastatin\"\n")
    # FHIR: QuestionnaireResponses, nested and flat, alone and in Parameters with chart resources.
    chart = [
        ("patient", {"resourceType": "Patient", "id": "pat-1", "birthDate": "1950-03-02", "gender": "male"}),
        ("condition", {"resourceType": "Condition", "id": "c1", "clinicalStatus": {"coding": [{"code": "active"}]},
                       "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I73.9"}]}}),
        ("observation", {"resourceType": "Observation", "id": "o1", "status": "final",
                         "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}]},
                         "valueQuantity": {"value": 3.1, "unit": "mmol/L", "system": "http://unitsofmeasure.org", "code": "mmol/L"},
                         "effectiveDateTime": "2026-05-01"}),
        ("medication", {"resourceType": "MedicationRequest", "id": "m1", "status": "active", "intent": "order",
                        "medicationCodeableConcept": {"text": "hydrochlorothiazide 25 mg", "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "5487"}]},
                        "authoredOn": "2026-05-01"}),
    ]
    for n, r in enumerate(reqs):
        if not isinstance(r.get("history"), dict):
            continue
        qr = questionnaire_response(r["history"], f"qr-{n}", n % 2 == 0)
        put("fhir_questionnaire_response", json.dumps(qr))
        params = [{"name": "questionnaireResponse", "resource": qr}]
        if n % 3 == 0:
            params += [{"name": k, "resource": v} for k, v in chart]
        put("fhir_parameters", json.dumps({"resourceType": "Parameters", "parameter": params}))
        hook = json.loads((root / "tests/data/cds_hooks/patient-view-full-prefetch.json").read_text())
        if n % 2 == 0:
            hook["prefetch"]["intake"] = {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": qr}]}
        else:
            hook["prefetch"]["intake"] = qr
        put("cds_hooks_request", json.dumps(hook))
    hook = json.loads((root / "tests/data/cds_hooks/patient-view-full-prefetch.json").read_text())
    put("cds_hooks_request", json.dumps(hook))
    order = dict(hook, hook="order-select")
    order["context"] = dict(hook["context"], selections=["MedicationRequest/m1"],
                            draftOrders={"resourceType": "Bundle", "entry": [{"resource": chart[3][1]}]})
    put("cds_hooks_request", json.dumps(order))
    # JWT: `{header}\n{claims}` pairs (the target encodes them) and raw tokens.
    headers = [{"alg": "ES384", "typ": "JWT", "kid": "k1", "jku": "https://ehr.example.org/jwks"},
               {"alg": "RS256", "typ": "at+jwt", "kid": "api-1"}, {"alg": "none"}, {"alg": "HS256", "kid": "x"},
               {"alg": "PS384", "kid": "p", "typ": "application/at+jwt"}]
    claims = [{"iss": "https://ehr.example.org", "sub": "client", "aud": f"{BASE}/cds-services/cramp-patient-view",
               "exp": 1780000000, "iat": 1779999700, "jti": "a1b2", "tenant": "t1"},
              {"iss": "https://auth.example.org", "aud": "cramp-cds", "scope": "cramp.assess openid", "client_id": "c"},
              {"iss": "x", "scp": ["cramp.assess"], "exp": 1e300}]
    for h in headers:
        for c in claims:
            put("jwt_header", json.dumps(h) + "\n" + json.dumps(c))
    b64 = lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).rstrip(b"=").decode()
    for h, c in zip(headers, claims):
        put("jwt_header", f"{b64(h)}.{b64(c)}.c2ln")
    put("jwt_header", "a.b")
    put("jwt_header", "eyJhbGciOiJFUzM4NCJ9..")



def protobuf_seeds(reqs):
    from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory

    files = descriptor_pb2.FileDescriptorSet.FromString(descriptors.read_bytes())
    pool = descriptor_pool.DescriptorPool()
    for file in files.file:
        pool.Add(file)
    request_type = message_factory.GetMessageClass(pool.FindMessageTypeByName("cramp.v1.AssessRequest"))
    batch_type = message_factory.GetMessageClass(pool.FindMessageTypeByName("cramp.v1.AssessBatchRequest"))
    for n, r in enumerate(reqs):
        try:
            request = json_format.Parse(json.dumps(r), request_type())
        except json_format.ParseError:
            continue  # a vignette that is invalid on purpose in a way proto3 JSON cannot carry
        put("assess_request_proto", request.SerializeToString())
        record = batch_type(record_id=request.request_id or f"r{n}", view=n % 3)
        if request.HasField("history"):
            record.history.CopyFrom(request.history)
        put("batch_request_proto", record.SerializeToString())
    qr = questionnaire_response(reqs[0]["history"], "qr-proto", True)
    put("assess_request_proto", request_type(request_id="qr", questionnaire_response_json=json.dumps(qr)).SerializeToString())


main()
if descriptors:
    protobuf_seeds(requests())
