//! Errors: ARM's extended error body (code, message, target, nested details) plus the ids a
//! support request needs, and the tool's own failures. Nothing here ever holds a token.

use serde_json::Value;
use std::fmt;

/// One entry of ARM's recursive `details` list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmErrorDetail {
    pub code: String,
    pub message: String,
    pub target: Option<String>,
    pub details: Vec<ArmErrorDetail>,
}

/// An error ARM returned (HTTP status, or a Failed/Canceled long-running operation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmError {
    /// HTTP status of the response that carried it (the status GET for failed operations).
    pub status: u16,
    pub code: String,
    pub message: String,
    pub target: Option<String>,
    pub details: Vec<ArmErrorDetail>,
    /// `x-ms-correlation-request-id`: quote it to Azure support.
    pub correlation_id: Option<String>,
    pub request_id: Option<String>,
}

impl ArmError {
    /// Parses `{"error": {...}}` (or a bare `{code, message}`); falls back to the raw text.
    pub fn from_body(
        status: u16,
        text: &str,
        correlation_id: Option<String>,
        request_id: Option<String>,
    ) -> Self {
        let parsed: Option<Value> = serde_json::from_str(text).ok();
        let err = parsed.as_ref().and_then(|v| {
            let e = v.get("error").unwrap_or(v);
            e.get("code").and_then(Value::as_str).map(|_| e.clone())
        });
        match err {
            Some(e) => Self::from_detail(status, detail_from(&e), correlation_id, request_id),
            None => Self {
                status,
                code: format!("HttpStatus{status}"),
                message: if text.trim().is_empty() {
                    "(empty response body)".to_string()
                } else {
                    format!("unexpected response body: {}", snippet(text))
                },
                target: None,
                details: vec![],
                correlation_id,
                request_id,
            },
        }
    }

    /// Builds an error from a failed operation's `error` object.
    pub fn from_operation(
        status: u16,
        error: Option<&Value>,
        fallback: &str,
        correlation_id: Option<String>,
    ) -> Self {
        let d = error.map(detail_from).unwrap_or(ArmErrorDetail {
            code: fallback.to_string(),
            message: "the operation ended without an error object".into(),
            target: None,
            details: vec![],
        });
        Self::from_detail(status, d, correlation_id, None)
    }

    fn from_detail(
        status: u16,
        d: ArmErrorDetail,
        correlation_id: Option<String>,
        request_id: Option<String>,
    ) -> Self {
        Self {
            status,
            code: d.code,
            message: d.message,
            target: d.target,
            details: d.details,
            correlation_id,
            request_id,
        }
    }

    /// True for this error code (ARM codes are compared case-insensitively).
    pub fn is(&self, code: &str) -> bool {
        self.code.eq_ignore_ascii_case(code)
    }
}

fn detail_from(v: &Value) -> ArmErrorDetail {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    ArmErrorDetail {
        code: s("code").unwrap_or_else(|| "Unknown".into()),
        message: s("message").unwrap_or_default(),
        target: s("target").filter(|t| !t.is_empty()),
        details: v
            .get("details")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(detail_from).collect())
            .unwrap_or_default(),
    }
}

/// At most 300 characters of a body, on one line, for messages.
pub fn snippet(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut s: String = one_line.chars().take(300).collect();
    if one_line.chars().count() > 300 {
        s.push('…');
    }
    s
}

fn write_details(
    f: &mut fmt::Formatter<'_>,
    details: &[ArmErrorDetail],
    depth: usize,
) -> fmt::Result {
    for d in details {
        write!(f, "\n{}- {}: {}", "  ".repeat(depth + 1), d.code, d.message)?;
        if let Some(t) = &d.target {
            write!(f, " (target: {t})")?;
        }
        write_details(f, &d.details, depth + 1)?;
    }
    Ok(())
}

impl fmt::Display for ArmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.message)?;
        if let Some(t) = &self.target {
            write!(f, " (target: {t})")?;
        }
        write_details(f, &self.details, 0)?;
        match &self.correlation_id {
            Some(c) => write!(f, "\n  correlation id: {c}")?,
            None => write!(f, "\n  correlation id: (none returned)")?,
        }
        if let Some(r) = &self.request_id {
            write!(f, ", request id: {r}")?;
        }
        Ok(())
    }
}

/// Everything that can go wrong in `infra`.
#[derive(Debug, thiserror::Error)]
pub enum InfraError {
    /// Bad flags, environment or catalogue, found before any request.
    #[error("{0}")]
    Config(String),
    /// No usable credential.
    #[error("{0}")]
    Auth(String),
    /// ARM answered with an error.
    #[error("{context}: ARM error {error}")]
    Arm {
        context: String,
        error: Box<ArmError>,
    },
    /// A long-running operation ended Failed or Canceled.
    #[error("{context}: the operation ended {status}: {error}")]
    OperationFailed {
        context: String,
        status: String,
        error: Box<ArmError>,
    },
    /// ARM answered something that is not what the API documents.
    #[error("{context}: malformed ARM response (HTTP {status}): {what}\n  body: {body}\n  correlation id: {}", correlation_id.as_deref().unwrap_or("(none returned)"))]
    Malformed {
        context: String,
        status: u16,
        what: String,
        body: String,
        correlation_id: Option<String>,
    },
    #[error("{context}: no answer from ARM: {message}")]
    Transport { context: String, message: String },
    #[error(
        "{context}: gave up after {waited:.1}s waiting for {last} (deadline {seconds}s for this resource type; --step-deadline changes it). It may still finish: run `infra status`, then `infra bootstrap` again"
    )]
    Deadline {
        context: String,
        /// The deadline (unscaled seconds).
        seconds: u64,
        /// How long it actually waited (seconds, real time).
        waited: f64,
        /// What it was waiting for (the last status seen).
        last: String,
    },
    /// Plan found immutable changes: nothing is written.
    #[error("{0}")]
    Blocked(String),
    /// A dependency failed, so this step was not attempted.
    #[error("skipped: {0}")]
    Skipped(String),
}

impl InfraError {
    /// The ARM error inside, if any.
    pub fn arm(&self) -> Option<&ArmError> {
        match self {
            Self::Arm { error, .. } | Self::OperationFailed { error, .. } => Some(error),
            _ => None,
        }
    }
}
