//! The audit trail: one structured event per assessment, on its own tracing target.
//!
//! Operational logs say what the service did (rule ids, counts, timings); the audit trail says
//! who asked about which patient and what came back, so it needs its own routing, access control
//! and retention (integration.md §4.3–4.4). It is emitted on the tracing target [`TARGET`]; an
//! operator sends it elsewhere with a filter (`log.filter = "info,audit=off"` drops it from the
//! main log, a collector rule on `target == "audit"` routes it). Its fields follow FHIR
//! AuditEvent (R4): `type` `rest`, `action` `E` (execute), `recorded`, `outcome` (`0` success,
//! `4` minor failure: the request was refused), `agent.who`, `source.observer` and `entity.*`.
//!
//! It carries no answers and no names: the caller's identity, the door, the request id or hook
//! instance, the knowledge base version, the urgency and flag codes, and a keyed HMAC-SHA-256
//! pseudonym of the patient id when one is known. The key is what turns the patient id into a
//! pseudonym rather than a lookup table (a bare hash of an MRN is reversible by enumeration); the
//! same key across replicas and restarts lets an auditor correlate one patient's events.

use std::{fmt::Write as _, path::PathBuf, sync::Arc};

use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

pub use crate::config::AuditSettings;
use crate::{caller::Caller, request_id::loggable_id};

/// The tracing target of audit events.
pub const TARGET: &str = "audit";

/// Shortest accepted pseudonym key: 256 bits, HMAC-SHA-256's block-size guidance.
const MIN_KEY_BYTES: usize = 32;

/// Why the audit trail could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The key file could not be read.
    #[error("invalid configuration: key `audit.pseudonym_key_file`: cannot read `{path}`")]
    Read {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The key is too short to be a secret.
    #[error(
        "invalid configuration: key `audit.pseudonym_key_file`: the key must be at least \
         {MIN_KEY_BYTES} bytes"
    )]
    ShortKey,
    /// Production mode without a shared key.
    #[error(
        "invalid configuration: key `audit.pseudonym_key_file` is required when `http.production` \
         is true (pseudonyms must correlate across replicas and restarts)"
    )]
    KeyRequired,
}

/// Which door an assessment came through (`AuditEvent.subtype`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Door {
    /// gRPC `Assess`.
    GrpcAssess,
    /// One record of a gRPC `AssessBatch` stream.
    GrpcAssessBatch,
    /// A CDS Hooks service call.
    CdsHooks,
    /// FHIR `$cramp-assess`.
    FhirOperation,
    /// The `assess` command.
    Cli,
    /// In-process `screen`.
    Screen,
}

impl Door {
    /// The subtype code written to the event.
    #[must_use]
    pub const fn code(self) -> &'static str {
        match self {
            Self::GrpcAssess => "grpc:cramp.v1.CrampAssessmentService/Assess",
            Self::GrpcAssessBatch => "grpc:cramp.v1.CrampAssessmentService/AssessBatch",
            Self::CdsHooks => "cds-hooks:service",
            Self::FhirOperation => "fhir:$cramp-assess",
            Self::Cli => "cli:assess",
            Self::Screen => "cli:screen",
        }
    }
}

