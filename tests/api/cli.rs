//! The real `cramp-cds` executable as a command-line tool: `assess` on files and stdin with its
//! exit statuses, `kb` as text and JSON, and configuration errors at start.

use std::{
    io::Write as _,
    process::{Command, Output, Stdio},
};

use cramp_cds::pb;
use cramp_core::KnowledgeBase;

use crate::helpers::repo_path;

fn cramp_cds(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cramp-cds"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[test]
fn assess_reads_an_example_file_and_prints_the_response_as_proto3_json() {
    for example in ["examples/claudication.json", "examples/new-thiazide.json"] {
        let path = repo_path(example);

        let output = cramp_cds(&["assess", path.to_str().unwrap()], "");

        assert_eq!(
            output.status.code(),
            Some(0),
            "{example}: {}",
            text(&output.stderr)
        );
        let response: pb::AssessResponse = serde_json::from_slice(&output.stdout).unwrap();
        assert!(response.request_id.starts_with("example-"));
        let raw: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let urgency = raw["assessment"]["urgency"].as_str().unwrap();
        assert!(
            urgency.starts_with("URGENCY_"),
            "enums print as names: {urgency}"
        );
        assert_eq!(
            raw["assessment"]["knowledge_base_version"],
            KnowledgeBase::standard().version()
        );
    }
}

#[test]
fn assess_reads_stdin_with_a_dash_or_no_argument() {
    let request = r#"{"request_id": "stdin-1", "history": {"patient": {"age_years": 44}}}"#;
    for args in [&["assess", "-"][..], &["assess"][..]] {
        let output = cramp_cds(args, request);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        let response: pb::AssessResponse = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(response.request_id, "stdin-1");
    }
}

#[test]
fn invalid_input_exits_2_listing_every_field_on_stderr() {
    let path = repo_path("examples/invalid.json");

    let output = cramp_cds(&["assess", path.to_str().unwrap()], "");

    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing is partially assessed");
    let stderr = text(&output.stderr);
    let fields: Vec<&str> = stderr
        .lines()
        .map(|l| l.split_once(": ").unwrap().0)
        .collect();
    assert_eq!(
        fields,
        [
            "history.patient.age_years",
            "history.patient.pregnant",
            "history.medications[0].name",
            "history.findings.labs.hba1c_percent"
        ],
        "{stderr}"
    );
}

#[test]
fn an_unknown_enum_value_exits_2_naming_its_field_as_grpc_does() {
    // Numbers as the gRPC door receives them, and a name no enum has.
    let json = r#"{"request_id": "enum-1", "history": {
        "patient": {"age_years": 0, "sex": 99},
        "cramps": {"locations": ["LOCATION_CALF", 77], "relief_on_standing_still": "RELIEF_ZZQX"},
        "symptoms": {"leg_swelling": 2}}}"#;
    let output = cramp_cds(&["assess", "-"], json);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(output.stdout.is_empty(), "nothing is partially assessed");
    let stderr = text(&output.stderr);
    assert!(
        !stderr.contains("ZZQX") && !stderr.contains("99"),
        "{stderr}"
    );
    let fields: Vec<&str> = stderr
        .lines()
        .map(|l| l.split_once(": ").unwrap().0)
        .collect();
    assert_eq!(
        fields,
        [
            "history.patient.sex",
            "history.cramps.locations[1]",
            "history.cramps.relief_on_standing_still",
            "history.patient.age_years"
        ],
        "{stderr}"
    );

    // The gRPC door's answer for the same numbers (the name cannot travel in binary protobuf).
    let request = pb::AssessRequest {
        request_id: "enum-1".into(),
        input: Some(pb::assess_request::Input::History(pb::CrampHistory {
            patient: Some(pb::Patient {
                age_years: Some(0),
                sex: 99,
                ..Default::default()
            }),
            cramps: Some(pb::Cramps {
                locations: vec![pb::Location::Calf as i32, 77],
                ..Default::default()
            }),
            ..Default::default()
        })),
    };
    let grpc: Vec<String> = match cramp_cds::assess::Assessor::local(KnowledgeBase::standard())
        .assess(
            &cramp_cds::assess::Call::local(cramp_cds::audit::Door::Cli),
            request,
            0,
        ) {
        Err(err) => err.violations().iter().map(|v| v.field.clone()).collect(),
        Ok(_) => panic!("accepted"),
    };
    assert_eq!(
        grpc,
        [
            "history.patient.sex",
            "history.cramps.locations[1]",
            "history.patient.age_years"
        ]
    );
    // Numbers for known values are read as before.
    let ok = cramp_cds(
        &["assess"],
        r#"{"history": {"patient": {"age_years": 40, "sex": 1}, "cramps": {"locations": [1]}}}"#,
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
}

#[test]
fn unparseable_or_unreadable_input_exits_1() {
    let garbage = cramp_cds(&["assess", "-"], "this is not json");
    assert_eq!(garbage.status.code(), Some(1));
    assert!(text(&garbage.stderr).contains("not an AssessRequest"));

    let typo = cramp_cds(
        &["assess"],
        r#"{"history": {"patient": {"age_yaers": 40}}}"#,
    );
    assert_eq!(
        typo.status.code(),
        Some(1),
        "unknown fields are not silently dropped"
    );

    let missing = cramp_cds(&["assess", "/nonexistent/request.json"], "");
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("/nonexistent/request.json"));
}

#[test]
fn kb_prints_every_rule_with_its_citations() {
    let kb = KnowledgeBase::standard();

    let output = cramp_cds(&["kb"], "");

    assert_eq!(output.status.code(), Some(0));
    let stdout = text(&output.stdout);
    assert!(stdout.contains(kb.version()));
    for rule in kb.rules() {
        assert!(stdout.contains(rule.id), "rule {} missing", rule.id);
    }
    for source in kb.sources() {
        assert!(stdout.contains(source.key), "source {} missing", source.key);
    }
}

#[test]
fn kb_json_is_the_get_knowledge_base_response() {
    let output = cramp_cds(&["kb", "--json"], "");

    assert_eq!(output.status.code(), Some(0));
    let response: pb::GetKnowledgeBaseResponse = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        response,
        cramp_cds::assess::knowledge_base(&KnowledgeBase::standard())
    );
}

#[test]
fn invalid_configuration_fails_at_start_naming_the_key() {
    let output = Command::new(env!("CARGO_BIN_EXE_cramp-cds"))
        .arg("serve")
        .env("CRAMP__SERVER__REFLECTION", "sometimes")
        .stdin(Stdio::null())
        .output()
        .unwrap();

    assert_ne!(output.status.code(), Some(0));
    assert!(
        text(&output.stderr).contains("server.reflection"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn an_invalid_setting_in_a_config_file_fails_at_start_naming_the_key() {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    writeln!(file, "[log]\nfilter = \"info,=[\"").unwrap();

    let output = Command::new(env!("CARGO_BIN_EXE_cramp-cds"))
        .args([
            "--config",
            file.path().to_str().unwrap(),
            "--grpc-addr",
            "127.0.0.1:0",
        ])
        .stdin(Stdio::null())
        .output()
        .unwrap();

    assert_ne!(output.status.code(), Some(0));
    assert!(
        text(&output.stderr).contains("log.filter"),
        "{}",
        text(&output.stderr)
    );
}
