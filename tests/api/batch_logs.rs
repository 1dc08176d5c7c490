//! PHI rule for batches: stream histories full of distinctive answers at TRACE, through the
//! in-process server and through the real binaries (`serve`, and `screen --server` as its
//! client), and prove that record ids reach the logs while no answer does, and that `screen`
//! itself prints nothing but its summary.

use std::process::{Command, Stdio};

use cramp_cds::pb::{self, cramp_assessment_service_client::CrampAssessmentServiceClient};

use crate::helpers::{connect, spawn_app, spawn_binary};

/// Values in the records that must never appear in a log line or on `screen`'s stderr.
const SECRETS: &[&str] = &[
    "zzqx-batch-med-name",
    "zzqx-batch-rxcui",
    "QQZX77",
    "zzqx-invalid-batch-med",
    "487.375",
    "31415927",
    "98765.4375",
    "1234568",
    "LOCATION_HAMSTRING",
    "SMOKING_CURRENT",
];

fn records() -> Vec<pb::AssessBatchRequest> {
    let valid = pb::CrampHistory {
        patient: Some(pb::Patient {
            age_years: Some(96),
            ..pb::Patient::default()
        }),
        cramps: Some(pb::Cramps {
            locations: vec![pb::Location::Hamstring.into()],
            contexts: vec![pb::Context::Walking.into()],
            episodes_per_week: Some(487.375),
            pain_free_walking_meters: Some(31_415_927),
            ..pb::Cramps::default()
        }),
        conditions: Some(pb::Conditions {
            smoking: pb::Smoking::Current.into(),
            ..pb::Conditions::default()
        }),
        medications: vec![pb::Medication {
            name: "zzqx-batch-med-name".into(),
            rxnorm_cui: Some("zzqx-batch-rxcui".into()),
            atc_code: Some("QQZX77".into()),
            ..pb::Medication::default()
        }],
        findings: Some(pb::Findings {
            labs: Some(pb::Labs {
                ck_u_l: Some(98765.4375),
                ..pb::Labs::default()
            }),
            ..pb::Findings::default()
        }),
        ..pb::CrampHistory::default()
    };
    let invalid = pb::CrampHistory {
        patient: Some(pb::Patient {
            age_years: Some(1_234_568),
            ..pb::Patient::default()
        }),
        medications: vec![pb::Medication {
            name: "zzqx-invalid-batch-med".into(),
            ..pb::Medication::default()
        }],
        ..pb::CrampHistory::default()
    };
    (0..20)
        .map(|i| pb::AssessBatchRequest {
            record_id: format!("batch-log-{i}"),
            history: Some(if i % 4 == 3 {
                invalid.clone()
            } else {
                valid.clone()
            }),
            view: pb::AssessmentView::Unspecified.into(),
        })
        .collect()
}

fn assert_no_patient_data(logs: &str) {
    assert!(logs.contains("batch-log-0"), "record ids are logged");
    assert!(
        logs.contains("batch-log-3"),
        "rejected records' ids are logged"
    );
    assert!(
        logs.contains("batch stream closed"),
        "the stream's summary is logged"
    );
    let leaked: Vec<&&str> = SECRETS.iter().filter(|s| logs.contains(**s)).collect();
    assert!(leaked.is_empty(), "patient data in logs: {leaked:?}");
}

#[test]
fn in_process_stream_trace_logs_carry_no_patient_data() {
    let logs = crate::helpers::capture_trace_logs(|| async {
        let app = spawn_app().await;
        let mut client = CrampAssessmentServiceClient::new(app.channel().await);
        let mut answers = client
            .assess_batch(tokio_stream::iter(records()))
            .await
            .unwrap()
            .into_inner();
        let mut count = 0;
        while answers.message().await.unwrap().is_some() {
            count += 1;
        }
        assert_eq!(count, 20);
        drop(answers);
        drop(client);
        app.stop().await;
    });
    assert_no_patient_data(&logs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binaries_at_trace_log_ids_but_no_answers_and_screen_prints_only_its_summary() {
    let server = spawn_binary("trace").await;
    // Reachable before `screen` starts.
    drop(connect(server.addr).await);
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("secrets.ndjson");
    let mut text = Vec::new();
    for record in records() {
        serde_json::to_writer(&mut text, &record).unwrap();
        text.push(b'\n');
    }
    std::fs::write(&input, text).unwrap();
    let output = dir.path().join("out.ndjson");
    let url = format!("http://{}", server.addr);

    let screen = tokio::task::spawn_blocking({
        let (input, output) = (input.clone(), output.clone());
        move || {
            Command::new(env!("CARGO_BIN_EXE_cramp-cds"))
                .args(["screen", "--input"])
                .arg(&input)
                .arg("--output")
                .arg(&output)
                .args(["--server", &url])
                .env("CRAMP__LOG__FILTER", "trace")
                .env("RUST_LOG", "trace")
                .stdin(Stdio::null())
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let (code, lines) = server.terminate().await;

    assert_eq!(screen.status.code(), Some(0));
    assert!(screen.stdout.is_empty(), "the answers go to the file only");
    let stderr = String::from_utf8(screen.stderr).unwrap();
    assert!(
        stderr.starts_with("screened 20 records: 15 assessed, 5 errors"),
        "{stderr}"
    );
    let leaked: Vec<&&str> = SECRETS.iter().filter(|s| stderr.contains(**s)).collect();
    assert!(
        leaked.is_empty(),
        "patient data on screen's stderr: {leaked:?}"
    );
    let written = std::fs::read(&output).unwrap();
    assert_eq!(written.iter().filter(|&&b| b == b'\n').count(), 20);

    assert_eq!(code, Some(0));
    assert_no_patient_data(&lines.join("\n"));
}
