//! The worklist and the report, through the real `cramp-cds` executable: most urgent first in a
//! stable order, the same after `--resume` and after merging an Indexed Job's shards, errors to
//! re-enter, and no patient answer in either file.
//!
//! The report's run facts (input files, time taken) are the one part that differs between those
//! runs by design; it sits between `<!-- run facts -->` markers, and comparisons leave it out.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
};

use cramp_cds::{
    pb,
    report::{html::contract_names, worklist::CSV_HEADER},
};
use tempfile::TempDir;

use crate::helpers::repo_path;

const EXAMPLE: &str = "examples/screening-1000.ndjson";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cramp-cds"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn run_ok(args: &[&str]) -> String {
    let output = run(args);
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
    stderr
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

struct Written {
    worklist: Vec<u8>,
    report: String,
}

impl Written {
    fn read(dir: &Path, name: &str) -> Self {
        Self {
            worklist: std::fs::read(dir.join(format!("{name}.csv"))).unwrap(),
            report: std::fs::read_to_string(dir.join(format!("{name}.html"))).unwrap(),
        }
    }

    /// The report without its run facts (files and time taken).
    fn report_without_run_facts(&self) -> String {
        let start = self
            .report
            .find("<!-- run facts -->")
            .expect("run facts start");
        let end = self
            .report
            .find("<!-- /run facts -->")
            .expect("run facts end");
        assert!(start < end);
        format!("{}{}", &self.report[..start], &self.report[end..])
    }

    fn rows(&self) -> Vec<csv::StringRecord> {
        let mut reader = csv::Reader::from_reader(self.worklist.as_slice());
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            CSV_HEADER
        );
        reader.records().map(Result::unwrap).collect()
    }
}

/// `screen INPUT` with `--worklist`/`--report` named `name` in `dir`.
fn screen_with_report(dir: &Path, input: &str, name: &str, extra: &[&str]) -> Written {
    let output = dir.join(format!("{name}.ndjson"));
    let worklist = dir.join(format!("{name}.csv"));
    let report = dir.join(format!("{name}.html"));
    let mut args = vec![
        "screen",
        "--input",
        input,
        "--output",
        s(&output),
        "--worklist",
        s(&worklist),
        "--report",
        s(&report),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    run_ok(&args);
    Written::read(dir, name)
}

fn urgency_rank(urgency: &str) -> usize {
    ["Emergency", "Urgent", "Soon"]
        .iter()
        .position(|u| *u == urgency)
        .unwrap_or(3)
}

#[test]
fn the_worklist_lists_the_most_urgent_first_in_input_order_and_runs_agree() {
    let dir = TempDir::new().unwrap();
    let example = repo_path(EXAMPLE);
    let first = screen_with_report(dir.path(), s(&example), "first", &[]);
    let rows = first.rows();
    assert!(!rows.is_empty());
    assert_eq!(
        &rows[0][2], "Emergency",
        "the worklist opens with the emergencies"
    );
    // Every record that needs action is there once, in tier order, then input order (the
    // example's record ids grow with the input line).
    let output = std::fs::read_to_string(dir.path().join("first.ndjson")).unwrap();
    let mut needing_action = 0;
    for line in output.lines() {
        let answer: serde_json::Value = serde_json::from_str(line).unwrap();
        let urgency = answer["assessment"]["urgency"].as_str().unwrap_or("");
        let possible = answer["assessment"]["possible_flags"].is_array();
        if answer.get("error").is_some()
            || ["URGENCY_EMERGENCY", "URGENCY_URGENT", "URGENCY_SOON"].contains(&urgency)
            || possible
        {
            needing_action += 1;
        }
    }
    assert_eq!(rows.len(), needing_action);
    for pair in rows.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert_eq!(
            b[0].parse::<u64>().unwrap(),
            a[0].parse::<u64>().unwrap() + 1
        );
        let tier = |r: &csv::StringRecord| (!r[6].is_empty(), urgency_rank(&r[2]));
        assert!(tier(a) <= tier(b), "{a:?} before {b:?}");
        if tier(a) == tier(b) {
            assert!(a[1] < b[1], "input order within a tier: {a:?} {b:?}");
        }
    }
    // Titles, never the contract's names.
    let text = String::from_utf8(first.worklist.clone()).unwrap();
    for name in contract_names() {
        assert!(!text.contains(name), "{name} in the worklist");
        assert!(!first.report.contains(name), "{name} in the report");
    }

    let second = screen_with_report(dir.path(), s(&example), "second", &[]);
    assert!(first.worklist == second.worklist, "two runs, one worklist");
    assert_eq!(
        first.report_without_run_facts(),
        second.report_without_run_facts()
    );
}

