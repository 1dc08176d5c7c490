//! OpenTelemetry end to end: a loopback OTLP collector (the OTLP gRPC `TraceService` and
//! `MetricsService` of `opentelemetry-proto`) receives what the real server exports.
//!
//! Checked twice: in-process with the test's own providers under a scoped subscriber, and through
//! the real binary configured only by the standard `OTEL_*` variables. Both send a caller
//! `traceparent` over gRPC and HTTP and require the server spans to continue that trace; both
//! require the RPC metrics with status names (a rejected `Assess`, streamed `AssessBatch` calls
//! whose status only the trailers carry) and the assessment counters; both scrape `/metrics`;
//! and both search everything exported for the patient data they sent.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use cramp_cds::{
    config::{LogFormat, LogSettings},
    pb::{self, cramp_assessment_service_client::CrampAssessmentServiceClient},
    telemetry::{Otel, OtelEnv, metrics::DURATION_BOUNDARIES_SECONDS},
};
use opentelemetry_proto::tonic::{
    collector::{
        metrics::v1::{
            ExportMetricsServiceRequest, ExportMetricsServiceResponse,
            metrics_service_server::{MetricsService, MetricsServiceServer},
        },
        trace::v1::{
            ExportTraceServiceRequest, ExportTraceServiceResponse,
            trace_service_server::{TraceService, TraceServiceServer},
        },
    },
    common::v1::{KeyValue, any_value::Value},
    metrics::v1::{Metric, metric::Data},
    trace::v1::{Span, span::SpanKind},
};
use serde_json::{Value as Json, json};
use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};
use tonic::transport::Channel;

use crate::{
    fhir_convert::{hook_request, now, parameters, prefetch, questionnaire_response},
    helpers::{PATIENCE, connect, spawn_app_at, spawn_binary_with, test_settings},
    http_support::Http,
};

/// The caller's trace and span for the gRPC call.
const GRPC_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const GRPC_PARENT: &str = "00f067aa0ba902b7";
/// The caller's trace and span for the CDS Hooks call.
const HTTP_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const HTTP_PARENT: &str = "b7ad6b7169203331";

/// A request id: fine in a span, never in a metric.
const REQUEST_ID: &str = "req-PHI-123";

/// Values that appear in the requests and must never appear in anything exported.
const SECRETS: &[&str] = &[
    "zzqvatorin",
    "zzqv-rxcui-4242",
    "Zzqvfamily",
    "Zzqvgiven",
    "1931-07-14",
    "zzqv-access-token",
    "zzqv-private-comment",
    "487.125",
    "31415926",
    "98765.4321",
    "LOCATION_HAMSTRING",
    "RELIEF_WITHIN_10_MINUTES",
    "SMOKING_CURRENT",
    "SWELLING_ONE_LEG",
];

const ASSESS: &str = "cramp.v1.CrampAssessmentService/Assess";
const ASSESS_BATCH: &str = "cramp.v1.CrampAssessmentService/AssessBatch";

/// What the collector received.
#[derive(Clone, Debug, Default)]
struct Received {
    traces: Vec<ExportTraceServiceRequest>,
    metrics: Vec<ExportMetricsServiceRequest>,
    /// `x-collector-token` metadata of every export (`OTEL_EXPORTER_OTLP_HEADERS`).
    tokens: Vec<String>,
}

#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Received>>);

impl Sink {
    fn token(&self, metadata: &tonic::metadata::MetadataMap) {
        if let Some(token) = metadata.get("x-collector-token") {
            let token = token.to_str().unwrap().to_owned();
            self.0.lock().unwrap().tokens.push(token);
        }
    }
}

#[tonic::async_trait]
impl TraceService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportTraceServiceRequest>,
    ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
        self.token(request.metadata());
        self.0.lock().unwrap().traces.push(request.into_inner());
        Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
    }
}

#[tonic::async_trait]
impl MetricsService for Sink {
    async fn export(
        &self,
        request: tonic::Request<ExportMetricsServiceRequest>,
    ) -> Result<tonic::Response<ExportMetricsServiceResponse>, tonic::Status> {
        self.token(request.metadata());
        self.0.lock().unwrap().metrics.push(request.into_inner());
        Ok(tonic::Response::new(ExportMetricsServiceResponse::default()))
    }
}

