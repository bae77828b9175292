//! Waves: the order regions receive a release in. By default one wave per Traffic Manager
//! priority, highest number first, so the primary (priority 1) comes last, after every other
//! region served the release and baked.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wave {
    /// 1-based position, for messages.
    pub number: usize,
    pub regions: Vec<String>,
}

/// One wave per priority, highest number first.
pub fn by_priority<'a>(regions: impl IntoIterator<Item = (&'a str, u32)>) -> Vec<Wave> {
    let mut by: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for (name, priority) in regions {
        by.entry(priority).or_default().push(name.to_string());
    }
    by.into_values()
        .rev()
        .enumerate()
        .map(|(i, mut regions)| {
            regions.sort();
            Wave {
                number: i + 1,
                regions,
            }
        })
        .collect()
}

/// The first wave with a region that does not run `candidate` (`running` maps region ->
/// image); `None` when every region runs it.
pub fn next<'w>(
    waves: &'w [Wave],
    running: &BTreeMap<String, String>,
    candidate: &str,
) -> Option<&'w Wave> {
    waves.iter().find(|w| {
        w.regions
            .iter()
            .any(|r| running.get(r).map(String::as_str) != Some(candidate))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_primary_comes_last_and_ties_share_a_wave() {
        let w = by_priority([
            ("eastus2", 1),
            ("centralus", 2),
            ("westus3", 3),
            ("westeurope", 3),
        ]);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].regions, ["westeurope", "westus3"]);
        assert_eq!(w[1].regions, ["centralus"]);
        assert_eq!(w[2].regions, ["eastus2"]);
        assert_eq!(w[2].number, 3);
    }

    #[test]
    fn next_skips_waves_that_run_the_candidate() {
        let w = by_priority([("eastus2", 1), ("centralus", 2)]);
        let mut running = BTreeMap::from([
            ("eastus2".to_string(), "old".to_string()),
            ("centralus".to_string(), "new".to_string()),
        ]);
        assert_eq!(next(&w, &running, "new").unwrap().regions, ["eastus2"]);
        running.insert("eastus2".into(), "new".into());
        assert!(next(&w, &running, "new").is_none());
        assert_eq!(next(&w, &running, "newer").unwrap().number, 1);
    }
}