#[test]
fn the_report_is_self_contained_and_accessible() {
    let dir = TempDir::new().unwrap();
    let written = screen_with_report(dir.path(), s(&repo_path(EXAMPLE)), "r", &[]);
    let html = &written.report;
    assert!(html.starts_with("<!DOCTYPE html>"));
    for external in ["src=\"http", "href=\"http", "@import", "url(", "<link"] {
        assert!(
            !html.contains(external),
            "{external}: the file must open offline"
        );
    }
    assert!(html.contains("This report contains no patient answers."));
    for chart in ["urgency", "flags", "drug-classes", "errors"] {
        assert!(
            html.contains(&format!(
                "<svg role=\"img\" aria-labelledby=\"{chart}-title {chart}-desc\""
            )),
            "{chart}: an SVG with a title and a description"
        );
    }
    assert!(html.contains("@media print"));
    assert!(html.contains("<table id=\"worklist\" class=\"sortable\">"));
    let rows = html.matches("<tr data-tier=").count();
    assert_eq!(
        rows,
        written.rows().len(),
        "the report holds the worklist's rows"
    );
    assert!(html.contains("<dt>Input</dt>"));
    assert!(html.contains("<dt>Time taken</dt><dd>"));
}

/// Cuts `output` inside its `keep`-th record, as a crash mid-write leaves it.
fn tear(output: &Path, keep: usize) {
    let bytes = std::fs::read(output).unwrap();
    let mut newlines = bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .map(|(i, _)| i);
    let cut = newlines.nth(keep).unwrap() - 7;
    std::fs::write(output, &bytes[..cut]).unwrap();
}

#[test]
fn a_resumed_run_reports_what_an_uninterrupted_one_does() {
    let dir = TempDir::new().unwrap();
    let example = repo_path(EXAMPLE);
    let whole = screen_with_report(dir.path(), s(&example), "whole", &[]);

    // A first run that ended mid-record (the SIGKILL itself is tested in screen.rs).
    let output = dir.path().join("resumed.ndjson");
    run_ok(&[
        "screen",
        "--input",
        s(&example),
        "--output",
        s(&output),
        "--quiet",
    ]);
    tear(&output, 420);
    let resumed = screen_with_report(dir.path(), s(&example), "resumed", &["--resume"]);

    assert!(whole.worklist == resumed.worklist, "same worklist");
    assert_eq!(
        whole.report_without_run_facts(),
        resumed.report_without_run_facts()
    );
    assert!(
        resumed
            .report
            .contains("420 records came from an earlier, resumed run"),
        "the run facts say it was resumed"
    );
}

#[test]
fn four_shards_merged_in_shard_order_report_what_the_whole_run_does() {
    let dir = TempDir::new().unwrap();
    let example = repo_path(EXAMPLE);
    let whole = screen_with_report(dir.path(), s(&example), "whole", &[]);

    // `split -n l/4`: contiguous shards; each screened on its own, as a pod of the Job would.
    let text = std::fs::read_to_string(&example).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let per_shard = lines.len().div_ceil(4);
    let mut outputs: Vec<PathBuf> = Vec::new();
    for (i, shard) in lines.chunks(per_shard).enumerate() {
        let input = dir.path().join(format!("in-shard-{i}.ndjson"));
        std::fs::write(&input, format!("{}\n", shard.join("\n"))).unwrap();
        let output = dir.path().join(format!("shard-{i}.ndjson"));
        run_ok(&[
            "screen",
            "--input",
            s(&input),
            "--output",
            s(&output),
            "--quiet",
        ]);
        outputs.push(output);
    }
    assert_eq!(outputs.len(), 4);

    // The glob's order is not the shards' order: `report` orders them by index.
    let worklist = dir.path().join("merged.csv");
    let report = dir.path().join("merged.html");
    let stderr = run_ok(&[
        "report",
        "--from",
        s(&outputs[3]),
        s(&outputs[1]),
        s(&outputs[0]),
        s(&outputs[2]),
        "--worklist",
        s(&worklist),
        "--report",
        s(&report),
    ]);
    assert!(stderr.contains("1000 records from 4 file(s)"), "{stderr}");
    let merged = Written::read(dir.path(), "merged");
    assert!(whole.worklist == merged.worklist, "same worklist");
    assert_eq!(
        whole.report_without_run_facts(),
        merged.report_without_run_facts(),
        "the merged report is the whole run's, run facts aside"
    );
    assert!(merged.report.contains("<dt>Merged outputs</dt>"));
}

/// Values sent in the histories that the output file holds (full view) and neither the worklist
/// nor the report may: a medication name, an RxNorm id, an ATC code, an answer's numbers and enum
/// values.
const SECRETS: &[&str] = &[
    "zzqx-report-med-name",
    "zzqx-rxcui-4242",
    "ZZQX77",
    "487.125",
    "31415926",
    "LOCATION_HAMSTRING",
    "RELIEF_WITHIN_10_MINUTES",
    "SWELLING_ONE_LEG",
    "hydrochlorothiazide 25 mg",
];