/// An OTLP/gRPC collector on a free loopback port.
struct Collector {
    addr: SocketAddr,
    sink: Sink,
    stop: oneshot::Sender<()>,
    handle: JoinHandle<Result<(), tonic::transport::Error>>,
}

impl Collector {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let sink = Sink::default();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(sink.clone()))
            .add_service(MetricsServiceServer::new(sink.clone()));
        let handle = tokio::spawn(server.serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(listener),
            async {
                let _ = stopped.await;
            },
        ));
        Self {
            addr,
            sink,
            stop,
            handle,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn stop(self) -> Received {
        let _ = self.stop.send(());
        self.handle.await.unwrap().unwrap();
        self.sink.0.lock().unwrap().clone()
    }
}

// ---- requests -------------------------------------------------------------------------------

fn traceparent(trace: &str, parent: &str) -> String {
    format!("00-{trace}-{parent}-01")
}

fn phi_history() -> pb::CrampHistory {
    pb::CrampHistory {
        patient: Some(pb::Patient {
            age_years: Some(83),
            sex: pb::Sex::Female.into(),
            ..pb::Patient::default()
        }),
        cramps: Some(pb::Cramps {
            locations: vec![pb::Location::Hamstring.into()],
            contexts: vec![pb::Context::Walking.into()],
            relief_on_standing_still: pb::Relief::Within10Minutes.into(),
            episodes_per_week: Some(487.125),
            pain_free_walking_meters: Some(31_415_926),
            ..pb::Cramps::default()
        }),
        symptoms: Some(pb::Symptoms {
            leg_swelling: pb::Swelling::OneLeg.into(),
            ..pb::Symptoms::default()
        }),
        conditions: Some(pb::Conditions {
            smoking: pb::Smoking::Current.into(),
            ..pb::Conditions::default()
        }),
        medications: vec![
            pb::Medication {
                name: "zzqvatorin".into(),
                rxnorm_cui: Some("zzqv-rxcui-4242".into()),
                weeks_since_started: Some(3),
                ..pb::Medication::default()
            },
            pb::Medication {
                name: "hydrochlorothiazide 25 mg".into(),
                weeks_since_started: Some(2),
                ..pb::Medication::default()
            },
        ],
        findings: Some(pb::Findings {
            labs: Some(pb::Labs {
                ck_u_l: Some(98765.4321),
                ..pb::Labs::default()
            }),
            ..pb::Findings::default()
        }),
        ..pb::CrampHistory::default()
    }
}

fn phi_request() -> pb::AssessRequest {
    pb::AssessRequest {
        request_id: REQUEST_ID.into(),
        input: Some(pb::assess_request::Input::History(phi_history())),
    }
}

fn batch_record(id: &str) -> pb::AssessBatchRequest {
    pb::AssessBatchRequest {
        record_id: id.into(),
        history: Some(phi_history()),
        view: pb::AssessmentView::Unspecified.into(),
    }
}

/// The same patient as CDS Hooks JSON.
fn http_history() -> Json {
    json!({
        "patient": {"age_years": 83, "sex": "SEX_FEMALE"},
        "cramps": {"locations": ["LOCATION_HAMSTRING"], "contexts": ["CONTEXT_WALKING"],
            "relief_on_standing_still": "RELIEF_WITHIN_10_MINUTES", "episodes_per_week": 487.125,
            "pain_free_walking_meters": 31_415_926},
        "medications": [{"name": "zzqvatorin", "weeks_since_started": 3},
            {"name": "hydrochlorothiazide 25 mg", "weeks_since_started": 2}],
        "findings": {"labs": {"ck_u_l": 98765.4321}}
    })
}

/// What one exercise of the server saw from the outside.
struct Exercised {
    /// Flag names of the gRPC assessment (what `cramp.flags` must count).
    flags: Vec<String>,
    /// Its urgency name (what `cramp.assessments` must count).
    urgency: String,
    /// The `/metrics` text.
    scrape: String,
}

