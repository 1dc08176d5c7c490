//! Invalid input over gRPC: `INVALID_ARGUMENT` with a `BadRequest` naming every bad field from the
//! request root, plus `ErrorInfo`; one test per kind of rule in intake.md's "Validation".

use cramp_cds::pb;
use tonic_types::StatusExt as _;

use crate::helpers::{TestApp, bad_fields, minimal_request, spawn_app};

/// Sends `request` and returns the `BadRequest` field paths.
async fn rejected_fields(app: &TestApp, request: pb::AssessRequest) -> Vec<String> {
    bad_fields(app.assess(request).await)
}

/// A minimal valid request changed by `edit`.
fn request_with(edit: impl FnOnce(&mut pb::CrampHistory)) -> pb::AssessRequest {
    let mut request = minimal_request("validation");
    let Some(pb::assess_request::Input::History(history)) = request.input.as_mut() else {
        unreachable!("minimal_request carries a history")
    };
    edit(history);
    request
}

fn medication(name: &str) -> pb::Medication {
    pb::Medication {
        name: name.into(),
        ..pb::Medication::default()
    }
}

#[tokio::test]
async fn every_bad_field_is_named_at_once_with_error_info() {
    let app = spawn_app().await;
    let mut request = request_with(|h| {
        h.patient = Some(pb::Patient {
            age_years: Some(0),
            sex: pb::Sex::Male.into(),
            pregnant: Some(true),
            ..pb::Patient::default()
        });
        h.cramps = Some(pb::Cramps {
            locations: vec![pb::Location::Calf.into(), 42],
            severity: Some(11),
            ..pb::Cramps::default()
        });
        h.medications = vec![medication("aspirin"), medication(" ")];
        h.findings = Some(pb::Findings {
            labs: Some(pb::Labs {
                potassium_mmol_l: Some(45.0),
                ..pb::Labs::default()
            }),
            ..pb::Findings::default()
        });
    });
    request.request_id = "r".repeat(201);

    let status = app.assess(request).await.unwrap_err();

    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let mut fields: Vec<String> = status
        .get_details_bad_request()
        .unwrap()
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "history.cramps.locations[1]",
            "history.cramps.severity",
            "history.findings.labs.potassium_mmol_l",
            "history.medications[1].name",
            "history.patient.age_years",
            "history.patient.pregnant",
            "request_id",
        ]
    );
    let info = status.get_details_error_info().expect("ErrorInfo");
    assert_eq!(info.reason, "INVALID_HISTORY");
    assert_eq!(info.domain, "cramp-cds");
    assert_eq!(
        info.metadata.get("violations").map(String::as_str),
        Some("7")
    );
    app.stop().await;
}

#[tokio::test]
async fn a_missing_history_is_named() {
    let app = spawn_app().await;
    let request = pb::AssessRequest {
        request_id: "no-history".into(),
        input: None,
    };
    assert_eq!(rejected_fields(&app, request).await, ["history"]);
    app.stop().await;
}

#[tokio::test]
async fn age_is_required() {
    let app = spawn_app().await;
    let request = request_with(|h| h.patient = None);
    assert_eq!(
        rejected_fields(&app, request).await,
        ["history.patient.age_years"]
    );
    app.stop().await;
}

