//! What a reviewer reads first: the catalogue change (a structural diff of the two parsed
//! catalogues, field by field, old → new) and each region's HA values before and after
//! (priority, zones, replicas min–max, image).

use super::objects::{FieldChange, fields_diff};
use catalogue::CatalogueSpec;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

/// One region's HA values, from its catalogue entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ha {
    pub priority: u32,
    /// `1, 2, 3`, or `non-zonal`.
    pub zones: String,
    /// `3–12`.
    pub replicas: String,
    /// `hello:1.1.0` or `hello@sha256:…`: `regions[].image` when set, else the candidate.
    pub image: String,
    pub in_rotation: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HaRow {
    pub region: String,
    pub old: Option<Ha>,
    pub new: Option<Ha>,
}

#[derive(Debug, Clone, Default)]
pub struct CatalogueChange {
    /// Repository-relative path of the catalogue.
    pub path: String,
    /// Changed fields, old → new (`regions[name=westus3]` for a whole region).
    pub fields: Vec<FieldChange>,
    /// Every region of either side, sorted by name.
    pub rows: Vec<HaRow>,
    /// A side whose catalogue is missing or does not parse (its values are then unknown).
    pub notes: Vec<String>,
}

impl CatalogueChange {
    /// Compares the catalogue texts of both sides (`None`: the side has no catalogue).
    pub fn between(
        path: &str,
        old_label: &str,
        old: Option<&str>,
        new_label: &str,
        new: Option<&str>,
    ) -> Self {
        let mut notes = Vec::new();
        let mut side =
            |label: &str, text: Option<&str>| -> (Option<Value>, Option<CatalogueSpec>) {
                let Some(text) = text else {
                    notes.push(format!("{label} has no {path}"));
                    return (None, None);
                };
                let raw = serde_saphyr::from_str::<Value>(text).ok();
                let spec = match catalogue::parse_spec(Path::new(path), text) {
                    Ok((spec, _)) => Some(spec),
                    Err(e) => {
                        let e = e.to_string();
                        let first = e.lines().next().unwrap_or_default();
                        notes.push(format!("{path} on {label} does not parse: {first}"));
                        None
                    }
                };
                (raw, spec)
            };
        let (old_raw, old_spec) = side(old_label, old);
        let (new_raw, new_spec) = side(new_label, new);
        let mut fields = Vec::new();
        if let (Some(o), Some(n)) = (&old_raw, &new_raw) {
            fields_diff("", o, n, &mut fields);
        }
        let has = |s: &Option<CatalogueSpec>, r: &str| {
            s.as_ref().and_then(|s| {
                s.regions
                    .iter()
                    .find(|x| x.name.as_str() == r)
                    .map(|x| ha(s, x))
            })
        };
        let names: BTreeSet<String> = [&old_spec, &new_spec]
            .iter()
            .filter_map(|s| s.as_ref())
            .flat_map(|s| s.regions.iter().map(|r| r.name.as_str().to_string()))
            .collect();
        let rows = names
            .into_iter()
            .map(|r| HaRow {
                old: has(&old_spec, &r),
                new: has(&new_spec, &r),
                region: r,
            })
            .collect();
        Self {
            path: path.to_string(),
            fields,
            rows,
            notes,
        }
    }

    pub fn unchanged(&self) -> bool {
        self.fields.is_empty() && self.notes.is_empty()
    }
}

fn ha(spec: &CatalogueSpec, r: &catalogue::Region) -> Ha {
    let version = r.image.as_deref().unwrap_or_else(|| spec.app.version());
    let sep = if version.starts_with("sha256:") {
        "@"
    } else {
        ":"
    };
    Ha {
        priority: r.priority,
        zones: if r.zones.is_empty() {
            "non-zonal".into()
        } else {
            r.zones
                .iter()
                .map(u8::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        },
        replicas: format!("{}–{}", r.replicas.min, r.replicas.max),
        image: format!("{}{sep}{version}", spec.app.image),
        in_rotation: r.in_rotation,
    }
}