/// Calls every door once or more with a caller's `traceparent` where it matters: a valid and a
/// rejected `Assess`, a clean and a capped `AssessBatch` stream (cap 2), a CDS Hooks call, a
/// feedback call and `$cramp-assess`; then scrapes `/metrics`.
async fn exercise(channel: Channel, http: &Http) -> Exercised {
    let mut client = CrampAssessmentServiceClient::new(channel);

    let mut request = tonic::Request::new(phi_request());
    request.metadata_mut().insert(
        "traceparent",
        traceparent(GRPC_TRACE, GRPC_PARENT).parse().unwrap(),
    );
    let answer = client.assess(request).await.unwrap().into_inner();
    let assessment = answer.assessment.unwrap();
    let flags: Vec<String> = assessment
        .flags
        .iter()
        .map(|f| pb::Flag::try_from(f.flag).unwrap().as_str_name().to_owned())
        .collect();
    assert!(!flags.is_empty(), "the history raises flags");
    let urgency = pb::Urgency::try_from(assessment.urgency)
        .unwrap()
        .as_str_name()
        .to_owned();

    let mut invalid = phi_request();
    invalid.request_id = "req-PHI-invalid".into();
    if let Some(pb::assess_request::Input::History(history)) = invalid.input.as_mut() {
        history.patient = Some(pb::Patient {
            age_years: Some(31_415_926),
            ..pb::Patient::default()
        });
    }
    let status = client.assess(invalid).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);

    for (records, expected) in [(2, tonic::Code::Ok), (3, tonic::Code::ResourceExhausted)] {
        let records: Vec<_> = (0..records)
            .map(|i| batch_record(&format!("rec-PHI-{i}")))
            .collect();
        let mut answers = client
            .assess_batch(tokio_stream::iter(records))
            .await
            .unwrap()
            .into_inner();
        let end = loop {
            match tokio::time::timeout(PATIENCE, answers.message())
                .await
                .unwrap()
            {
                Ok(Some(_)) => {}
                Ok(None) => break tonic::Code::Ok,
                Err(status) => break status.code(),
            }
        };
        assert_eq!(end, expected);
    }

    let mut hook = hook_request("patient-view", &prefetch(&http_history(), true));
    hook["prefetch"]["patient"]["birthDate"] = json!("1931-07-14");
    hook["prefetch"]["patient"]["name"] = json!([{"family": "Zzqvfamily", "given": ["Zzqvgiven"]}]);
    hook["fhirServer"] = json!("https://ehr.example.org/fhir");
    hook["fhirAuthorization"] = json!({"access_token": "zzqv-access-token",
        "token_type": "Bearer", "expires_in": 300, "scope": "patient/*.rs", "subject": "cramp-cds"});
    let answer = http
        .client()
        .post(http.url("/cds-services/leg-cramp-screen"))
        .header("content-type", "application/json")
        .header("traceparent", traceparent(HTTP_TRACE, HTTP_PARENT))
        .body(hook.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    let answer = http
        .post(
            "/cds-services/leg-cramp-screen/feedback",
            &json!({"feedback": [{"card": uuid::Uuid::new_v4().to_string(), "outcome": "overridden",
                "overrideReason": {"userComment": "zzqv-private-comment"},
                "outcomeTimestamp": "2026-06-15T12:00:00Z"}]}),
        )
        .await;
    assert_eq!(answer.status, 200);
    let response = questionnaire_response(&http_history(), "qr-otlp", false);
    let answer = http
        .post("/fhir/$cramp-assess", &parameters(&response, &[]))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);

    let scrape = http.get("/metrics").await;
    assert_eq!(scrape.status, 200);
    assert!(
        scrape.content_type().starts_with("text/plain"),
        "{}",
        scrape.content_type()
    );
    Exercised {
        flags,
        urgency,
        scrape: scrape.text,
    }
}

// ---- reading what was exported --------------------------------------------------------------

fn value(attributes: &[KeyValue], key: &str) -> Option<Value> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.clone())
        .and_then(|v| v.value)
}

fn string(attributes: &[KeyValue], key: &str) -> Option<String> {
    if let Value::StringValue(s) = value(attributes, key)? {
        Some(s)
    } else {
        None
    }
}

fn spans(received: &Received) -> Vec<&Span> {
    received
        .traces
        .iter()
        .flat_map(|r| &r.resource_spans)
        .flat_map(|r| &r.scope_spans)
        .flat_map(|s| &s.spans)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn metrics<'a>(received: &'a Received, name: &str) -> Vec<&'a Metric> {
    received
        .metrics
        .iter()
        .flat_map(|r| &r.resource_metrics)
        .flat_map(|r| &r.scope_metrics)
        .flat_map(|s| &s.metrics)
        .filter(|m| m.name == name)
        .collect()
}