#[tokio::test]
async fn age_must_be_between_1_and_120() {
    let app = spawn_app().await;
    for age in [0, 121, u32::MAX] {
        let request = request_with(|h| {
            h.patient = Some(pb::Patient {
                age_years: Some(age),
                ..pb::Patient::default()
            })
        });
        assert_eq!(
            rejected_fields(&app, request).await,
            ["history.patient.age_years"],
            "age {age}"
        );
    }
    for age in [1, 120] {
        let request = request_with(|h| {
            h.patient = Some(pb::Patient {
                age_years: Some(age),
                ..pb::Patient::default()
            })
        });
        assert!(app.assess(request).await.is_ok(), "age {age}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_pregnant_male_is_a_contradiction() {
    let app = spawn_app().await;
    let request = request_with(|h| {
        h.patient = Some(pb::Patient {
            age_years: Some(30),
            sex: pb::Sex::Male.into(),
            pregnant: Some(true),
            ..pb::Patient::default()
        });
    });
    assert_eq!(
        rejected_fields(&app, request).await,
        ["history.patient.pregnant"]
    );
    app.stop().await;
}

#[tokio::test]
async fn unknown_enum_numbers_are_named_by_path_and_index() {
    let app = spawn_app().await;
    let request = request_with(|h| {
        h.patient = Some(pb::Patient {
            age_years: Some(30),
            sex: 99,
            ..pb::Patient::default()
        });
        h.cramps = Some(pb::Cramps {
            contexts: vec![pb::Context::Night.into(), 77],
            ..pb::Cramps::default()
        });
        h.conditions = Some(pb::Conditions {
            ckd_stage: 12,
            ..pb::Conditions::default()
        });
        h.findings = Some(pb::Findings {
            foot_pulses: -3,
            ..pb::Findings::default()
        });
    });
    assert_eq!(
        rejected_fields(&app, request).await,
        [
            "history.patient.sex",
            "history.cramps.contexts[1]",
            "history.conditions.ckd_stage",
            "history.findings.foot_pulses"
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn medication_names_must_not_be_empty() {
    let app = spawn_app().await;
    let request = request_with(|h| h.medications = vec![medication("metformin"), medication("")]);
    assert_eq!(
        rejected_fields(&app, request).await,
        ["history.medications[1].name"]
    );
    app.stop().await;
}

#[tokio::test]
async fn at_most_100_medications() {
    let app = spawn_app().await;
    let request = request_with(|h| h.medications = vec![medication("aspirin"); 101]);
    assert_eq!(
        rejected_fields(&app, request).await,
        ["history.medications"]
    );
    let request = request_with(|h| h.medications = vec![medication("aspirin"); 100]);
    assert!(app.assess(request).await.is_ok());
    app.stop().await;
}

#[tokio::test]
async fn strings_over_200_characters_are_rejected() {
    let app = spawn_app().await;
    let mut request = request_with(|h| {
        h.medications = vec![pb::Medication {
            name: "m".repeat(201),
            rxnorm_cui: Some("1".repeat(201)),
            ..pb::Medication::default()
        }];
    });
    request.request_id = "é".repeat(201);
    assert_eq!(
        rejected_fields(&app, request).await,
        [
            "request_id",
            "history.medications[0].name",
            "history.medications[0].rxnorm_cui"
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn labs_outside_plausibility_bounds_are_rejected_as_unit_errors() {
    let app = spawn_app().await;
    let request = request_with(|h| {
        h.findings = Some(pb::Findings {
            labs: Some(pb::Labs {
                calcium_mg_dl: Some(2.3),
                hba1c_percent: Some(53.0),
                sodium_mmol_l: Some(f64::NAN),
                ..pb::Labs::default()
            }),
            ..pb::Findings::default()
        });
    });
    let mut fields = rejected_fields(&app, request).await;
    fields.sort();
    assert_eq!(
        fields,
        [
            "history.findings.labs.calcium_mg_dl",
            "history.findings.labs.hba1c_percent",
            "history.findings.labs.sodium_mmol_l"
        ]
    );
    app.stop().await;
}

#[tokio::test]
async fn out_of_range_measurements_are_rejected() {
    let app = spawn_app().await;
    let request = request_with(|h| {
        h.cramps = Some(pb::Cramps {
            episodes_per_week: Some(-1.0),
            ..pb::Cramps::default()
        });
        h.lifestyle = Some(pb::Lifestyle {
            daily_fluid_liters: Some(21.0),
            ..pb::Lifestyle::default()
        });
        h.findings = Some(pb::Findings {
            ankle_brachial_index: Some(2.5),
            ..pb::Findings::default()
        });
    });
    let mut fields = rejected_fields(&app, request).await;
    fields.sort();
    assert_eq!(
        fields,
        [
            "history.cramps.episodes_per_week",
            "history.findings.ankle_brachial_index",
            "history.lifestyle.daily_fluid_liters"
        ]
    );
    app.stop().await;
}
