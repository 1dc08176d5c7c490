//! PHI rule: run the real server with logs at TRACE, send histories full of distinctive answers,
//! and prove that none of them reaches a log line while the request id does.
//!
//! Checked twice: in-process with the service's own subscriber writing into a buffer, and through
//! the real binary's JSON logs on stdout.

use cramp_cds::pb::{self, cramp_assessment_service_client::CrampAssessmentServiceClient};
use tonic::transport::Channel;

use crate::helpers::{connect, spawn_app, spawn_binary};

const VALID_ID: &str = "log-capture-valid-5e1f";
const INVALID_ID: &str = "log-capture-invalid-9b2c";

/// Values that appear in the requests and must never appear in a log line. Numbers have enough
/// digits (or a decimal part after three digits) that they cannot occur by chance in a timestamp.
const SECRETS: &[&str] = &[
    "zzqx-distinctive-med-name",
    "zzqx-rxcui-31337",
    "ZZQX42",
    "zzqx-invalid-med-name",
    "487.125",
    "98765.4321",
    "8765.4321",
    "31415926",
    "1234567",
    "1999.875",
    "LOCATION_HAMSTRING",
    "RELIEF_WITHIN_10_MINUTES",
    "SMOKING_CURRENT",
    "SWELLING_ONE_LEG",
];

fn valid_request() -> pb::AssessRequest {
    pb::AssessRequest {
        request_id: VALID_ID.into(),
        input: Some(pb::assess_request::Input::History(pb::CrampHistory {
            patient: Some(pb::Patient {
                age_years: Some(97),
                sex: pb::Sex::Female.into(),
                ..pb::Patient::default()
            }),
            cramps: Some(pb::Cramps {
                locations: vec![pb::Location::Hamstring.into()],
                contexts: vec![pb::Context::Walking.into(), pb::Context::Night.into()],
                relief_on_standing_still: pb::Relief::Within10Minutes.into(),
                episodes_per_week: Some(487.125),
                pain_free_walking_meters: Some(31_415_926),
                ..pb::Cramps::default()
            }),
            symptoms: Some(pb::Symptoms {
                leg_swelling: pb::Swelling::OneLeg.into(),
                chest_pain: Some(true),
                ..pb::Symptoms::default()
            }),
            conditions: Some(pb::Conditions {
                smoking: pb::Smoking::Current.into(),
                ..pb::Conditions::default()
            }),
            medications: vec![
                pb::Medication {
                    name: "zzqx-distinctive-med-name".into(),
                    rxnorm_cui: Some("zzqx-rxcui-31337".into()),
                    atc_code: Some("ZZQX42".into()),
                    weeks_since_started: Some(3),
                    recently_stopped: None,
                },
                pb::Medication {
                    name: "hydrochlorothiazide 25 mg".into(),
                    ..pb::Medication::default()
                },
            ],
            findings: Some(pb::Findings {
                labs: Some(pb::Labs {
                    ck_u_l: Some(98765.4321),
                    vitamin_b12_pg_ml: Some(8765.4321),
                    ..pb::Labs::default()
                }),
                ..pb::Findings::default()
            }),
            ..pb::CrampHistory::default()
        })),
    }
}

fn invalid_request() -> pb::AssessRequest {
    pb::AssessRequest {
        request_id: INVALID_ID.into(),
        input: Some(pb::assess_request::Input::History(pb::CrampHistory {
            patient: Some(pb::Patient {
                age_years: Some(1_234_567),
                ..pb::Patient::default()
            }),
            medications: vec![
                pb::Medication {
                    name: "zzqx-invalid-med-name".into(),
                    ..pb::Medication::default()
                },
                pb::Medication::default(),
            ],
            findings: Some(pb::Findings {
                labs: Some(pb::Labs {
                    calcium_mg_dl: Some(1_999.875),
                    ..pb::Labs::default()
                }),
                ..pb::Findings::default()
            }),
            ..pb::CrampHistory::default()
        })),
    }
}

/// Sends one valid and one invalid request, checking they were answered as expected.
async fn exercise(channel: Channel) {
    let mut client = CrampAssessmentServiceClient::new(channel);
    let answer = client.assess(valid_request()).await.unwrap().into_inner();
    assert_eq!(answer.request_id, VALID_ID);
    let status = client.assess(invalid_request()).await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
}

/// Asserts the PHI rule on captured log text.
fn assert_no_patient_data(logs: &str) {
    assert!(logs.contains(VALID_ID), "the request id is logged");
    assert!(
        logs.contains(INVALID_ID),
        "the rejected request's id is logged"
    );
    assert!(
        logs.contains("history.patient.age_years"),
        "rejected field paths are logged"
    );
    let leaked: Vec<&&str> = SECRETS.iter().filter(|s| logs.contains(**s)).collect();
    assert!(leaked.is_empty(), "patient data in logs: {leaked:?}");
}

#[test]
fn in_process_trace_logs_carry_no_patient_data() {
    let logs = crate::helpers::capture_trace_logs(|| async {
        let app = spawn_app().await;
        exercise(app.channel().await).await;
        app.stop().await;
    });
    assert!(logs.lines().count() > 10, "TRACE captured the run: {logs}");
    assert_no_patient_data(&logs);
}

#[tokio::test]
async fn the_binary_json_logs_at_trace_carry_no_patient_data() {
    let server = spawn_binary("trace").await;
    exercise(connect(server.addr).await).await;

    let (code, lines) = server.terminate().await;

    assert_eq!(code, Some(0));
    for line in &lines {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "not a JSON log line: {line}"
        );
    }
    assert_no_patient_data(&lines.join("\n"));
}
