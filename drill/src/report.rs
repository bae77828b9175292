//! The report: `result.json` (every number), `report.md`, `timeline.svg`, and the text
//! summary printed on stdout.

use crate::measure::{DrillResult, ScenarioResult, ms};
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::Path;

/// Writes the three files into `dir` (created if missing), each through a temporary file and
/// a rename so a reader never sees half a report.
pub fn write(dir: &Path, r: &DrillResult) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_string_pretty(r).map_err(std::io::Error::other)?;
    atomic_write(&dir.join("result.json"), &(json + "\n"))?;
    atomic_write(&dir.join("report.md"), &markdown(r))?;
    atomic_write(&dir.join("timeline.svg"), &svg(r))?;
    Ok(())
}

fn atomic_write(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path)
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or("–".into(), ms)
}

/// The text summary for stdout.
pub fn summary(r: &DrillResult) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Failover drill ({}) of {}: bound {} (catalogue: {} s, RTO {} s), time scale {}",
        r.mode,
        r.profile,
        r.bound_formula,
        r.catalogue_bound_seconds,
        r.catalogue_rto_seconds,
        r.timing.time_scale
    );
    for s in &r.scenarios {
        let _ = writeln!(
            out,
            "  {:<9} {}: detect {}, outage {}, failed {}/{}, by region {:?}{}{}",
            s.scenario_name(),
            if s.passed { "ok  " } else { "FAIL" },
            opt_ms(s.time_to_detect_ms),
            opt_ms(s.outage.map(|o| o.outage_ms)),
            s.failed_requests,
            s.total_requests,
            s.requests_by_region,
            s.failback_ms
                .map(|f| format!(", failback {}", ms(f)))
                .unwrap_or_default(),
            s.recovery_ms
                .map(|f| format!(", recovery {}", ms(f)))
                .unwrap_or_default(),
        );
        for c in s.checks.iter().filter(|c| !c.passed) {
            let _ = writeln!(out, "      failed check: {}: {}", c.name, c.detail);
        }
    }
    let _ = writeln!(
        out,
        "{}",
        if r.passed {
            "All checks passed."
        } else {
            "Some checks FAILED (see above)."
        }
    );
    out
}

impl ScenarioResult {
    pub fn scenario_name(&self) -> &'static str {
        self.scenario.name()
    }
}

pub fn markdown(r: &DrillResult) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Failover drill: {} ({})\n", r.profile, r.mode);
    let _ = writeln!(
        md,
        "Computed bound `(toleratedFailures + 1) x interval + timeout + TTL` = {} (catalogue values: {} s; RTO {} s). Time scale {}: interval {}, timeout {}, TTL {} s, {} tolerated failures; client {} requests/s.\n",
        r.bound_formula,
        r.catalogue_bound_seconds,
        r.catalogue_rto_seconds,
        r.timing.time_scale,
        ms(r.timing.interval.as_secs_f64() * 1000.0),
        ms(r.timing.timeout.as_secs_f64() * 1000.0),
        r.timing.ttl_seconds,
        r.timing.tolerated_failures,
        r.rate_per_second
    );
    let _ = writeln!(
        md,
        "| scenario | result | time to detect | outage (client) | bound | failed / total | by region | failback / recovery |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
    for s in &r.scenarios {
        let by: Vec<String> = s
            .requests_by_region
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} / {} | {} | {} |",
            s.scenario_name(),
            if s.passed { "passed" } else { "**FAILED**" },
            opt_ms(s.time_to_detect_ms),
            opt_ms(s.outage.map(|o| o.outage_ms)),
            ms(s.bound_ms),
            s.failed_requests,
            s.total_requests,
            by.join(", "),
            opt_ms(s.failback_ms.or(s.recovery_ms)),
        );
    }
    for s in &r.scenarios {
        let _ = writeln!(md, "\n## {}\n\nFault: {}.\n", s.scenario_name(), s.fault);
        for c in &s.checks {
            let _ = writeln!(
                md,
                "- [{}] {}: {}",
                if c.passed { "x" } else { " " },
                c.name,
                c.detail
            );
        }
        if !s.errors_by_kind.is_empty() {
            let e: Vec<String> = s
                .errors_by_kind
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect();
            let _ = writeln!(md, "\nFailed requests by kind: {}.", e.join(", "));
        }
        let _ = writeln!(md, "\nProbe events:\n");
        for e in &s.events {
            let _ = writeln!(
                md,
                "- {} {}: {:?} -> {:?} ({})",
                ms(e.at_ms),
                e.endpoint,
                e.from,
                e.to,
                e.probe
            );
        }
    }
    let _ = writeln!(md, "\n![timeline](timeline.svg)");
    md
}