/// The attribute sets of every data point of `name`, as sorted `key=value` strings.
fn point_attributes(received: &Received, name: &str) -> Vec<Vec<String>> {
    let render = |attributes: &[KeyValue]| {
        let mut pairs: Vec<String> = attributes
            .iter()
            .map(|kv| {
                let value = match kv.value.as_ref().and_then(|v| v.value.clone()) {
                    Some(Value::StringValue(s)) => s,
                    Some(Value::IntValue(i)) => i.to_string(),
                    other => format!("{other:?}"),
                };
                format!("{}={value}", kv.key)
            })
            .collect();
        pairs.sort();
        pairs
    };
    metrics(received, name)
        .into_iter()
        .flat_map(|metric| match &metric.data {
            Some(Data::Histogram(h)) => h
                .data_points
                .iter()
                .map(|p| render(&p.attributes))
                .collect::<Vec<_>>(),
            Some(Data::Sum(s)) => s
                .data_points
                .iter()
                .map(|p| render(&p.attributes))
                .collect(),
            other => panic!("{name}: unexpected data {other:?}"),
        })
        .collect()
}

fn has_point(received: &Received, name: &str, expected: &[&str]) -> bool {
    let mut expected: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    expected.sort();
    point_attributes(received, name).contains(&expected)
}

/// The service name of the exported resources.
fn service_names(received: &Received) -> Vec<String> {
    let traces = received
        .traces
        .iter()
        .flat_map(|r| &r.resource_spans)
        .filter_map(|r| r.resource.as_ref());
    let metrics = received
        .metrics
        .iter()
        .flat_map(|r| &r.resource_metrics)
        .filter_map(|r| r.resource.as_ref());
    traces
        .chain(metrics)
        .filter_map(|r| string(&r.attributes, "service.name"))
        .collect()
}

