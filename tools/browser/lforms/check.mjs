// LHC-Forms (NLM's `lforms`, from npm) renders the published patient intake Questionnaire in
// Debian's headless Chromium, a patient fills it through the rendered widgets, and LHC-Forms' own
// QuestionnaireResponse is assessed from the page through `POST /fhir/$cramp-assess` and through
// gRPC-Web (the `grpc-web` runtime with protobufjs types loaded from proto/, bundled with esbuild).
// Fails loudly on anything unexpected; keeps a screenshot and the response in the artifact folder.
//
// The cramp-cds binary is started here on loopback (ports chosen by the OS) with this page's
// origin as its only allowed CORS origin, since the origin must be known before it starts.
//
// usage: node check.mjs CRAMP_CDS_BINARY ARTIFACT_DIR

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { checklist, launchChromium } from "../chromium.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../../..");
const [binary, artifacts] = process.argv.slice(2);
if (!binary || !artifacts) {
  console.error("usage: node check.mjs CRAMP_CDS_BINARY ARTIFACT_DIR");
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });

const { problems, check } = checklist();

// --- the page server: the page, LHC-Forms' files, the bundled app, the .proto files ---------
const lformsDist = join(here, "node_modules/lforms/dist/lforms");
const bundle = await build({
  entryPoints: [join(here, "app.js")],
  bundle: true,
  format: "esm",
  platform: "browser",
  write: false,
  logLevel: "silent",
});
const appJs = bundle.outputFiles[0].text;
const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>cramp-cds intake (LHC-Forms)</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/lforms/webcomponent/styles.css">
<script src="/lforms/webcomponent/assets/lib/zone.min.js"></script>
<script src="/lforms/webcomponent/runtime.js" type="module"></script>
<script src="/lforms/webcomponent/polyfills.js" type="module"></script>
<script src="/lforms/webcomponent/main.js" type="module"></script>
<script src="/lforms/fhir/R4/lformsFHIR.min.js" defer></script>
<script src="/app.js" type="module"></script>
</head>
<body>
<h1>Leg-cramp intake</h1>
<div id="form"></div>
<h2>Clinician</h2>
<div id="clinician"></div>
</body>
</html>`;
const types = {
  ".js": "text/javascript",
  ".css": "text/css",
  ".png": "image/png",
  ".proto": "text/plain",
  ".map": "application/json",
  ".ico": "image/x-icon",
};
/** A file under `root` named by `path`, or null when it escapes `root` or does not exist. */
function fileUnder(root, path) {
  const full = normalize(join(root, decodeURIComponent(path)));
  return full.startsWith(root + "/") && existsSync(full) ? full : null;
}
const pageServer = createServer((request, response) => {
  const url = new URL(request.url, "http://page");
  let body = null;
  let type = "text/html";
  if (url.pathname === "/") {
    body = page;
  } else if (url.pathname === "/app.js") {
    body = appJs;
    type = types[".js"];
  } else {
    const [root, rest] = url.pathname.startsWith("/lforms/")
      ? [lformsDist, url.pathname.slice("/lforms/".length)]
      : url.pathname.startsWith("/proto/")
        ? [join(repo, "proto"), url.pathname.slice("/proto/".length)]
        : [null, null];
    const file = root && fileUnder(root, rest);
    if (file) {
      body = readFileSync(file);
      type = types[extname(file)] ?? "application/octet-stream";
    }
  }
  if (body === null) {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { "content-type": type }).end(body);
});
await new Promise((ok) => pageServer.listen(0, "127.0.0.1", ok));
const origin = `http://127.0.0.1:${pageServer.address().port}`;

// --- the service ------------------------------------------------------------------------------
const server = spawn(
  binary,
  ["serve", "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"],
  {
    env: {
      ...process.env,
      CRAMP__LOG__FORMAT: "json",
      CRAMP__LOG__FILTER: "info",
      CRAMP__HTTP__ALLOWED_ORIGINS: origin,
    },
    stdio: ["ignore", "pipe", "pipe"],
  },
);
let serverLog = "";
const addresses = await new Promise((ok, fail) => {
  const timer = setTimeout(() => fail(new Error("the server did not report its address in 30 s")), 30000);
  const read = (chunk) => {
    serverLog += chunk;
    for (const line of serverLog.split("\n")) {
      try {
        const fields = JSON.parse(line).fields ?? {};
        if (fields.message === "serving") {
          clearTimeout(timer);
          ok({ grpc: `http://${fields.grpc_addr}`, http: `http://${fields.http_addr}` });
          return;
        }
      } catch {
        // not a JSON line (yet)
      }
    }
  };
  server.stdout.on("data", read);
  server.stderr.on("data", read);
  server.on("exit", (code) => fail(new Error(`the server exited (${code}) before serving:\n${serverLog}`)));
});
console.log(`page ${origin}; cramp-cds HTTP ${addresses.http}, gRPC(-Web) ${addresses.grpc}`);

