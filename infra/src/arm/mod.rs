//! A thin Azure Resource Manager client: auth, create-or-update PUTs, long-running operations,
//! retries that honour `Retry-After`, and ARM errors shown with their correlation id.

pub mod api_versions;
pub mod auth;
pub mod client;
pub mod error;
pub mod lro;
pub mod schema;

pub use auth::TokenSource;
pub use client::{ArmClient, ClientOptions, Endpoint, Response};
pub use error::{ArmError, ArmErrorDetail, InfraError};
pub use lro::{PutOptions, ResourceKind};
