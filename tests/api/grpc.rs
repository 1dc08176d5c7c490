//! The API over gRPC: a valid request is assessed and echoed, the knowledge base is published.

use cramp_cds::pb;
use cramp_core::KnowledgeBase;

use crate::helpers::{minimal_request, spawn_app};

#[tokio::test]
async fn assess_echoes_the_request_id_and_carries_the_kb_version() {
    let app = spawn_app().await;

    let response = app.assess(minimal_request("grpc-happy-1")).await.unwrap();

    assert_eq!(response.request_id, "grpc-happy-1");
    let assessment = response.assessment.expect("an assessment");
    assert_eq!(
        assessment.knowledge_base_version,
        KnowledgeBase::standard().version()
    );
    assert_ne!(
        assessment.urgency(),
        pb::Urgency::Unspecified,
        "every assessment has an urgency"
    );
    app.stop().await;
}

#[tokio::test]
async fn assess_answers_what_the_library_answers() {
    let app = spawn_app().await;
    let request = crate::vignettes::load_cases()
        .into_iter()
        .next()
        .expect("a vignette")
        .request;

    let over_grpc = app.assess(request.clone()).await.unwrap();
    let in_process = cramp_cds::assess::Assessor::local(KnowledgeBase::standard())
        .assess(
            &cramp_cds::assess::Call::local(cramp_cds::audit::Door::Cli),
            request,
            0,
        )
        .unwrap()
        .into_response();

    assert_eq!(over_grpc, in_process);
    app.stop().await;
}

#[tokio::test]
async fn get_knowledge_base_publishes_every_rule_with_its_sources() {
    let app = spawn_app().await;

    let response = app
        .client()
        .await
        .get_knowledge_base(pb::GetKnowledgeBaseRequest {})
        .await
        .unwrap()
        .into_inner();

    let kb = KnowledgeBase::standard();
    let published = response.knowledge_base.expect("a knowledge base");
    assert_eq!(published.version, kb.version());
    assert_eq!(published.rules.len(), kb.rules().len());
    assert_eq!(published.sources.len(), kb.sources().len());
    for (rule, meta) in published.rules.iter().zip(kb.rules()) {
        assert_eq!(rule.id, meta.id);
        assert_eq!(rule.version, meta.version);
        assert_eq!(rule.flag().as_str_name(), meta.flag.name());
        assert_eq!(rule.max_urgency().as_str_name(), meta.max_urgency.name());
        let keys: Vec<&str> = rule.citations.iter().map(|c| c.key.as_str()).collect();
        let expected: Vec<&str> = meta.citations.iter().map(|c| c.key).collect();
        assert_eq!(keys, expected, "citations of {}", meta.id);
        assert_eq!(
            rule.codings.len(),
            meta.codings.len(),
            "codings of {}",
            meta.id
        );
    }
    app.stop().await;
}