/// Everything the issue asks of what the collector received and of the scrape.
fn assert_exported(received: &Received, exercised: &Exercised) {
    let spans = spans(received);
    assert!(!spans.is_empty(), "spans were exported");

    // The gRPC server span continues the caller's trace.
    let grpc = spans
        .iter()
        .find(|s| hex(&s.trace_id) == GRPC_TRACE && s.name == ASSESS)
        .unwrap_or_else(|| panic!("no Assess span in the caller's trace: {spans:#?}"));
    assert_eq!(hex(&grpc.parent_span_id), GRPC_PARENT);
    assert_eq!(grpc.kind, SpanKind::Server as i32);
    assert_eq!(
        string(&grpc.attributes, "rpc.system.name").as_deref(),
        Some("grpc")
    );
    assert_eq!(
        string(&grpc.attributes, "rpc.method").as_deref(),
        Some(ASSESS)
    );
    assert_eq!(
        string(&grpc.attributes, "rpc.response.status_code").as_deref(),
        Some("OK")
    );
    // Rule evaluation is an event of a span of that call, with timing and counts only.
    let evaluated = spans
        .iter()
        .filter(|s| hex(&s.trace_id) == GRPC_TRACE)
        .flat_map(|s| &s.events)
        .find(|e| e.name == "rules_evaluated")
        .expect("a rules_evaluated event in the gRPC call's trace");
    for key in ["evaluation_us", "rule_count", "flag_count"] {
        assert!(
            value(&evaluated.attributes, key).is_some(),
            "{key}: {evaluated:?}"
        );
    }

    // The HTTP server span continues the caller's trace, named by the route template.
    let http = spans
        .iter()
        .find(|s| hex(&s.trace_id) == HTTP_TRACE && s.kind == SpanKind::Server as i32)
        .unwrap_or_else(|| panic!("no HTTP server span in the caller's trace: {spans:#?}"));
    assert_eq!(hex(&http.parent_span_id), HTTP_PARENT);
    assert_eq!(http.name, "POST /cds-services/{id}");
    assert_eq!(
        string(&http.attributes, "http.route").as_deref(),
        Some("/cds-services/{id}")
    );
    assert!(
        spans
            .iter()
            .filter(|s| hex(&s.trace_id) == HTTP_TRACE)
            .flat_map(|s| &s.events)
            .any(|e| e.name == "rules_evaluated"),
        "the CDS Hooks call evaluated rules in the caller's trace"
    );

    // The rejected call and the capped stream carry their status names.
    let statuses: Vec<(String, String)> = spans
        .iter()
        .filter_map(|s| {
            Some((
                string(&s.attributes, "rpc.method")?,
                string(&s.attributes, "rpc.response.status_code")?,
            ))
        })
        .collect();
    for (method, status) in [
        (ASSESS, "INVALID_ARGUMENT"),
        (ASSESS_BATCH, "OK"),
        (ASSESS_BATCH, "RESOURCE_EXHAUSTED"),
    ] {
        assert!(
            statuses.contains(&(method.to_owned(), status.to_owned())),
            "{method} {status}: {statuses:?}"
        );
    }

    // RED metrics: seconds, explicit second-scale buckets, semconv attributes, status names.
    let durations = metrics(received, "rpc.server.call.duration");
    assert!(!durations.is_empty(), "rpc.server.call.duration exported");
    for metric in &durations {
        assert_eq!(metric.unit, "s");
        let Some(Data::Histogram(histogram)) = &metric.data else {
            panic!("not a histogram: {metric:?}");
        };
        for point in &histogram.data_points {
            assert_eq!(point.explicit_bounds, DURATION_BOUNDARIES_SECONDS);
        }
    }
    let rpc = |method: &str, status: &str| {
        let mut attributes = vec![
            "rpc.system.name=grpc".to_owned(),
            format!("rpc.method={method}"),
            format!("rpc.response.status_code={status}"),
        ];
        if status != "OK" {
            attributes.push(format!("error.type={status}"));
        }
        attributes
    };
    for (method, status) in [
        (ASSESS, "OK"),
        (ASSESS, "INVALID_ARGUMENT"),
        (ASSESS_BATCH, "OK"),
        (ASSESS_BATCH, "RESOURCE_EXHAUSTED"),
    ] {
        let expected = rpc(method, status);
        let expected: Vec<&str> = expected.iter().map(String::as_str).collect();
        assert!(
            has_point(received, "rpc.server.call.duration", &expected),
            "{expected:?} in {:?}",
            point_attributes(received, "rpc.server.call.duration")
        );
    }
    let http_durations = metrics(received, "http.server.request.duration");
    assert!(http_durations.iter().all(|m| m.unit == "s"));
    assert!(
        has_point(
            received,
            "http.server.request.duration",
            &[
                "http.request.method=POST",
                "http.route=/cds-services/{id}",
                "http.response.status_code=200"
            ]
        ),
        "{:?}",
        point_attributes(received, "http.server.request.duration")
    );

    // What the service decided, in aggregate.
    assert!(has_point(
        received,
        "cramp.assessments",
        &[&format!("cramp.urgency={}", exercised.urgency)]
    ));
    for flag in &exercised.flags {
        assert!(
            has_point(received, "cramp.flags", &[&format!("cramp.flag={flag}")]),
            "{flag}: {:?}",
            point_attributes(received, "cramp.flags")
        );
    }

    // The same numbers for Prometheus, from the same meter provider.
    let scrape = &exercised.scrape;
    assert!(
        scrape.lines().any(
            |l| l.starts_with("rpc_server_call_duration_seconds_bucket{")
                && l.contains(&format!("rpc_method=\"{ASSESS}\""))
                && l.contains("rpc_response_status_code=\"OK\"")
                && l.contains("rpc_system_name=\"grpc\"")
        ),
        "{scrape}"
    );
    assert!(
        scrape
            .lines()
            .any(|l| l.starts_with("cramp_assessments_total{")
                && l.contains(&format!("cramp_urgency=\"{}\"", exercised.urgency))),
        "{scrape}"
    );
    assert!(
        scrape.lines().any(|l| l.starts_with("cramp_flags_total{")
            && l.contains(&format!("cramp_flag=\"{}\"", exercised.flags[0]))),
        "{scrape}"
    );
    assert!(
        scrape.contains("http_server_request_duration_seconds_bucket{"),
        "{scrape}"
    );
}

/// No patient value anywhere; the request id may be in spans, never in metrics; the audit trail
/// (who, which patient pseudonym, which flags) stays out of traces.
fn assert_no_patient_data(received: &Received, scrape: &str) {
    let traces = format!("{:?}", received.traces);
    let metrics = format!("{:?}", received.metrics);
    assert!(traces.contains(REQUEST_ID), "the request id is on the span");
    assert!(
        !traces.contains("assessment audited") && !traces.contains("hmac-sha256"),
        "the audit trail reached a trace"
    );
    for (what, text) in [
        ("traces", &traces),
        ("metrics", &metrics),
        ("/metrics", &scrape.to_owned()),
    ] {
        let leaked: Vec<&&str> = SECRETS.iter().filter(|s| text.contains(**s)).collect();
        assert!(leaked.is_empty(), "patient data in {what}: {leaked:?}");
    }
    for text in [&metrics, &scrape.to_owned()] {
        assert!(
            !text.contains("req-PHI"),
            "a request id became a metric label"
        );
        assert!(
            !text.contains("rec-PHI"),
            "a record id became a metric label"
        );
    }
}