fn distinctive_records() -> Vec<pb::AssessBatchRequest> {
    let history = pb::CrampHistory {
        patient: Some(pb::Patient {
            age_years: Some(71),
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
            chest_pain: Some(true),
            ..pb::Symptoms::default()
        }),
        medications: vec![
            pb::Medication {
                name: "zzqx-report-med-name".into(),
                rxnorm_cui: Some("zzqx-rxcui-4242".into()),
                atc_code: Some("ZZQX77".into()),
                weeks_since_started: Some(3),
                recently_stopped: None,
            },
            pb::Medication {
                name: "hydrochlorothiazide 25 mg".into(),
                weeks_since_started: Some(2),
                ..pb::Medication::default()
            },
        ],
        ..pb::CrampHistory::default()
    };
    let mut invalid = history.clone();
    invalid.patient = Some(pb::Patient {
        age_years: Some(1_234_567),
        ..pb::Patient::default()
    });
    vec![
        pb::AssessBatchRequest {
            record_id: "phi-valid".into(),
            history: Some(history),
            view: 0,
        },
        pb::AssessBatchRequest {
            record_id: "phi-invalid".into(),
            history: Some(invalid),
            view: 0,
        },
    ]
}

#[test]
fn neither_file_holds_a_patient_answer_the_output_holds() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("in-phi.ndjson");
    let mut file = std::fs::File::create(&input).unwrap();
    for record in distinctive_records() {
        serde_json::to_writer(&mut file, &record).unwrap();
        file.write_all(b"\n").unwrap();
    }
    drop(file);
    let written = screen_with_report(dir.path(), s(&input), "phi", &[]);

    let output = std::fs::read_to_string(dir.path().join("phi.ndjson")).unwrap();
    let worklist = String::from_utf8(written.worklist.clone()).unwrap();
    // The output file holds answers (so this test can fail)...
    assert!(output.contains("hydrochlorothiazide 25 mg"), "{output}");
    let held = SECRETS.iter().filter(|v| output.contains(*v)).count();
    assert!(held >= 2, "{held} of the values are in the output");
    for secret in SECRETS {
        // ...the worklist and the report do not.
        assert!(!worklist.contains(secret), "{secret} in the worklist");
        assert!(!written.report.contains(secret), "{secret} in the report");
    }
    assert!(!worklist.to_lowercase().contains("zzq"));
    assert!(!written.report.to_lowercase().contains("zzq"));
    // The records themselves are there, by id.
    assert!(worklist.contains("phi-valid") && worklist.contains("phi-invalid"));
    assert!(
        written
            .report
            .contains("This report contains no patient answers.")
    );
}

#[test]
fn records_answered_with_an_error_are_listed_last_with_what_to_re_enter() {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("in-errors.ndjson");
    let example = std::fs::read_to_string(repo_path(EXAMPLE)).unwrap();
    let mut text: String = example.lines().take(30).map(|l| format!("{l}\n")).collect();
    text.push_str(
        "{\"record_id\":\"bad-age\",\"history\":{\"patient\":{\"age_years\":1234567}}}\n",
    );
    text.push_str("{\"record_id\": \"torn\", \"history\": {\"patient\"\n");
    std::fs::write(&input, &text).unwrap();
    let written = screen_with_report(dir.path(), s(&input), "errors", &[]);
    let rows = written.rows();
    let errors: Vec<&csv::StringRecord> = rows.iter().filter(|r| !r[6].is_empty()).collect();
    assert_eq!(errors.len(), 2, "{rows:?}");
    assert_eq!(
        rows.iter().rev().take(2).collect::<Vec<_>>(),
        errors.iter().rev().copied().collect::<Vec<_>>(),
        "errors come last"
    );
    assert_eq!(&errors[0][1], "bad-age");
    assert_eq!(&errors[0][2], "Not assessed");
    assert!(
        errors[0][6].starts_with("history.patient.age_years: "),
        "{:?}",
        errors[0]
    );
    assert!(!errors[0][6].contains("1234567"));
    assert_eq!(&errors[1][1], "torn");
    assert!(errors[1][6].contains("line 32"), "{:?}", errors[1]);
    assert!(
        written.report.contains("Unparseable record"),
        "the error chart names the reason"
    );
}

#[test]
fn reports_need_an_ndjson_output_file_and_say_so_before_screening() {
    let dir = TempDir::new().unwrap();
    let example = repo_path(EXAMPLE);
    let csv_output = dir.path().join("out.csv");
    let output = run(&[
        "screen",
        "--input",
        s(&example),
        "--output",
        s(&csv_output),
        "--report",
        s(&dir.path().join("r.html")),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("need an NDJSON output file, not CSV"),
        "{stderr}"
    );
    assert!(!csv_output.exists(), "nothing was screened");

    let foreign = dir.path().join("foreign.ndjson");
    std::fs::write(&foreign, "{\"record_id\":\"x\"}\n").unwrap();
    let output = run(&[
        "report",
        "--from",
        s(&foreign),
        "--worklist",
        s(&dir.path().join("w.csv")),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("line 1 of") && stderr.contains("is not a `screen` record"),
        "{stderr}"
    );
}