// --- the browser ------------------------------------------------------------------------------
const { context, close } = await launchChromium(chromium, "cramp-lforms-chromium-");

let exitCode = 0;
try {
  await run(context);
} catch (error) {
  problems.push(String(error?.stack ?? error));
  console.log(`FAIL ${error?.stack ?? error}`);
} finally {
  await close();
  pageServer.close();
  server.kill("SIGTERM");
}
if (problems.length > 0) {
  console.error(`\n${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
  exitCode = 1;
}
console.log(`artifacts in ${artifacts}`);
process.exit(exitCode);

async function run(context) {
  const tab = await context.newPage();
  const errors = [];
  tab.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  tab.on("pageerror", (error) => errors.push(String(error)));
  tab.on("response", (answer) => {
    if (answer.status() >= 400) errors.push(`${answer.status()} from ${answer.url()}`);
  });
  await tab.goto(`${origin}/`, { waitUntil: "load" });
  await tab.waitForFunction(() => window.LForms?.Util && window.crampCheckReady, null, { timeout: 30000 });

  // The Questionnaire as the service publishes it, fetched by the page (CORS).
  const questionnaire = await tab.evaluate(async (http) => {
    const answer = await fetch(`${http}/fhir/Questionnaire/cramp-intake`, {
      headers: { accept: "application/fhir+json" },
    });
    return answer.json();
  }, addresses.http);
  check(questionnaire.resourceType === "Questionnaire", "the patient Questionnaire is served");
  const rendered = await tab.evaluate(async (q) => {
    try {
      await window.LForms.Util.addFormToPage(q, "form", { prepopulate: false });
      return null;
    } catch (error) {
      return JSON.stringify(error, Object.getOwnPropertyNames(error?.[0] ?? error ?? {}));
    }
  }, questionnaire);
  check(rendered === null, `LHC-Forms renders the Questionnaire (${rendered ?? "no error"})`);
  await tab.getByText("Age in years").first().waitFor({ timeout: 30000 });
  // EXPLORE=1 keeps the rendered DOM and stops: how the widgets' ids were found.
  if (process.env.EXPLORE) {
    writeFileSync(join(artifacts, "lforms-dom.html"), await tab.content());
    await tab.screenshot({ path: join(artifacts, "lforms-explore.png"), fullPage: true });
    return;
  }
  await fillAndAssess(tab, questionnaire, errors);
}

/** The element LHC-Forms renders for the first instance of item `linkId` (ids hold `.`, `/`). */
function field(tab, linkId) {
  return tab.locator(`[id="${linkId}/1/1"]`);
}

/** Types into a text or number box as a person would, then leaves it. */
async function type(tab, linkId, text) {
  const box = field(tab, linkId);
  await box.click();
  await box.pressSequentially(text, { delay: 10 });
  await box.press("Tab");
}

/** Clicks the Yes or No radio button of a boolean item. */
async function yesNo(tab, linkId, value) {
  await tab.locator(`[id="${linkId}/1/1|${value}"]`).click();
}

/** Picks `display` in a choice item's autocomplete list: type a prefix, click the entry. */
async function choose(tab, linkId, display) {
  const box = field(tab, linkId);
  await box.click();
  await box.pressSequentially(display.slice(0, 4), { delay: 20 });
  const entry = tab.locator("#lhc-tools-searchResults li", { hasText: display }).first();
  await entry.waitFor({ state: "visible", timeout: 5000 });
  await entry.click();
  await box.press("Tab");
}

async function fillAndAssess(tab, questionnaire, errors) {
  // The answers below are a claudication history (calf pain on walking, worse uphill, gone
  // within 10 minutes of standing still, never at rest) in a smoker with diabetes: the service
  // must find the PAD pattern and nothing else.
  const EXPECTED_FLAGS = ["FLAG_PAD_PATTERN"];
  const hidden = (linkId) => field(tab, linkId).count().then((n) => n === 0);
  check(await hidden("patient.pregnant"), "pregnancy is not asked before sex is answered");
  check(
    await hidden("medications.rxnorm_cui"),
    "the medicine codes are hidden (questionnaire-hidden), only the name is asked",
  );
  check(
    (await tab.getByText("Potassium (mmol/L)").count()) === 0,
    "the patient's form asks no lab value",
  );

  await type(tab, "patient.age_years", "68");
  await choose(tab, "patient.sex", "Female");
  await field(tab, "patient.pregnant").first().waitFor({ state: "attached", timeout: 5000 }).catch(() => {});
  check(!(await hidden("patient.pregnant")) || (await tab.locator('[id="patient.pregnant/1/1|false"]').count()) > 0,
    "pregnancy is asked once sex is Female (enableWhen)");
  await yesNo(tab, "patient.pregnant", false);
  await choose(tab, "cramps.locations", "Calf");
  check(
    (await tab.locator('[id="cramps.worse_uphill_or_hurrying/1/1|true"]').count()) === 0,
    "the walking questions wait for a walking context",
  );
  await choose(tab, "cramps.contexts", "Walking");
  await yesNo(tab, "cramps.worse_uphill_or_hurrying", true);
  await yesNo(tab, "cramps.starts_when_standing_still_or_sitting", false);
  await choose(tab, "cramps.relief_on_standing_still", "Within 10 minutes");
  await type(tab, "cramps.pain_free_walking_meters", "200");
  await type(tab, "cramps.weeks_since_onset", "30");
  await yesNo(tab, "cramps.wakes_from_sleep", false);
  await choose(tab, "conditions.smoking", "Current");
  await choose(tab, "conditions.diabetes", "Type 2");
  await type(tab, "conditions.diabetes_years", "10");
  // The medicines group is left empty: a patient who takes none.
  await tab.locator("h1").click();

  await tab.locator("#form").screenshot({ path: join(artifacts, "lforms-intake.png") });

  // LHC-Forms' own QuestionnaireResponse, unchanged.
  const response = await tab.evaluate(() => {
    return window.LForms.Util.getFormFHIRData(
      "QuestionnaireResponse",
      "R4",
      document.getElementById("form"),
    );
  });
  writeFileSync(join(artifacts, "lforms-questionnaire-response.json"), JSON.stringify(response, null, 2));
  check(response?.resourceType === "QuestionnaireResponse", "LHC-Forms gives a QuestionnaireResponse");
  check(
    response?.questionnaire === `${questionnaire.url}|${questionnaire.version}`,
    `it names the Questionnaire with its version (${response?.questionnaire})`,
  );
  const answered = [];
  const walk = (items) => {
    for (const item of items ?? []) {
      if (item.answer?.length) answered.push(item.linkId);
      walk(item.item);
      for (const answer of item.answer ?? []) walk(answer.item);
    }
  };
  walk(response?.item);
  const expected = [
    "patient.age_years", "patient.sex", "patient.pregnant", "cramps.locations", "cramps.contexts",
    "cramps.worse_uphill_or_hurrying", "cramps.starts_when_standing_still_or_sitting",
    "cramps.relief_on_standing_still", "cramps.pain_free_walking_meters", "cramps.weeks_since_onset",
    "cramps.wakes_from_sleep", "conditions.smoking", "conditions.diabetes", "conditions.diabetes_years",
  ];
  const missing = expected.filter((id) => !answered.includes(id));
  check(missing.length === 0, `every answer typed or clicked is in it (missing: ${missing.join(", ") || "none"})`);
  check(!answered.some((id) => id.startsWith("medications")), "the empty medicines group answers nothing");

  // (a) FHIR, from the page.
  const fhir = await tab.evaluate(
    ([http, qr]) => window.crampCheck.assessFhir(http, qr),
    [addresses.http, response],
  );
  writeFileSync(join(artifacts, "lforms-cramp-assess-bundle.json"), JSON.stringify(fhir.body, null, 2));
  check(fhir.status === 200, `$cramp-assess answers 200 (${fhir.status}: ${JSON.stringify(fhir.body).slice(0, 300)})`);
  check(fhir.body?.resourceType === "Bundle", `it is a Bundle (${fhir.body?.resourceType})`);
  const fhirFlags = (fhir.body?.entry ?? [])
    .map((e) => e.resource)
    .filter((r) => r?.resourceType === "RiskAssessment")
    .flatMap((r) => r.prediction ?? [])
    .map((p) => p.outcome?.coding?.[0]?.code)
    .sort();
  check(
    JSON.stringify(fhirFlags) === JSON.stringify(EXPECTED_FLAGS),
    `$cramp-assess finds ${EXPECTED_FLAGS.join(", ")} (${fhirFlags.join(", ") || "none"})`,
  );

  // (b) gRPC-Web, from the page.
  const grpc = await tab.evaluate(
    ([base, qr]) => window.crampCheck.assessGrpcWeb(base, qr),
    [addresses.grpc, response],
  );
  writeFileSync(join(artifacts, "lforms-grpc-web-response.json"), JSON.stringify(grpc, null, 2));
  check(grpc.code === 0, `gRPC-Web Assess is OK (code ${grpc.code}${grpc.message ? `: ${grpc.message}` : ""})`);
  const grpcFlags = (grpc.response?.assessment?.flags ?? []).map((f) => f.flag).sort();
  check(
    JSON.stringify(grpcFlags) === JSON.stringify(EXPECTED_FLAGS),
    `gRPC-Web finds ${EXPECTED_FLAGS.join(", ")} (${grpcFlags.join(", ") || "none"})`,
  );

  // (c) The clinician's companion form in LHC-Forms too, one lab value typed in, and both
  // responses sent together as Parameters (one questionnaireResponse per Questionnaire).
  const companion = await tab.evaluate(async (http) => {
    const answer = await fetch(`${http}/fhir/Questionnaire/cramp-intake-clinician`, {
      headers: { accept: "application/fhir+json" },
    });
    const q = await answer.json();
    await window.LForms.Util.addFormToPage(q, "clinician", { prepopulate: false });
    return q;
  }, addresses.http);
  const potassium = tab.locator('#clinician input[id^="findings.labs.potassium_mmol_l/"]').first();
  await potassium.waitFor({ timeout: 30000 });
  await potassium.click();
  await potassium.pressSequentially("3.1", { delay: 10 });
  await potassium.press("Tab");
  const clinicianResponse = await tab.evaluate(() =>
    window.LForms.Util.getFormFHIRData(
      "QuestionnaireResponse",
      "R4",
      document.getElementById("clinician"),
    ),
  );
  writeFileSync(
    join(artifacts, "lforms-clinician-questionnaire-response.json"),
    JSON.stringify(clinicianResponse, null, 2),
  );
  check(
    clinicianResponse?.questionnaire === `${companion.url}|${companion.version}`,
    `the clinician's response names its own Questionnaire (${clinicianResponse?.questionnaire})`,
  );
  const both = await tab.evaluate(
    ([http, patientQr, clinicianQr]) =>
      window.crampCheck.assessFhir(http, {
        resourceType: "Parameters",
        parameter: [
          { name: "questionnaireResponse", resource: patientQr },
          { name: "questionnaireResponse", resource: clinicianQr },
        ],
      }),
    [addresses.http, response, clinicianResponse],
  );
  writeFileSync(join(artifacts, "lforms-cramp-assess-both-bundle.json"), JSON.stringify(both.body, null, 2));
  const bothFlags = (both.body?.entry ?? [])
    .map((e) => e.resource)
    .filter((r) => r?.resourceType === "RiskAssessment")
    .flatMap((r) => r.prediction ?? [])
    .map((p) => p.outcome?.coding?.[0]?.code)
    .sort();
  const expectedBoth = ["FLAG_ELECTROLYTE_IMBALANCE_RISK", ...EXPECTED_FLAGS].sort();
  check(
    both.status === 200 && JSON.stringify(bothFlags) === JSON.stringify(expectedBoth),
    `both responses together: ${both.status}, ${expectedBoth.join(", ")} (${bothFlags.join(", ") || "none"})`,
  );
  await tab.screenshot({ path: join(artifacts, "lforms-page.png"), fullPage: true });
  check(errors.length === 0, `no console error (${errors.join("; ") || "none"})`);
}
