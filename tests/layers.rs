//! The service's modules form layers: each top-level module of `src/` may import (`crate::…`)
//! only modules of a lower layer, so there is no import cycle and a newcomer can read the crate
//! bottom-up. This test reads the sources (non-test code, comments skipped) and fails naming
//! the offending import, or a module missing from the table below.
//!
//! A crate boundary enforces this at compile time (the core and the wire contract are crates of
//! their own); inside the service package this test is the enforcement. Adding a module means adding it to [`LAYERS`] at the lowest layer its imports
//! allow.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// Layer 0 imports nothing of the crate; each later layer imports only earlier ones.
///
/// Below all of them are three crates, whose boundaries Cargo enforces: `cramp-core` (the
/// domain), `cramp-wire` (generated types, wire ⇄ core conversion, the gRPC status table;
/// re-exported here as `crate::pb` and `crate::convert`) and `cramp-ehr` (the FHIR and CDS Hooks
/// mapping; re-exported as `crate::fhir` and `crate::cds_hooks`).
const LAYERS: &[&[&str]] = &[
    // Leaves: identities, request ids, settings (which import nothing from the features they
    // configure).
    &["caller", "request_id", "config"],
    // The one table of gRPC statuses and HTTP errors; the screening worklist and report (and the
    // page templates `/about` shares), read from output files; each
    // listener's connection cap and socket deadlines.
    &["status", "report", "edge"],
    // Edge concerns and observability, each standing alone.
    &["audit", "telemetry", "tls", "auth", "limits"],
    // The one assessor.
    &["assess"],
    // The batch pipeline (shared by the gRPC stream and in-process `screen`).
    &["batch"],
    // Doors.
    &["grpc", "http", "screen", "bench_canned"],
    // Composition: the CLI and the server.
    &["cli", "server"],
];

/// The lower crates' modules the crate root re-exports: below every layer, importable from all.
const RE_EXPORTED: &[&str] = &["pb", "convert", "fhir", "cds_hooks"];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every top-level module and the files it is made of.
fn modules() -> BTreeMap<String, Vec<PathBuf>> {
    let mut modules = BTreeMap::new();
    for entry in fs::read_dir(src()).unwrap().flatten() {
        let path = entry.path();
        let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        if path.extension().is_some_and(|e| e == "rs") && !["lib", "main"].contains(&stem) {
            let mut files = vec![path.clone()];
            rust_files(&src().join(stem), &mut files);
            modules.insert(stem.to_owned(), files);
        }
    }
    modules
}

/// The code of a file without comments and without its `#[cfg(test)]` items (a test may reach
/// anywhere).
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut skipping_test_item = false;
    let mut depth = 0_i32;
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        if trimmed.starts_with("#[cfg(test)]") {
            skipping_test_item = true;
            depth = 0;
            continue;
        }
        if skipping_test_item {
            depth += i32::try_from(line.matches('{').count()).unwrap_or(0)
                - i32::try_from(line.matches('}').count()).unwrap_or(0);
            if depth <= 0 && (line.contains('}') || line.trim_end().ends_with(';')) {
                skipping_test_item = false;
            }
            continue;
        }
        let line = match line.find(" //") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        };
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The top-level modules named by `crate::a`, `crate::{a::x, b}` and nested groups.
fn imported(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        // `cramp_crate::` or `some_crate::` are not ours.
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 || (depth == 1 && c == ',') {
                    push_head(&item, &mut found);
                    item.clear();
                    if depth == 0 {
                        break;
                    }
                } else if depth == 1 {
                    item.push(c);
                } else {
                    item.push(' ');
                }
            }
        } else {
            push_head(rest, &mut found);
        }
    }
    found
}

fn push_head(path: &str, found: &mut BTreeSet<String>) {
    let head: String = path
        .trim_start()
        .chars()
        .take_while(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if !head.is_empty() && head != "self" {
        found.insert(head);
    }
}

#[test]
fn every_module_imports_only_lower_layers() {
    let layer_of: BTreeMap<&str, usize> = LAYERS
        .iter()
        .enumerate()
        .flat_map(|(i, layer)| layer.iter().map(move |m| (*m, i)))
        .collect();
    let mut problems = Vec::new();
    for (module, files) in modules() {
        let Some(&layer) = layer_of.get(module.as_str()) else {
            problems.push(format!("`{module}` is in no layer of tests/layers.rs"));
            continue;
        };
        for file in files {
            let text = fs::read_to_string(&file).unwrap();
            for target in imported(&code(&text)) {
                if target == module {
                    continue;
                }
                match layer_of.get(target.as_str()) {
                    Some(&t) if t < layer => {}
                    Some(&t) => problems.push(format!(
                        "{}: `{module}` (layer {layer}) imports `{target}` (layer {t})",
                        file.strip_prefix(src()).unwrap_or(&file).display()
                    )),
                    None if RE_EXPORTED.contains(&target.as_str()) => {}
                    // Anything else is a module that no longer exists or one added to no layer.
                    None => problems.push(format!(
                        "{}: `{module}` imports `crate::{target}`, which is neither a layer's \
                         module nor a re-exported lower crate",
                        file.strip_prefix(src()).unwrap_or(&file).display()
                    )),
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_import_reader_sees_groups_and_skips_comments_and_tests() {
    let text = "use crate::{a::{x, y}, b,\n    c::z};\n// crate::d\nlet v = crate::e::f();\n\
                some_crate::g();\n#[cfg(test)]\nmod tests {\n    use crate::h;\n}\nuse crate::i;\n";
    let found: Vec<String> = imported(&code(text)).into_iter().collect();
    assert_eq!(found, ["a", "b", "c", "e", "i"]);
}

/// Guards the guard: the reader sees the real imports of a door (were it blind, the layer test
/// would pass vacuously).
#[test]
fn the_reader_sees_what_a_door_imports() {
    let grpc = fs::read_to_string(src().join("grpc.rs")).unwrap();
    let found = imported(&code(&grpc));
    for expected in ["assess", "audit", "batch", "status", "caller"] {
        assert!(found.contains(expected), "{expected} not in {found:?}");
    }
}

/// The EHR mapping crate stays a mapping: no server framework, settings or telemetry can enter
/// it, so what it needs from configuration is handed in as plain values and a handler cannot
/// move into it. (Cargo enforces that the crate names nothing it does not depend on; this test
/// keeps the dependency list itself honest.)
#[test]
fn the_ehr_crate_depends_on_no_transport_settings_or_telemetry() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/cramp-ehr/Cargo.toml");
    let manifest: toml::Table = fs::read_to_string(manifest).unwrap().parse().unwrap();
    let dependencies: BTreeSet<&str> = manifest["dependencies"]
        .as_table()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let allowed = BTreeSet::from([
        "cramp-core",
        "cramp-wire",
        "serde",
        "serde_json",
        "serde_path_to_error",
        "thiserror",
        "time",
    ]);
    let extra: Vec<_> = dependencies.difference(&allowed).collect();
    assert!(
        extra.is_empty(),
        "cramp-ehr gained dependencies {extra:?}: a mapping needs none of a server's (axum, \
         tonic, hyper, config, tracing, opentelemetry); if one is truly a plain data library, \
         add it to this list"
    );
    assert!(dependencies.contains("cramp-wire") && dependencies.contains("cramp-core"));
}
