// The page's own code, bundled by check.mjs with esbuild: the two ways a browser intake form
// sends LHC-Forms' QuestionnaireResponse to cramp-cds. FHIR: `POST /fhir/$cramp-assess` with
// the response as the whole body. gRPC-Web: the `grpc-web` runtime's GrpcWebClientBase with a
// MethodDescriptor whose (de)serializers are protobufjs types loaded from the repository's
// proto/*.proto at run time (no protoc, no generated code).

import { GrpcWebClientBase, MethodDescriptor } from "grpc-web";
import protobuf from "protobufjs";

/** Loads the service's .proto files from the page server, imports resolved under /proto/. */
async function loadTypes() {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => `/proto/${target}`;
  await root.load("cramp/v1/cramp_assessment_service.proto", { keepCase: true });
  return {
    request: root.lookupType("cramp.v1.AssessRequest"),
    response: root.lookupType("cramp.v1.AssessResponse"),
  };
}

/** `$cramp-assess` with the response as the body: HTTP status and the parsed answer. */
async function assessFhir(httpBase, questionnaireResponse) {
  const answer = await fetch(`${httpBase}/fhir/$cramp-assess`, {
    method: "POST",
    headers: { "content-type": "application/fhir+json", accept: "application/fhir+json" },
    body: JSON.stringify(questionnaireResponse),
  });
  const text = await answer.text();
  let body = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = { unparsed: text.slice(0, 200) };
  }
  return { status: answer.status, contentType: answer.headers.get("content-type"), body };
}

/** `cramp.v1.CrampAssessmentService/Assess` over gRPC-Web with the response as JSON text. */
async function assessGrpcWeb(grpcBase, questionnaireResponse) {
  const types = await loadTypes();
  const descriptor = new MethodDescriptor(
    "/cramp.v1.CrampAssessmentService/Assess",
    "unary",
    Object,
    Object,
    (request) => types.request.encode(types.request.fromObject(request)).finish(),
    (bytes) => types.response.decode(bytes),
  );
  const client = new GrpcWebClientBase({ format: "binary" });
  const request = {
    request_id: "lforms-browser-check",
    questionnaire_response_json: JSON.stringify(questionnaireResponse),
  };
  try {
    const response = await client.unaryCall(
      `${grpcBase}/cramp.v1.CrampAssessmentService/Assess`,
      request,
      {},
      descriptor,
    );
    const object = types.response.toObject(response, { enums: String, defaults: false });
    return { code: 0, response: object };
  } catch (error) {
    return { code: error.code ?? -1, message: String(error.message ?? error) };
  }
}

window.crampCheck = { assessFhir, assessGrpcWeb };
window.crampCheckReady = true;
