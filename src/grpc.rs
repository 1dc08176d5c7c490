//! The `cramp.v1.CrampAssessmentService` gRPC door.
//!
//! Transport only: read the message, call the one [`Assessor`], map a refusal with
//! [`crate::status`].
//! There is no clinical logic here, so gRPC answers exactly what every other door answers.
//! `AssessBatch` hands its stream to [`crate::batch`], which calls the same `assess` per record.

use std::pin::Pin;

use cramp_core::KnowledgeBase;
use tokio::sync::watch;
use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::{
    assess::{Assessor, Call},
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
    /// The one assessor: the rule set and the audit trail every assessment is recorded in.
    assessor: Assessor,
    /// Window, record cap and idle timeout of every `AssessBatch` stream.
    batch_limits: BatchLimits,
    /// Live batch counts, shared with whoever built the service (tests, operators).
    batch_gauge: BatchGauge,
    /// Turns true at the shutdown deadline; open batch streams then end with `UNAVAILABLE`.
    shutdown: Option<watch::Receiver<bool>>,
    /// `server.max_message_bytes`, told to `AssessBatch` clients (see [`batch::MAX_MESSAGE_BYTES_HEADER`]).
    max_message_bytes: Option<usize>,
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
            assessor: Assessor::new(kb, Audit::ephemeral()),
            batch_limits: BatchLimits::default(),
            batch_gauge: BatchGauge::default(),
            shutdown: None,
            max_message_bytes: None,
        }
    }

    /// Tells `AssessBatch` clients the largest record the server decodes (the server applies
    /// the limit itself with `max_decoding_message_size`).
    #[must_use]
    pub const fn with_max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = Some(bytes);
        self
    }

    /// The same service recording into `audit`.
    #[must_use]
    pub fn with_audit(mut self, audit: Audit) -> Self {
        self.assessor = Assessor::new(*self.assessor.kb(), audit);
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
        self.assessor
            .assess(
                &Call::new(Door::GrpcAssess, &caller),
                request.into_inner(),
                pb::AssessmentView::Unspecified.into(),
            )
            .map(|assessed| Response::new(assessed.into_response()))
            .map_err(|err| status::invalid_argument(err.violations()))
    }

    async fn get_knowledge_base(
        &self,
        _request: Request<pb::GetKnowledgeBaseRequest>,
    ) -> RpcResult<pb::GetKnowledgeBaseResponse> {
        Ok(Response::new(crate::assess::knowledge_base(
            self.assessor.kb(),
        )))
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
            caller: caller_of(&request),
        };
        let answers = batch::assess_stream_with(
            self.assessor.clone(),
            self.batch_limits,
            self.batch_gauge.clone(),
            request.into_inner(),
            options,
        );
        let mut response = Response::new(Box::pin(answers) as BatchAnswers);
        if let Some(bytes) = self.max_message_bytes {
            response.metadata_mut().insert(
                batch::MAX_MESSAGE_BYTES_HEADER,
                tonic::metadata::MetadataValue::from(bytes),
            );
        }
        Ok(response)
    }
}