// ---- the tests ------------------------------------------------------------------------------

#[test]
fn in_process_spans_continue_the_callers_trace_and_metrics_reach_the_collector() {
    crate::helpers::init_tracing();
    // The collector and the exporters' gRPC channels run on their own runtime, so flushing never
    // waits on the server's single-threaded one.
    let collector_runtime = tokio::runtime::Runtime::new().unwrap();
    let collector = collector_runtime.block_on(Collector::start());

    let mut settings = test_settings();
    settings.telemetry.otlp_endpoint = collector.endpoint();
    settings.batch.max_records_per_stream = std::num::NonZeroU64::new(2).unwrap();
    let otel = {
        let _runtime = collector_runtime.enter();
        Otel::start(&settings.telemetry, &OtelEnv::default()).unwrap()
    };
    let logs = LogSettings {
        format: LogFormat::Text,
        filter: "info".into(),
    };
    let subscriber =
        cramp_cds::telemetry::subscriber_with(&logs, std::io::sink, false, &otel).unwrap();
    // A current-thread runtime runs the server, its tasks and the clients on this thread, where
    // the scoped subscriber (this test's providers) is installed.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let exercised = tracing::subscriber::with_default(subscriber, || {
        runtime.block_on(async {
            let app = spawn_app_at(settings, Some(now())).await;
            let exercised = exercise(app.channel().await, &app.http()).await;
            app.stop().await;
            exercised
        })
    });

    collector_runtime.block_on(otel.shutdown()).unwrap();
    let received = collector_runtime.block_on(collector.stop());

    assert_exported(&received, &exercised);
    assert!(
        service_names(&received).iter().all(|n| n == "cramp-cds"),
        "{:?}",
        service_names(&received)
    );
    assert_no_patient_data(&received, &exercised.scrape);
}

#[tokio::test]
async fn the_binary_exports_to_the_collector_named_by_the_standard_variables() {
    let collector = Collector::start().await;
    let endpoint = collector.endpoint();
    let server = spawn_binary_with(
        "info",
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "x-collector-token=zzqv-collector",
            ),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "5000"),
            ("OTEL_SERVICE_NAME", "cramp-cds-under-test"),
            ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment.name=ci"),
            ("CRAMP__BATCH__MAX_RECORDS_PER_STREAM", "2"),
        ],
    )
    .await;
    let exercised = exercise(connect(server.addr).await, &Http::at(server.http_addr)).await;

    // Flushed at shutdown: nothing is exported before (the interval is a minute).
    let (code, _) = server.terminate().await;
    assert_eq!(code, Some(0));
    let received = collector.stop().await;

    assert_exported(&received, &exercised);
    let names = service_names(&received);
    assert!(
        !names.is_empty() && names.iter().all(|n| n == "cramp-cds-under-test"),
        "{names:?}"
    );
    let environment = received
        .traces
        .iter()
        .flat_map(|r| &r.resource_spans)
        .filter_map(|r| r.resource.as_ref())
        .filter_map(|r| string(&r.attributes, "deployment.environment.name"))
        .next();
    assert_eq!(environment.as_deref(), Some("ci"));
    assert!(
        !received.tokens.is_empty() && received.tokens.iter().all(|t| t == "zzqv-collector"),
        "OTEL_EXPORTER_OTLP_HEADERS reach the collector: {:?}",
        received.tokens
    );
    assert_no_patient_data(&received, &exercised.scrape);
}

#[tokio::test]
async fn metrics_are_not_served_when_prometheus_is_off() {
    let server = spawn_binary_with("info", &[("CRAMP__TELEMETRY__PROMETHEUS", "false")]).await;
    let http = Http::at(server.http_addr);
    assert_eq!(http.get("/metrics").await.status, 404);
    assert_eq!(
        http.get("/about").await.status,
        200,
        "the door still serves"
    );
    let (code, _) = server.terminate().await;
    assert_eq!(code, Some(0));
}
