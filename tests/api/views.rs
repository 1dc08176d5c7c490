//! `AssessmentView`: BASIC is FULL with the human-readable text left out, whatever the door
//! (the library, the `AssessBatch` stream, `screen --view basic`), and UNSPECIFIED is FULL.

use cramp_cds::{
    batch,
    pb::{self, assess_batch_response::Result as BatchResult},
    screen::synthetic,
};
use cramp_core::KnowledgeBase;
use tonic::Code;
use tonic_types::RpcStatusExt as _;

use crate::{
    helpers::{PATIENCE, spawn_app},
    vignettes::load_cases,
};

/// `full` with every field the BASIC view leaves out cleared (see `ASSESSMENT_VIEW_BASIC`).
fn without_texts(mut full: pb::Assessment) -> pb::Assessment {
    let no_display =
        |codings: &mut Vec<pb::Coding>| codings.iter_mut().for_each(|c| c.display.clear());
    full.urgency_rationale.clear();
    let possible = full
        .possible_flags
        .iter_mut()
        .filter_map(|p| p.flag.as_mut());
    for f in full.flags.iter_mut().chain(possible) {
        f.title.clear();
        f.rationale.clear();
        f.citations.clear();
        no_display(&mut f.codings);
    }
    for w in &mut full.workups {
        w.rationale.clear();
        no_display(&mut w.codings);
    }
    for m in &mut full.medication_findings {
        m.rationale.clear();
        m.advice.clear();
        m.citations.clear();
        no_display(&mut m.codings);
    }
    for a in &mut full.self_care {
        a.text.clear();
        a.evidence.clear();
    }
    for m in &mut full.missing_information {
        m.question.clear();
        m.why.clear();
    }
    full
}

fn record(id: &str, history: pb::CrampHistory, view: pb::AssessmentView) -> pb::AssessBatchRequest {
    pb::AssessBatchRequest {
        record_id: id.to_owned(),
        history: Some(history),
        view: view.into(),
    }
}

fn assessment(answer: pb::AssessBatchResponse) -> pb::Assessment {
    match answer.result {
        Some(BatchResult::Assessment(a)) => a,
        other => panic!("{}: not assessed: {other:?}", answer.record_id),
    }
}

#[test]
fn basic_is_full_without_the_texts_for_every_vignette() {
    let kb = KnowledgeBase::standard();
    let cases = load_cases();
    let mut checked = 0;
    for case in cases {
        let Some(pb::assess_request::Input::History(history)) = case.request.input else {
            continue;
        };
        let answer = |view| {
            batch::assess_record(
                &cramp_cds::assess::Assessor::local(kb),
                &cramp_cds::assess::Call::local(cramp_cds::audit::Door::Screen),
                record(&case.id, history.clone(), view),
            )
        };
        let unspecified = assessment(answer(pb::AssessmentView::Unspecified));
        let full = assessment(answer(pb::AssessmentView::Full));
        let basic = assessment(answer(pb::AssessmentView::Basic));
        assert_eq!(unspecified, full, "{}: UNSPECIFIED is FULL", case.id);
        assert!(
            !full.urgency_rationale.is_empty(),
            "{}: FULL has texts",
            case.id
        );
        assert_eq!(basic, without_texts(full), "{}", case.id);
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} vignettes with a history");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_answers_each_record_in_its_own_view() {
    let app = spawn_app().await;
    let mut client = app.client().await;
    let kb = KnowledgeBase::standard();
    let views = [
        pb::AssessmentView::Unspecified,
        pb::AssessmentView::Basic,
        pb::AssessmentView::Full,
    ];
    let mut records: Vec<pb::AssessBatchRequest> = synthetic::records(77)
        .filter(|r| r.invalid_fields.is_empty())
        .take(300)
        .enumerate()
        .map(|(i, r)| pb::AssessBatchRequest {
            view: views[i % views.len()].into(),
            ..r.request
        })
        .collect();
    // A view this contract does not know is a bad record, named `view`; the stream carries on.
    let mut unknown = records[0].clone();
    unknown.record_id = "unknown-view".into();
    unknown.view = 7;
    records.insert(1, unknown);

    let mut answers = client
        .assess_batch(tokio_stream::iter(records.clone()))
        .await
        .expect("the stream opens")
        .into_inner();
    let mut received = Vec::new();
    while let Some(answer) = tokio::time::timeout(PATIENCE, answers.message())
        .await
        .expect("answers keep coming")
        .expect("no stream error")
    {
        received.push(answer);
    }
    assert_eq!(received.len(), records.len());
    for (record, answer) in records.iter().zip(received) {
        assert_eq!(answer.record_id, record.record_id);
        if record.view == 7 {
            let Some(BatchResult::Error(status)) = answer.result else {
                panic!("an unknown view is answered with an error");
            };
            assert_eq!(status.code, Code::InvalidArgument as i32);
            let fields: Vec<String> = status
                .get_details_bad_request()
                .expect("BadRequest")
                .field_violations
                .into_iter()
                .map(|v| v.field)
                .collect();
            assert_eq!(fields, ["view"]);
            continue;
        }
        let full = assessment(batch::assess_record(
            &cramp_cds::assess::Assessor::local(kb),
            &cramp_cds::assess::Call::local(cramp_cds::audit::Door::Screen),
            pb::AssessBatchRequest {
                view: pb::AssessmentView::Full.into(),
                ..record.clone()
            },
        ));
        let got = assessment(answer);
        if record.view == i32::from(pb::AssessmentView::Basic) {
            assert_eq!(got, without_texts(full), "{}", record.record_id);
        } else {
            assert_eq!(got, full, "{}", record.record_id);
        }
    }
    app.stop().await;
}