/// The audit trail: enabled or not, and the pseudonym key. Cheap to clone.
#[derive(Clone)]
pub struct Audit {
    enabled: bool,
    key: Arc<[u8]>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl Audit {
    /// Loads the key; `production` requires a key file.
    ///
    /// # Errors
    /// [`AuditError`] naming the key at fault.
    pub fn load(settings: &AuditSettings, production: bool) -> Result<Self, AuditError> {
        let key: Vec<u8> = match settings.pseudonym_key_file.as_deref() {
            Some(path) => {
                let key = std::fs::read(path).map_err(|source| AuditError::Read {
                    path: path.to_owned(),
                    source,
                })?;
                let key = key.trim_ascii().to_vec();
                if key.len() < MIN_KEY_BYTES {
                    return Err(AuditError::ShortKey);
                }
                key
            }
            None if production && settings.enabled => return Err(AuditError::KeyRequired),
            None => {
                if settings.enabled {
                    tracing::warn!(
                        "audit.pseudonym_key_file is not set: patient pseudonyms use a random \
                         per-process key and do not correlate across restarts or replicas"
                    );
                }
                let mut key = Vec::with_capacity(MIN_KEY_BYTES);
                key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
                key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
                key
            }
        };
        Ok(Self {
            enabled: settings.enabled,
            key: key.into(),
        })
    }

    /// A trail that records nothing: local doors, where the operator runs their own data.
    #[must_use]
    pub fn off() -> Self {
        Self {
            enabled: false,
            key: Arc::from(Vec::new()),
        }
    }

    /// An enabled trail with a random key (tests, and doors built without settings).
    #[must_use]
    pub fn ephemeral() -> Self {
        let mut key = Vec::with_capacity(MIN_KEY_BYTES);
        key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        Self {
            enabled: true,
            key: key.into(),
        }
    }

    /// The keyed pseudonym of a patient id: HMAC-SHA-256, hex, prefixed with its scheme.
    #[must_use]
    pub fn pseudonym(&self, patient_id: &str) -> String {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.key) else {
            // HMAC accepts keys of any length; this arm is unreachable in practice.
            return "hmac-sha256:unavailable".to_owned();
        };
        mac.update(patient_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(12 + digest.len() * 2);
        out.push_str("hmac-sha256:");
        for byte in digest {
            let _ = write!(out, "{byte:02x}");
        }
        out
    }

    /// Records one assessment that was answered.
    pub fn assessed(
        &self,
        door: Door,
        caller: &Caller,
        request_id: &str,
        patient_id: Option<&str>,
        assessment: &cramp_core::Assessment,
    ) {
        // Nothing to build when no subscriber takes audit events (batch throughput).
        if !self.enabled || !tracing::enabled!(target: TARGET, tracing::Level::INFO) {
            return;
        }
        let urgency = assessment.urgency.name();
        // A `&str` field (quoted in text logs), built without the intermediate `Vec`.
        let mut flags = String::with_capacity(assessment.flags.len() * 24);
        for (i, flag) in assessment.flags.iter().enumerate() {
            if i > 0 {
                flags.push(',');
            }
            flags.push_str(flag.flag.name());
        }
        self.emit(
            door,
            caller,
            request_id,
            patient_id,
            "0",
            urgency,
            &flags,
            assessment.knowledge_base_version,
        );
    }

    /// Records one request that was refused as invalid (nothing was assessed).
    pub fn refused(&self, door: Door, caller: &Caller, request_id: &str, patient_id: Option<&str>) {
        if !self.enabled || !tracing::enabled!(target: TARGET, tracing::Level::INFO) {
            return;
        }
        self.emit(door, caller, request_id, patient_id, "4", "", "", "");
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one flat event; a struct would only move the same list"
    )]
    fn emit(
        &self,
        door: Door,
        caller: &Caller,
        request_id: &str,
        patient_id: Option<&str>,
        outcome: &str,
        urgency: &str,
        flags: &str,
        kb_version: &str,
    ) {
        let mut stamp = [0_u8; STAMP_BYTES];
        let recorded = recorded_now(&mut stamp);
        let patient = patient_id
            .filter(|id| !id.is_empty())
            .map(|id| self.pseudonym(id))
            .unwrap_or_default();
        tracing::info!(
            target: TARGET,
            resource_type = "AuditEvent",
            r#type = "rest",
            subtype = door.code(),
            action = "E",
            recorded = %recorded,
            outcome,
            agent.who = %caller.identity(),
            agent.method = caller.method(),
            source.observer = "cramp-cds",
            entity.request = %loggable_id(request_id),
            entity.patient = %patient,
            knowledge_base_version = kb_version,
            urgency,
            flags,
            "assessment audited"
        );
    }
}

/// Room for an RFC 3339 timestamp with nanoseconds (35 bytes at most with an offset).
const STAMP_BYTES: usize = 48;

/// The audit event's `recorded`: now, RFC 3339, formatted into `stamp` rather than a `String`
/// (one allocation less per assessment); empty if it cannot be formatted.
fn recorded_now(stamp: &mut [u8; STAMP_BYTES]) -> &str {
    let mut out: &mut [u8] = &mut stamp[..];
    // The count `format_into` returns falls short for `Rfc3339` (time 0.3.55); what it wrote is
    // what the slice has advanced by.
    let written = match OffsetDateTime::now_utc().format_into(&mut out, &Rfc3339) {
        Ok(_) => STAMP_BYTES - out.len(),
        Err(_) => 0,
    };
    stamp
        .get(..written)
        .and_then(|text| std::str::from_utf8(text).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_is_rfc3339_now() {
        let mut stamp = [0; STAMP_BYTES];
        let recorded = recorded_now(&mut stamp).to_owned();
        let parsed = OffsetDateTime::parse(&recorded, &Rfc3339).expect(&recorded);
        assert!(
            (OffsetDateTime::now_utc() - parsed).whole_seconds().abs() < 60,
            "{recorded}"
        );
    }

    #[test]
    fn pseudonyms_are_keyed_stable_and_not_the_id() {
        let audit = Audit::ephemeral();
        let a = audit.pseudonym("mrn-12345");
        assert_eq!(a, audit.pseudonym("mrn-12345"));
        assert_ne!(a, audit.pseudonym("mrn-12346"));
        assert!(!a.contains("12345"));
        assert!(a.starts_with("hmac-sha256:"));
        assert_eq!(a.len(), "hmac-sha256:".len() + 64);
        // Another key, another pseudonym: without the key the id cannot be enumerated back.
        assert_ne!(a, Audit::ephemeral().pseudonym("mrn-12345"));
    }

    #[test]
    fn a_key_file_is_read_and_must_be_long_enough() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "0123456789abcdef0123456789abcdef\n").unwrap();
        let settings = AuditSettings {
            enabled: true,
            pseudonym_key_file: Some(path.clone()),
        };
        let one = Audit::load(&settings, true).unwrap();
        let two = Audit::load(&settings, true).unwrap();
        assert_eq!(
            one.pseudonym("p"),
            two.pseudonym("p"),
            "same key, same pseudonym"
        );
        std::fs::write(&path, "short").unwrap();
        assert!(matches!(
            Audit::load(&settings, false),
            Err(AuditError::ShortKey)
        ));
        let keyless = AuditSettings {
            enabled: true,
            pseudonym_key_file: None,
        };
        assert!(matches!(
            Audit::load(&keyless, true),
            Err(AuditError::KeyRequired)
        ));
        assert!(Audit::load(&keyless, false).is_ok());
    }
}
