//! The `cramp.v1.CrampAssessmentService` gRPC door.
//!
//! Transport only: read the message, call [`crate::assess`], map the outcome with [`status`].
//! There is no clinical logic here, so gRPC answers exactly what every other door answers.

pub mod status;

use cramp_core::KnowledgeBase;
use tonic::{Request, Response, Status};

use crate::pb::{
    self,
    cramp_assessment_service_server::{CrampAssessmentService, CrampAssessmentServiceServer},
};

/// Result of one RPC handler.
type RpcResult<T> = Result<Response<T>, Status>;

/// The service implementation; stateless apart from the immutable knowledge base.
#[derive(Debug, Clone, Copy)]
pub struct AssessmentService {
    /// The rule set every call is assessed against; `Copy` and `'static`, so sharing is free.
    kb: KnowledgeBase,
}

impl AssessmentService {
    /// A service answering from `kb`.
    #[must_use]
    pub const fn new(kb: KnowledgeBase) -> Self {
        Self { kb }
    }

    /// The tonic server wrapping this service, ready for `Server::add_service`.
    #[must_use]
    pub fn into_server(self) -> CrampAssessmentServiceServer<Self> {
        CrampAssessmentServiceServer::new(self)
    }
}

#[tonic::async_trait]
impl CrampAssessmentService for AssessmentService {
    async fn assess(&self, request: Request<pb::AssessRequest>) -> RpcResult<pb::AssessResponse> {
        crate::assess::assess(&self.kb, request.into_inner())
            .map(Response::new)
            .map_err(status::from_assess_error)
    }

    async fn get_knowledge_base(
        &self,
        _request: Request<pb::GetKnowledgeBaseRequest>,
    ) -> RpcResult<pb::GetKnowledgeBaseResponse> {
        Ok(Response::new(crate::assess::knowledge_base(&self.kb)))
    }
}
