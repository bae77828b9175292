//! `infra status`: provisioning state of every resource, Flux compliance, Traffic Manager
//! monitor status. Reads only.

use crate::arm::{ArmClient, InfraError, ResourceKind};
use crate::plan::{self, Action};
use catalogue::Catalogue;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusItem {
    pub key: String,
    pub kind: ResourceKind,
    pub region: Option<String>,
    pub name: String,
    pub id: Option<String>,
    /// `missing`, `not managed`, `unknown` (role assignment of a missing cluster), or the
    /// resource's provisioningState (`Succeeded` when the RP reports none).
    pub state: String,
    /// Flux configuration `complianceState`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compliance: Option<String>,
    /// Traffic Manager `profileMonitorStatus` / `endpointMonitorStatus`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor: Option<String>,
    /// True when the plan would write something here.
    pub drift: bool,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    pub items: Vec<StatusItem>,
    pub worst_case_failover_seconds: u64,
}

impl Status {
    /// Every managed resource exists and Succeeded.
    pub fn healthy(&self) -> bool {
        self.items
            .iter()
            .all(|i| i.state == "Succeeded" || i.state == "not managed")
    }
}

fn s(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

pub async fn status(client: &ArmClient, c: &Catalogue) -> Result<Status, InfraError> {
    let plan = plan::plan(client, c).await?;
    let items = plan
        .items
        .iter()
        .map(|i| {
            let (state, compliance, monitor) = match (&i.action, &i.actual) {
                (Action::Skipped { .. }, _) => ("not managed".to_string(), None, None),
                (Action::Deferred { .. }, _) => ("unknown".to_string(), None, None),
                (Action::Remove { .. }, _) => (
                    "stale: granted to a previous identity".to_string(),
                    None,
                    None,
                ),
                (_, None) => ("missing".to_string(), None, None),
                (_, Some(a)) => {
                    let state = s(a.pointer("/properties/provisioningState"))
                        .unwrap_or_else(|| "Succeeded".into());
                    let compliance = s(a.pointer("/properties/complianceState"));
                    let monitor = s(a.pointer("/properties/monitorConfig/profileMonitorStatus"))
                        .or_else(|| s(a.pointer("/properties/endpointMonitorStatus")));
                    (state, compliance, monitor)
                }
            };
            StatusItem {
                key: i.key.clone(),
                kind: i.kind,
                region: i.region.clone(),
                name: i.name.clone(),
                id: i.id.clone(),
                state,
                compliance,
                monitor,
                drift: i.action.writes() || matches!(i.action, Action::Blocked { .. }),
            }
        })
        .collect();
    Ok(Status {
        items,
        worst_case_failover_seconds: plan.worst_case_failover_seconds,
    })
}

pub fn render_text(st: &Status) -> String {
    let mut out = String::new();
    for i in &st.items {
        let scope = i.region.as_deref().unwrap_or("global");
        out.push_str(&format!(
            "[{scope}] {} {}: {}",
            i.kind.label(),
            i.name,
            i.state
        ));
        if let Some(c) = &i.compliance {
            out.push_str(&format!(", compliance {c}"));
        }
        if let Some(m) = &i.monitor {
            out.push_str(&format!(", monitor {m}"));
        }
        if i.drift {
            out.push_str(" (differs from the catalogue: see `infra plan`)");
        }
        out.push('\n');
    }
    out.push_str(&format!(
        "Traffic Manager worst-case failover: {}s\n",
        st.worst_case_failover_seconds
    ));
    out
}
