//! The real `cramp-cds screen` executable on files and pipes: NDJSON and CSV in and out, bad
//! lines answered in place, the summary, `--resume` after a real SIGKILL, and remote mode
//! writing exactly what in-process mode writes.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use cramp_cds::{
    batch,
    pb::{self, assess_batch_response::Result as BatchResult},
    screen::synthetic,
};
use cramp_core::KnowledgeBase;
use tempfile::TempDir;

use crate::helpers::{PATIENCE, repo_path, spawn_app, spawn_app_with, test_settings};

fn screen(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cramp-cds"))
        .arg("screen")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// Runs `screen` expecting success; returns stderr.
fn screen_ok(args: &[&str]) -> String {
    let output = screen(args, b"");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    stderr
}

fn path(dir: &TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn example(name: &str) -> String {
    repo_path(name).to_str().unwrap().to_owned()
}

fn ndjson_answers(bytes: &[u8]) -> Vec<serde_json::Value> {
    std::str::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn write_records(path: &Path, records: usize, seed: u64) {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    synthetic::write_ndjson(synthetic::records(seed).take(records), &mut out).unwrap();
    out.flush().unwrap();
}

#[test]
fn the_committed_examples_are_what_the_generator_writes() {
    let records = || synthetic::records(synthetic::EXAMPLE_SEED).take(synthetic::EXAMPLE_RECORDS);
    let mut ndjson = Vec::new();
    synthetic::write_ndjson(records(), &mut ndjson).unwrap();
    let mut csv = Vec::new();
    synthetic::write_csv(records(), &mut csv).unwrap();

    assert!(
        std::fs::read(repo_path(synthetic::EXAMPLE_NDJSON)).unwrap() == ndjson,
        "{} is stale: run `cargo run --bin gen-examples`",
        synthetic::EXAMPLE_NDJSON
    );
    assert!(
        std::fs::read(repo_path(synthetic::EXAMPLE_CSV)).unwrap() == csv,
        "{} is stale: run `cargo run --bin gen-examples`",
        synthetic::EXAMPLE_CSV
    );
}

#[test]
fn ndjson_and_csv_inputs_give_the_same_answers_the_library_gives() {
    let dir = tempfile::tempdir().unwrap();
    let from_ndjson = path(&dir, "from-ndjson.ndjson");
    let from_csv = path(&dir, "from-csv.ndjson");
    let summary = path(&dir, "summary.json");

    let stderr = screen_ok(&[
        "--input",
        &example(synthetic::EXAMPLE_NDJSON),
        "--output",
        s(&from_ndjson),
        "--summary",
        s(&summary),
    ]);
    screen_ok(&[
        "--input",
        &example(synthetic::EXAMPLE_CSV),
        "--output",
        s(&from_csv),
    ]);

    let bytes = std::fs::read(&from_ndjson).unwrap();
    assert!(
        bytes == std::fs::read(&from_csv).unwrap(),
        "CSV and NDJSON inputs agree"
    );
    let answers = ndjson_answers(&bytes);
    let kb = KnowledgeBase::standard();
    let records: Vec<_> = synthetic::records(synthetic::EXAMPLE_SEED)
        .take(synthetic::EXAMPLE_RECORDS)
        .collect();
    assert_eq!(answers.len(), records.len());
    for (answer, record) in answers.iter().zip(&records) {
        let expected = batch::assess_record(
            &cramp_cds::assess::Assessor::local(kb),
            &cramp_cds::assess::Call::local(cramp_cds::audit::Door::Screen),
            record.request.clone(),
        );
        assert_eq!(answer["record_id"], expected.record_id.as_str());
        match expected.result {
            Some(BatchResult::Assessment(assessment)) => {
                let written: pb::Assessment =
                    serde_json::from_value(answer["assessment"].clone()).unwrap();
                assert_eq!(written, assessment, "{}", expected.record_id);
            }
            Some(BatchResult::Error(_)) => {
                let fields: Vec<&str> = answer["error"]["details"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter_map(|d| d["field_violations"].as_array())
                    .flatten()
                    .map(|v| v["field"].as_str().unwrap())
                    .collect();
                assert_eq!(fields, record.invalid_fields);
            }
            None => panic!("no result"),
        }
    }

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    assert_eq!(summary["records"], 1_000);
    assert_eq!(summary["errors"], 10);
    assert_eq!(summary["assessed"], 990);
    let urgencies: u64 = summary["urgency"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert_eq!(urgencies, 990);
    assert!(
        stderr.starts_with("screened 1000 records: 990 assessed, 10 errors"),
        "{stderr}"
    );
    assert!(stderr.contains("urgency: URGENCY_"), "{stderr}");
    assert!(stderr.contains("flags: FLAG_"), "{stderr}");
}

#[test]
fn csv_output_has_one_row_per_record_with_the_headline() {
    let dir = tempfile::tempdir().unwrap();
    let csv_out = path(&dir, "answers.csv");
    let ndjson_out = path(&dir, "answers.ndjson");
    screen_ok(&[
        "--input",
        &example(synthetic::EXAMPLE_CSV),
        "--output",
        s(&csv_out),
        "-q",
    ]);
    screen_ok(&[
        "--input",
        &example(synthetic::EXAMPLE_CSV),
        "--output",
        s(&ndjson_out),
        "-q",
    ]);

    let mut reader = csv::Reader::from_path(&csv_out).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "record_id",
            "urgency",
            "flags",
            "workups",
            "drug_classes",
            "error"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let answers = ndjson_answers(&std::fs::read(&ndjson_out).unwrap());
    assert_eq!(rows.len(), answers.len());
    for (row, answer) in rows.iter().zip(&answers) {
        assert_eq!(&row[0], answer["record_id"].as_str().unwrap());
        if answer.get("error").is_some() {
            assert!(row[5].starts_with("INVALID_ARGUMENT: history."), "{row:?}");
            assert!(row[1].is_empty());
        } else {
            assert_eq!(&row[1], answer["assessment"]["urgency"].as_str().unwrap());
            let flags: Vec<&str> = answer["assessment"]["flags"]
                .as_array()
                .map(|f| f.iter().map(|f| f["flag"].as_str().unwrap()).collect())
                .unwrap_or_default();
            assert_eq!(
                row[2]
                    .split(';')
                    .filter(|f| !f.is_empty())
                    .collect::<Vec<_>>(),
                flags
            );
            assert!(row[5].is_empty());
        }
    }
}

#[test]
fn unparseable_lines_are_answered_in_place_with_their_line_number() {
    let input = concat!(
        r#"{"record_id": "ok-1", "history": {"patient": {"age_years": 61}}}"#,
        "\n",
        "this is not json\n",
        "\n",
        r#"{"record_id": "typo-1", "history": {"patient": {"age_yaers": 61}}}"#,
        "\n",
        r#"{"history": {"patient": {"age_years": 33}}}"#,
        "\n",
        r#"{"record_id": "cut-off", "history": {"patient": "#,
        "\n",
    );
    let mut bytes = input.as_bytes().to_vec();
    bytes.extend_from_slice(b"\xff\xfe not utf-8\n");

    let output = screen(&["--input", "-", "--output", "-", "--quiet"], &bytes);

    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stderr.is_empty(), "--quiet");
    let answers = ndjson_answers(&output.stdout);
    let ids: Vec<&str> = answers
        .iter()
        .map(|a| a["record_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["ok-1", "line-2", "typo-1", "line-5", "cut-off", "line-7"]
    );
    assert!(answers[0].get("assessment").is_some());
    assert!(
        answers[4].get("assessment").is_none(),
        "a cut-off line is not assessed"
    );
    for (answer, line) in [(1, 2), (2, 4), (4, 6), (5, 7)] {
        let error = &answers[answer]["error"];
        assert_eq!(error["code"], 3, "{error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("line {line}")), "{message}");
        let info = error["details"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["reason"] == "UNPARSEABLE_RECORD")
            .unwrap();
        assert_eq!(info["metadata"]["line"], line.to_string());
    }
    assert!(
        answers[3].get("assessment").is_some(),
        "a missing id becomes line-N"
    );
}

#[test]
fn bad_csv_rows_are_answered_in_place_and_an_unknown_column_stops_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = path(&dir, "in.csv");
    std::fs::write(
        &input,
        "record_id,patient.age_years,symptoms.chest_pain,medications\n\
         a,70,false,furosemide|3\n\
         b,seventy,perhaps,x|soon\n\
         c,70\n\
         ,44,,\n",
    )
    .unwrap();
    let out = path(&dir, "out.ndjson");

    screen_ok(&["--input", s(&input), "--output", s(&out)]);

    let answers = ndjson_answers(&std::fs::read(&out).unwrap());
    let ids: Vec<&str> = answers
        .iter()
        .map(|a| a["record_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "b", "c", "line-5"]);
    let fields: Vec<&str> = answers[1]["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["field_violations"].as_array())
        .flatten()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "history.patient.age_years",
            "history.symptoms.chest_pain",
            "history.medications[0].weeks_since_started"
        ]
    );
    let message = answers[1]["error"]["message"].as_str().unwrap();
    assert!(message.starts_with("line 3:"), "{message}");
    assert!(!message.contains("seventy") && !message.contains("perhaps"));
    assert!(
        answers[2]["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("line 4:")
    );

    std::fs::write(&input, "record_id,patient.age_yaers\nx,4\n").unwrap();
    let untouched = path(&dir, "untouched.ndjson");
    let output = screen(&["--input", s(&input), "--output", s(&untouched)], b"");
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("patient.age_yaers"));
    assert!(
        !untouched.exists(),
        "nothing is written before the header is known to be good"
    );
}

#[test]
fn the_neuromuscular_symptoms_are_csv_columns_read_like_ndjson() {
    // Intake v1.1: the columns come from the descriptor, so the new fields need no edit.
    let dir = tempfile::tempdir().unwrap();
    let csv_in = path(&dir, "in.csv");
    std::fs::write(
        &csv_in,
        "record_id,patient.age_years,symptoms.muscle_weakness,symptoms.weakness_getting_worse,\
         symptoms.muscle_twitching,symptoms.muscle_wasting,symptoms.speech_or_swallowing_difficulty\n\
         nm-1,58,true,true,true,true,false\n\
         nm-2,58,true,maybe,,,\n",
    )
    .unwrap();
    let ndjson_in = path(&dir, "in.ndjson");
    std::fs::write(
        &ndjson_in,
        r#"{"record_id":"nm-1","history":{"patient":{"age_years":58},"symptoms":{"muscle_weakness":true,"weakness_getting_worse":true,"muscle_twitching":true,"muscle_wasting":true,"speech_or_swallowing_difficulty":false}}}"#
            .to_owned()
            + "\n",
    )
    .unwrap();
    let (csv_out, ndjson_out) = (path(&dir, "csv.ndjson"), path(&dir, "ndjson.ndjson"));
    screen_ok(&["--input", s(&csv_in), "--output", s(&csv_out)]);
    screen_ok(&["--input", s(&ndjson_in), "--output", s(&ndjson_out)]);
    let from_csv = ndjson_answers(&std::fs::read(&csv_out).unwrap());
    let from_ndjson = ndjson_answers(&std::fs::read(&ndjson_out).unwrap());
    assert_eq!(from_csv[0], from_ndjson[0]);
    assert!(from_csv[0].get("assessment").is_some(), "{}", from_csv[0]);
    // A cell that is not yes/no is named by its field, never echoed.
    let fields: Vec<&str> = from_csv[1]["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["field_violations"].as_array())
        .flatten()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["history.symptoms.weakness_getting_worse"]);
    assert!(!from_csv[1].to_string().contains("maybe"));
}

#[test]
fn csv_from_stdin_needs_input_format() {
    let csv = std::fs::read(repo_path(synthetic::EXAMPLE_CSV)).unwrap();

    let output = screen(
        &[
            "--input",
            "-",
            "--input-format",
            "csv",
            "--output",
            "-",
            "--format",
            "csv",
            "-q",
        ],
        &csv,
    );

    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8(output.stdout).unwrap();
    assert_eq!(text.lines().count(), 1 + synthetic::EXAMPLE_RECORDS);
    assert!(text.starts_with("record_id,urgency,flags,workups,drug_classes,error\n"));
}

/// Starts `screen` on `input`, sends `signal` once the output holds some records, and returns
/// what it left and how it exited.
fn interrupted_run(
    input: &Path,
    output: &Path,
    signal: rustix::process::Signal,
) -> (Vec<u8>, std::process::ExitStatus) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cramp-cds"))
        .args([
            "screen",
            "--input",
            s(input),
            "--output",
            s(output),
            "--quiet",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::metadata(output).map_or(0, |m| m.len()) < 100_000 {
        assert!(started.elapsed() < PATIENCE, "screen never wrote anything");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be interrupted"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = rustix::process::Pid::from_raw(i32::try_from(child.id()).unwrap()).unwrap();
    rustix::process::kill_process(pid, signal).unwrap();
    let status = child.wait().unwrap();
    (std::fs::read(output).unwrap(), status)
}

/// Starts `screen` on `input`, SIGKILLs it once the output holds some records, and returns
/// what it left.
fn killed_run(input: &Path, output: &Path) -> Vec<u8> {
    interrupted_run(input, output, rustix::process::Signal::KILL).0
}

#[test]
fn ctrl_c_stops_with_130_and_leaves_whole_records_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let input = path(&dir, "big.ndjson");
    write_records(&input, 20_000, 78);
    let full = path(&dir, "full.ndjson");
    screen_ok(&["--input", s(&input), "--output", s(&full), "-q"]);
    let full_bytes = std::fs::read(&full).unwrap();

    let interrupted = path(&dir, "interrupted.ndjson");
    let (left, status) = interrupted_run(&input, &interrupted, rustix::process::Signal::INT);
    assert_eq!(status.code(), Some(130), "Ctrl-C exits 130");
    assert!(left.len() < full_bytes.len(), "interrupted mid-run");
    assert!(
        left.ends_with(b"\n"),
        "an interrupted run leaves only whole records"
    );
    assert!(
        full_bytes.starts_with(&left),
        "what an interrupted run leaves is a prefix of the full output"
    );
}

#[test]
fn resume_after_sigkill_gives_the_uninterrupted_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = path(&dir, "big.ndjson");
    write_records(&input, 20_000, 77);

    for format in ["ndjson", "csv"] {
        let full = path(&dir, &format!("full.{format}"));
        let resumed = path(&dir, &format!("resumed.{format}"));
        let full_summary = path(&dir, &format!("full-summary-{format}.json"));
        let resumed_summary = path(&dir, &format!("resumed-summary-{format}.json"));
        screen_ok(&[
            "--input",
            s(&input),
            "--output",
            s(&full),
            "-q",
            "--summary",
            s(&full_summary),
        ]);
        let full_bytes = std::fs::read(&full).unwrap();

        let left = killed_run(&input, &resumed);
        assert!(left.len() < full_bytes.len(), "{format}: killed mid-run");
        let complete = left.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        assert!(
            full_bytes.starts_with(&left[..complete]),
            "{format}: what a killed run leaves is a prefix of the full output"
        );

        let stderr = screen_ok(&[
            "--input",
            s(&input),
            "--output",
            s(&resumed),
            "--resume",
            "--summary",
            s(&resumed_summary),
        ]);
        assert!(stderr.contains("from the earlier run"), "{stderr}");
        assert!(
            std::fs::read(&resumed).unwrap() == full_bytes,
            "{format}: resumed output equals the uninterrupted one"
        );
        assert_eq!(
            std::fs::read(&resumed_summary).unwrap(),
            std::fs::read(&full_summary).unwrap(),
            "{format}: the summary covers the whole file"
        );

        // Resuming a finished output changes nothing.
        screen_ok(&[
            "--input",
            s(&input),
            "--output",
            s(&resumed),
            "--resume",
            "-q",
        ]);
        assert!(std::fs::read(&resumed).unwrap() == full_bytes);
    }
}

#[test]
fn resume_refuses_an_output_written_from_another_input() {
    let dir = tempfile::tempdir().unwrap();
    let first = path(&dir, "first.ndjson");
    let second = path(&dir, "second.ndjson");
    write_records(&first, 50, 1);
    write_records(&second, 80, 2);
    let out = path(&dir, "out.ndjson");
    screen_ok(&["--input", s(&first), "--output", s(&out), "-q"]);
    let before = std::fs::read(&out).unwrap();

    let output = screen(
        &["--input", s(&second), "--output", s(&out), "--resume"],
        b"",
    );

    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("another input"));
    assert!(
        std::fs::read(&out).unwrap() == before,
        "the output is left alone"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_mode_writes_exactly_what_in_process_mode_writes() {
    let dir = tempfile::tempdir().unwrap();
    let input = path(&dir, "mixed.ndjson");
    let mut bytes = Vec::new();
    synthetic::write_ndjson(synthetic::records(9).take(1_500), &mut bytes).unwrap();
    // Unparseable lines are answered by the client, between the server's answers.
    bytes.extend_from_slice(b"not json\n{\"history\": {\"patient\": {\"age_years\": 5}}}\n");
    synthetic::write_ndjson(synthetic::records(10).take(500), &mut bytes).unwrap();
    std::fs::write(&input, &bytes).unwrap();

    let app = spawn_app().await;
    let mut capped = test_settings();
    capped.batch.max_records_per_stream = std::num::NonZeroU64::new(300).unwrap();
    let capped_app = spawn_app_with(capped).await;

    for format in ["ndjson", "csv"] {
        let local = path(&dir, &format!("local.{format}"));
        let remote = path(&dir, &format!("remote.{format}"));
        let reopened = path(&dir, &format!("reopened.{format}"));
        let input = s(&input).to_owned();
        let run = move |output: PathBuf, server: Option<String>| {
            let input = input.clone();
            async move {
                tokio::task::spawn_blocking(move || {
                    let mut args = vec!["--input".to_owned(), input, "--output".to_owned()];
                    args.push(s(&output).to_owned());
                    args.push("-q".to_owned());
                    if let Some(url) = server {
                        args.extend(["--server".to_owned(), url]);
                    }
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    screen_ok(&args);
                    std::fs::read(output).unwrap()
                })
                .await
                .unwrap()
            }
        };
        let in_process = run(local, None).await;
        let over_grpc = run(remote, Some(format!("http://{}", app.addr))).await;
        let over_capped = run(reopened, Some(format!("http://{}", capped_app.addr))).await;

        assert!(in_process == over_grpc, "{format}: remote output differs");
        assert!(
            in_process == over_capped,
            "{format}: streams reopened after the record cap lose or repeat nothing"
        );
        let lines = in_process.iter().filter(|&&b| b == b'\n').count();
        assert_eq!(lines, 2_002 + usize::from(format == "csv"));
    }
    app.stop().await;
    capped_app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_fails_with_exit_1() {
    let output = tokio::task::spawn_blocking(|| {
        screen(
            &[
                "--input",
                "-",
                "--output",
                "-",
                "--server",
                "http://127.0.0.1:1",
            ],
            b"{\"history\": {}}\n",
        )
    })
    .await
    .unwrap();

    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot connect"));
}