fn screen(args: &[&str]) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_cramp-cds"))
        .arg("screen")
        .args(args)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Each NDJSON answer's assessment, read back through proto3 JSON.
fn read_assessments(path: &std::path::Path) -> Vec<(String, pb::Assessment)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            let id = value["record_id"].as_str().unwrap().to_owned();
            let assessment = serde_json::from_value(value["assessment"].clone())
                .unwrap_or_else(|e| panic!("{id}: {e}"));
            (id, assessment)
        })
        .collect()
}

#[test]
fn screen_view_basic_round_trips_and_csv_is_the_same_in_every_view() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.ndjson");
    let records: Vec<_> = synthetic::records(31)
        .filter(|r| r.invalid_fields.is_empty())
        .take(200)
        .collect();
    let mut bytes = Vec::new();
    synthetic::write_ndjson(records.iter().cloned(), &mut bytes).unwrap();
    std::fs::write(&input, bytes).unwrap();
    let input = input.to_str().unwrap();
    let out = |name: &str| dir.path().join(name);
    let run = |name: &str, extra: &[&str]| {
        let output = out(name);
        let mut args = vec!["--input", input, "--output", output.to_str().unwrap(), "-q"];
        args.extend_from_slice(extra);
        screen(&args);
    };
    run("default.ndjson", &[]);
    run("full.ndjson", &["--view", "full"]);
    run("basic.ndjson", &["--view", "basic"]);
    run("full.csv", &["--view", "full"]);
    run("basic.csv", &["--view", "basic"]);

    let default = std::fs::read(out("default.ndjson")).unwrap();
    assert!(
        default == std::fs::read(out("full.ndjson")).unwrap(),
        "full is the default"
    );
    assert!(
        std::fs::read(out("full.csv")).unwrap() == std::fs::read(out("basic.csv")).unwrap(),
        "CSV rows hold codes only"
    );

    let kb = KnowledgeBase::standard();
    let full = read_assessments(&out("full.ndjson"));
    let basic = read_assessments(&out("basic.ndjson"));
    assert_eq!(basic.len(), records.len());
    for ((record, (full_id, full)), (basic_id, basic)) in records.iter().zip(full).zip(basic) {
        let id = &record.request.record_id;
        assert_eq!((&full_id, &basic_id), (id, id));
        let library = assessment(batch::assess_record(
            &cramp_cds::assess::Assessor::local(kb),
            &cramp_cds::assess::Call::local(cramp_cds::audit::Door::Screen),
            pb::AssessBatchRequest {
                view: pb::AssessmentView::Basic.into(),
                ..record.request.clone()
            },
        ));
        assert_eq!(
            basic, library,
            "{id}: the file holds what the library answers"
        );
        assert_eq!(basic, without_texts(full), "{id}");
    }
    assert!(
        std::fs::metadata(out("basic.ndjson")).unwrap().len() * 3
            < std::fs::metadata(out("full.ndjson")).unwrap().len(),
        "BASIC answers are several times smaller"
    );
}