const COLOURS: [&str; 6] = [
    "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#17becf", "#bcbd22",
];
const FAILED: &str = "#d62728";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Requests per second by region (lines) and failed requests per second (red bars) over
/// time, one panel per scenario, with the fault, detection and comeback moments and the
/// computed bound (shaded, from the fault) drawn in.
pub fn svg(r: &DrillResult) -> String {
    let width = 900.0;
    let panel_h = 240.0;
    let (left, right, top) = (60.0, 20.0, 70.0);
    let plot_w = width - left - right;
    let plot_h = panel_h - 70.0;
    let regions: BTreeSet<String> = r
        .scenarios
        .iter()
        .flat_map(|s| s.requests_by_region.keys().cloned())
        .collect();
    let regions: Vec<String> = regions.into_iter().collect();
    let height = top + panel_h * r.scenarios.len().max(1) as f64 + 10.0;
    let mut o = String::new();
    let _ = writeln!(
        o,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        o,
        r#"<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>"#
    );
    let _ = writeln!(
        o,
        r#"<text x="{left}" y="20" font-size="15" font-weight="bold">Failover drill ({}) of {}</text>"#,
        esc(&r.mode),
        esc(&r.profile)
    );
    let _ = writeln!(
        o,
        r#"<text x="{left}" y="38">requests/s by region, failed requests/s; bound {}; time scale {}, {} requests/s</text>"#,
        esc(&r.bound_formula),
        r.timing.time_scale,
        r.rate_per_second
    );
    // Legend.
    let mut lx = left;
    for (i, reg) in regions.iter().enumerate() {
        let c = COLOURS[i % COLOURS.len()];
        let _ = writeln!(
            o,
            r#"<line x1="{lx}" y1="56" x2="{}" y2="56" stroke="{c}" stroke-width="2"/><text x="{}" y="60">{}</text>"#,
            lx + 18.0,
            lx + 22.0,
            esc(reg)
        );
        lx += 30.0 + 8.0 * reg.len() as f64;
    }
    let _ = writeln!(
        o,
        r##"<rect x="{lx}" y="50" width="12" height="10" fill="{FAILED}"/><text x="{}" y="60">failed</text>"##,
        lx + 16.0
    );
    lx += 70.0;
    let _ = writeln!(
        o,
        r##"<rect x="{lx}" y="50" width="12" height="10" fill="#ff7f0e" fill-opacity="0.15" stroke="#ff7f0e"/><text x="{}" y="60">computed bound from the fault</text>"##,
        lx + 16.0
    );
    for (pi, s) in r.scenarios.iter().enumerate() {
        let y0 = top + panel_h * pi as f64 + 20.0;
        let end_s = (s.ended_ms / 1000.0).max(1.0);
        let x = |t_ms: f64| left + plot_w * (t_ms / 1000.0 / end_s).clamp(0.0, 1.0);
        // Buckets of one second, or finer for short scaled runs (>= 20 buckets).
        let bucket_s = if end_s >= 40.0 {
            1.0
        } else {
            (end_s / 40.0).max(0.05)
        };
        // Whole buckets only: a partial last one would read as a drop in traffic.
        let last_s = s.samples.last().map_or(0.0, |x| x.at_ms / 1000.0);
        let n = ((last_s / bucket_s).floor() as usize).max(1);
        let mut per_region = vec![vec![0u32; n]; regions.len()];
        let mut failed = vec![0u32; n];
        for sm in &s.samples {
            let b = ((sm.at_ms / 1000.0) / bucket_s) as usize;
            if b >= n {
                continue;
            }
            if sm.ok() {
                if let Some(i) = regions.iter().position(|r| Some(r) == sm.region.as_ref()) {
                    per_region[i][b] += 1;
                }
            } else {
                failed[b] += 1;
            }
        }
        let rate = |c: u32| f64::from(c) / bucket_s;
        let ymax = per_region
            .iter()
            .flatten()
            .chain(failed.iter())
            .map(|&c| rate(c))
            .fold(1.0, f64::max)
            * 1.1;
        let y = |v: f64| y0 + 20.0 + plot_h * (1.0 - v / ymax);
        let _ = writeln!(
            o,
            r#"<text x="{left}" y="{}" font-weight="bold">{} ({}): {}</text>"#,
            y0 + 10.0,
            s.scenario_name(),
            if s.passed { "passed" } else { "FAILED" },
            esc(&s.fault)
        );
        // Bound, shaded from the fault.
        let bx0 = x(s.fault_at_ms);
        let bx1 = x(s.fault_at_ms + s.bound_ms);
        let _ = writeln!(
            o,
            r##"<rect x="{bx0:.1}" y="{:.1}" width="{:.1}" height="{plot_h}" fill="#ff7f0e" fill-opacity="0.12" stroke="#ff7f0e" stroke-dasharray="4 3"/>"##,
            y0 + 20.0,
            (bx1 - bx0).max(0.5)
        );
        let _ = writeln!(
            o,
            r##"<text x="{:.1}" y="{:.1}" fill="#b35900" text-anchor="end">bound {}</text>"##,
            bx1 - 3.0,
            y0 + 34.0,
            ms(s.bound_ms)
        );
        // Axes.
        let _ = writeln!(
            o,
            r#"<line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="black"/><line x1="{left}" y1="{:.1}" x2="{left}" y2="{:.1}" stroke="black"/>"#,
            y0 + 20.0 + plot_h,
            left + plot_w,
            y0 + 20.0 + plot_h,
            y0 + 20.0,
            y0 + 20.0 + plot_h
        );
        let _ = writeln!(
            o,
            r#"<text x="{}" y="{:.1}" text-anchor="end">{:.0}/s</text><text x="{}" y="{:.1}" text-anchor="end">0</text>"#,
            left - 4.0,
            y0 + 24.0,
            ymax,
            left - 4.0,
            y0 + 20.0 + plot_h
        );
        let ticks = 10;
        for t in 0..=ticks {
            let ts = end_s * f64::from(t) / f64::from(ticks);
            let _ = writeln!(
                o,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{ts:.1} s</text>"#,
                x(ts * 1000.0),
                y0 + 34.0 + plot_h
            );
        }
        // Failed requests per bucket.
        let bw = (plot_w * bucket_s / end_s).max(1.0);
        for (b, &c) in failed.iter().enumerate() {
            if c == 0 {
                continue;
            }
            let bx = x(b as f64 * bucket_s * 1000.0);
            let _ = writeln!(
                o,
                r#"<rect x="{bx:.1}" y="{:.1}" width="{bw:.1}" height="{:.1}" fill="{FAILED}" fill-opacity="0.8"/>"#,
                y(rate(c)),
                y(0.0) - y(rate(c))
            );
        }
        // One line per region.
        for (i, counts) in per_region.iter().enumerate() {
            let pts: Vec<String> = counts
                .iter()
                .enumerate()
                .map(|(b, &c)| {
                    format!(
                        "{:.1},{:.1}",
                        x((b as f64 + 0.5) * bucket_s * 1000.0),
                        y(rate(c))
                    )
                })
                .collect();
            let _ = writeln!(
                o,
                r#"<polyline fill="none" stroke="{}" stroke-width="2" points="{}"/>"#,
                COLOURS[i % COLOURS.len()],
                pts.join(" ")
            );
        }
        // Moments.
        let mut mark = |t: Option<f64>, label: &str, colour: &str, row: f64| {
            if let Some(t) = t {
                let mx = x(t);
                let _ = writeln!(
                    o,
                    r#"<line x1="{mx:.1}" y1="{:.1}" x2="{mx:.1}" y2="{:.1}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="5 3"/><text x="{:.1}" y="{:.1}" fill="{colour}">{}</text>"#,
                    y0 + 20.0,
                    y0 + 20.0 + plot_h,
                    mx + 3.0,
                    y0 + 48.0 + row * 14.0,
                    esc(label)
                );
            }
        };
        mark(Some(s.fault_at_ms), "fault", "black", 0.0);
        mark(s.detected_at_ms, "detected", "#ff7f0e", 1.0);
        mark(s.back_at_ms, "region back", "#2ca02c", 2.0);
        if let Some(out) = s.outage {
            mark(Some(out.last_failure_ms), "last failure", FAILED, 3.0);
        }
    }
    o.push_str("</svg>\n");
    o
}
