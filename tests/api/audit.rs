//! The audit trail: one AuditEvent-shaped event per assessment on the `audit` target, with a keyed
//! pseudonym of the patient id and no answers.

use serde_json::{Value, json};

use crate::{
    fhir_convert::{hook_request, now, prefetch},
    helpers::{capture_trace_logs, minimal_request, spawn_app_at, test_settings},
};

fn history() -> Value {
    json!({
        "patient": {"age_years": 68, "sex": "SEX_MALE"},
        "cramps": {"locations": ["LOCATION_CALF"], "contexts": ["CONTEXT_WALKING"],
            "worse_uphill_or_hurrying": true, "relief_on_standing_still": "RELIEF_WITHIN_10_MINUTES",
            "pain_free_walking_meters": 200, "weeks_since_onset": 30},
        "medications": [{"name": "zzqvatorin 40 mg", "weeks_since_started": 3}]
    })
}

#[test]
fn every_door_writes_one_audit_event_per_assessment_without_patient_data() {
    let logs = capture_trace_logs(|| async {
        let app = spawn_app_at(test_settings(), Some(now())).await;
        app.assess(minimal_request("grpc-audit-1")).await.unwrap();
        // The chart is this patient's (the service refuses another patient's data).
        let chart = prefetch(&history(), true)
            .to_string()
            .replace("\"Patient/pat-1\"", "\"Patient/pat-AUDIT-4242\"")
            .replace("\"id\":\"pat-1\"", "\"id\":\"pat-AUDIT-4242\"");
        let mut request = hook_request("patient-view", &serde_json::from_str(&chart).unwrap());
        request["context"]["patientId"] = json!("pat-AUDIT-4242");
        request["hookInstance"] = json!("hook-audit-1");
        let answer = app
            .http()
            .post("/cds-services/leg-cramp-screen", &request)
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
        // A refused request is audited as a minor failure.
        let mut bad = minimal_request("grpc-audit-bad");
        if let Some(cramp_cds::pb::assess_request::Input::History(h)) = bad.input.as_mut() {
            h.patient.as_mut().unwrap().age_years = Some(400);
        }
        app.assess(bad).await.unwrap_err();
        app.stop().await;
    });
    let events: Vec<Value> = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["target"] == "audit")
        .collect();
    assert_eq!(events.len(), 3, "{events:#?}");
    let fields = |i: usize| &events[i]["fields"];

    assert_eq!(fields(0)["resource_type"], "AuditEvent");
    assert_eq!(fields(0)["type"], "rest");
    assert_eq!(fields(0)["action"], "E");
    assert_eq!(fields(0)["outcome"], "0");
    assert_eq!(
        fields(0)["subtype"],
        "grpc:cramp.v1.CrampAssessmentService/Assess"
    );
    assert_eq!(fields(0)["entity.request"], "grpc-audit-1");
    assert_eq!(fields(0)["agent.who"], "anonymous");
    assert_eq!(fields(0)["knowledge_base_version"], cramp_core::kb::VERSION);
    assert!(
        fields(0)["urgency"]
            .as_str()
            .unwrap()
            .starts_with("URGENCY_")
    );
    assert!(
        time::OffsetDateTime::parse(
            fields(0)["recorded"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );

    assert_eq!(fields(1)["subtype"], "cds-hooks:service");
    assert_eq!(fields(1)["entity.request"], "hook-audit-1");
    let pseudonym = fields(1)["entity.patient"].as_str().unwrap();
    assert!(pseudonym.starts_with("hmac-sha256:"), "{pseudonym}");
    assert!(fields(1)["flags"].as_str().unwrap().contains("FLAG_"));

    assert_eq!(fields(2)["outcome"], "4");
    assert_eq!(fields(2)["urgency"], "");

    // The audit trail names no patient and carries no answer.
    let audit_text = serde_json::to_string(&events).unwrap();
    for secret in [
        "pat-AUDIT-4242",
        "AUDIT-4242",
        "zzqvatorin",
        "LOCATION_CALF",
    ] {
        assert!(
            !audit_text.contains(secret),
            "{secret} leaked into the audit trail"
        );
    }
    // The refused age (400) is looked for as a number of its own in every field but the time and
    // the pseudonym: those are digits by nature ("10:02:40.400512Z", "hmac-sha256:…4007…"), so a
    // plain substring search failed now and then on a clean trail.
    for event in &events {
        for (key, value) in event["fields"].as_object().unwrap() {
            if key == "recorded" || key == "entity.patient" {
                continue;
            }
            let text = value.to_string();
            assert!(
                !text
                    .split(|c: char| !c.is_ascii_digit())
                    .any(|n| n == "400"),
                "the refused age reached {key}: {text}"
            );
        }
    }
}
