//! `screen` against its own mistakes and poison input, with the real executable: an output that
//! is the input (directly, through a symbolic or a hard link, or as redirected standard input)
//! is refused before anything is written; a record larger than the server decodes is answered
//! with an error record by `screen --server` against the real `serve` binary, and the run (and a
//! `--resume` of it) goes on past it; a byte-order mark before NDJSON is not an error.

use std::{
    fs::File,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use cramp_cds::screen::synthetic;
use tempfile::TempDir;

use crate::helpers::spawn_binary_with;

fn screen(args: &[&str], stdin: Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cramp-cds"))
        .arg("screen")
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn text(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn input_file(dir: &TempDir, records: usize) -> (PathBuf, Vec<u8>) {
    let path = dir.path().join("records.ndjson");
    let mut bytes = Vec::new();
    synthetic::write_ndjson(synthetic::records(31).take(records), &mut bytes).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    (path, bytes)
}

fn assert_refused(output: &Output, input: &Path, before: &[u8], what: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
    assert!(stderr.contains("is the input"), "{what}: {stderr}");
    assert!(
        std::fs::read(input).unwrap() == before,
        "{what}: the input is untouched"
    );
}

#[test]
fn an_output_that_is_the_input_is_refused_and_the_input_left_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (input, before) = input_file(&dir, 20);
    let symlink = dir.path().join("link.ndjson");
    std::os::unix::fs::symlink(&input, &symlink).unwrap();
    let hard = dir.path().join("hard.ndjson");
    std::fs::hard_link(&input, &hard).unwrap();
    let dotted = format!("{}/./records.ndjson", dir.path().display());

    for (output, what) in [
        (text(&input), "the same path"),
        (dotted.as_str(), "another spelling of the path"),
        (text(&symlink), "a symbolic link"),
        (text(&hard), "a hard link"),
    ] {
        for resume in [false, true] {
            let mut args = vec!["--input", text(&input), "--output", output, "-q"];
            if resume {
                args.push("--resume");
            }
            let answer = screen(&args, Stdio::null());
            assert_refused(
                &answer,
                &input,
                &before,
                &format!("{what}, resume {resume}"),
            );
        }
    }
    // Standard input redirected from the file named as the output.
    let answer = screen(
        &["--input", "-", "--output", text(&hard), "-q"],
        Stdio::from(File::open(&input).unwrap()),
    );
    assert_refused(&answer, &input, &before, "standard input");

    // A different file is still written.
    let other = dir.path().join("answers.ndjson");
    let answer = screen(
        &["--input", text(&input), "--output", text(&other), "-q"],
        Stdio::null(),
    );
    assert_eq!(answer.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&other).unwrap().lines().count(), 20);
}

#[test]
fn a_byte_order_mark_before_ndjson_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let (_, bytes) = input_file(&dir, 3);
    let with_bom = dir.path().join("bom.ndjson");
    let mut marked = "\u{feff}".as_bytes().to_vec();
    marked.extend_from_slice(&bytes);
    std::fs::write(&with_bom, &marked).unwrap();
    let plain_out = dir.path().join("plain.out.ndjson");
    let bom_out = dir.path().join("bom.out.ndjson");
    for (input, output) in [
        (dir.path().join("records.ndjson"), &plain_out),
        (with_bom, &bom_out),
    ] {
        let answer = screen(
            &["--input", text(&input), "--output", text(output), "-q"],
            Stdio::null(),
        );
        assert_eq!(answer.status.code(), Some(0));
    }
    assert!(
        std::fs::read(&plain_out).unwrap() == std::fs::read(&bom_out).unwrap(),
        "the mark changes nothing"
    );
}

/// Records with one poison record (far over the server's 8 KiB limit) in the middle.
fn poisoned_input(dir: &TempDir) -> (PathBuf, String) {
    let mut lines = Vec::new();
    synthetic::write_ndjson(synthetic::records(32).take(30), &mut lines).unwrap();
    let mut lines: Vec<String> = String::from_utf8(lines)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let poison = serde_json::json!({
        "record_id": "poison",
        "history": {
            "patient": {"age_years": 60},
            "medications": [{"name": "x".repeat(20_000)}],
        },
    });
    lines.insert(12, poison.to_string());
    let path = dir.path().join("poisoned.ndjson");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    (path, "poison".to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_over_the_server_limit_is_answered_in_place_and_resume_goes_past_it() {
    let server = spawn_binary_with("info", &[("CRAMP__SERVER__MAX_MESSAGE_BYTES", "8192")]).await;
    let url = format!("http://{}", server.addr);
    let dir = tempfile::tempdir().unwrap();
    let (input, poison_id) = poisoned_input(&dir);
    let output = dir.path().join("answers.ndjson");

    let run = |resume: bool| {
        let (input, output, url) = (input.clone(), output.clone(), url.clone());
        tokio::task::spawn_blocking(move || {
            let mut args = vec![
                "--input",
                text(&input),
                "--output",
                text(&output),
                "--server",
                &url,
                "-q",
            ];
            if resume {
                args.push("--resume");
            }
            screen(&args, Stdio::null())
        })
    };
    let first = run(false).await.unwrap();
    assert_eq!(
        first.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let full = std::fs::read_to_string(&output).unwrap();
    let answers: Vec<serde_json::Value> = full
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(answers.len(), 31, "one answer per record");
    let poison = &answers[12];
    assert_eq!(poison["record_id"], poison_id.as_str());
    let error = &poison["error"];
    assert_eq!(error["code"], 11, "OUT_OF_RANGE: {poison}");
    assert!(
        error.to_string().contains("RECORD_TOO_LARGE"),
        "the reason is named: {error}"
    );
    assert!(
        answers
            .iter()
            .enumerate()
            .all(|(i, a)| i == 12 || a.get("assessment").is_some() || a.get("error").is_some()),
        "the others are answered by the server"
    );

    // Cut the output back to just past the poison record, as a kill there would, and resume.
    let kept: String = full.lines().take(14).map(|l| format!("{l}\n")).collect();
    std::fs::write(&output, kept).unwrap();
    let resumed = run(true).await.unwrap();
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert!(
        std::fs::read_to_string(&output).unwrap() == full,
        "the resumed output is the uninterrupted one"
    );
    // And a resume that starts right before the poison record gets past it too.
    let kept: String = full.lines().take(12).map(|l| format!("{l}\n")).collect();
    std::fs::write(&output, kept).unwrap();
    let resumed = run(true).await.unwrap();
    assert_eq!(resumed.status.code(), Some(0));
    assert!(std::fs::read_to_string(&output).unwrap() == full);

    let (code, _) = server.terminate().await;
    assert_eq!(code, Some(0));
}
