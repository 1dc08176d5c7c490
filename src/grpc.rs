//! The `cramp.v1.CrampAssessmentService` gRPC door.
//!
//! Transport only: read the message, call [`crate::assess`], map the outcome with [`status`].
//! There is no clinical logic here, so gRPC answers exactly what every other door answers.
//! `AssessBatch` hands its stream to [`crate::batch`], which calls the same `assess` per record.

use std::pin::Pin;

use cramp_core::KnowledgeBase;
use tokio::sync::watch;
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::{
    audit::{Audit, Door},
    batch::{self, BatchGauge, BatchLimits},
    caller::{Caller, ClientCertificate},
    pb::{
        self,
        cramp_assessment_service_server::{CrampAssessmentService, CrampAssessmentServiceServer},
    },
    status,
};

/// Result of one RPC handler.
type RpcResult<T> = Result<Response<T>, Status>;

/// The answers of one `AssessBatch` call, in request order.
type BatchAnswers = Pin<Box<dyn Stream<Item = Result<pb::AssessBatchResponse, Status>> + Send>>;

/// The service implementation; stateless apart from the immutable knowledge base (the batch
/// gauge only counts).
#[derive(Debug, Clone)]
pub struct AssessmentService {
    /// The rule set every call is assessed against; `Copy` and `'static`, so sharing is free.
    kb: KnowledgeBase,
    /// Window, record cap and idle timeout of every `AssessBatch` stream.
    batch_limits: BatchLimits,
    /// Live batch counts, shared with whoever built the service (tests, operators).
    batch_gauge: BatchGauge,
    /// The audit trail every assessment is recorded in.
    audit: Audit,
    /// Turns true at the shutdown deadline; open batch streams then end with `UNAVAILABLE`.
    shutdown: Option<watch::Receiver<bool>>,
}

/// The authenticated caller the auth layer left in the request, or anonymous (auth off).
fn caller_of<T>(request: &Request<T>) -> Caller {
    Caller::resolve(
        request.extensions().get::<Caller>(),
        request.extensions().get::<ClientCertificate>(),
    )
}

impl AssessmentService {
    /// A service answering from `kb`, with the default batch limits.
    #[must_use]
    pub fn new(kb: KnowledgeBase) -> Self {
        Self {
            kb,
            batch_limits: BatchLimits::default(),
            batch_gauge: BatchGauge::default(),
            audit: Audit::ephemeral(),
            shutdown: None,
        }
    }

    /// The same service recording into `audit`.
    #[must_use]
    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.audit = audit;
        self
    }

    /// The same service ending open batch streams when `shutdown` turns true.
    #[must_use]
    pub fn with_shutdown(mut self, shutdown: watch::Receiver<bool>) -> Self {
        self.shutdown = Some(shutdown);
        self
    }

    /// The same service with these batch limits, counting into `gauge`.
    #[must_use]
    pub fn with_batch(mut self, limits: BatchLimits, gauge: BatchGauge) -> Self {
        self.batch_limits = limits;
        self.batch_gauge = gauge;
        self
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
        let caller = caller_of(&request);
        let request = request.into_inner();
        let request_id = request.request_id.clone();
        match crate::assess::assess(&self.kb, request) {
            Ok(response) => {
                if let Some(assessment) = &response.assessment {
                    self.audit
                        .assessed(Door::GrpcAssess, &caller, &request_id, None, assessment);
                }
                Ok(Response::new(response))
            }
            Err(err) => {
                self.audit
                    .refused(Door::GrpcAssess, &caller, &request_id, None);
                Err(status::invalid_argument(err.violations()))
            }
        }
    }

    async fn get_knowledge_base(
        &self,
        _request: Request<pb::GetKnowledgeBaseRequest>,
    ) -> RpcResult<pb::GetKnowledgeBaseResponse> {
        Ok(Response::new(crate::assess::knowledge_base(&self.kb)))
    }

    type AssessBatchStream = BatchAnswers;

    #[tracing::instrument(name = "assess_batch", skip_all)]
    async fn assess_batch(
        &self,
        request: Request<Streaming<pb::AssessBatchRequest>>,
    ) -> RpcResult<Self::AssessBatchStream> {
        // The client's deadline covers the whole stream, not just its opening.
        let deadline = request
            .metadata()
            .get("grpc-timeout")
            .and_then(|v| v.to_str().ok())
            .and_then(crate::limits::parse_grpc_timeout)
            .map(|timeout| tokio::time::Instant::now() + crate::limits::answer_by(timeout));
        let options = batch::StreamOptions {
            shutdown: self.shutdown.clone(),
            deadline,
            audit: Some((self.audit.clone(), caller_of(&request))),
        };
        let answers = batch::assess_stream_with(
            self.kb,
            self.batch_limits,
            self.batch_gauge.clone(),
            request.into_inner(),
            options,
        );
        Ok(Response::new(Box::pin(answers)))
    }
}
