//! Printing a [`Report`]: text for terminals, markdown for a pull-request comment.

use super::catalogue_change::{CatalogueChange, Ha, HaRow};
use super::objects::{ChangeKind, ObjectChange};
use super::{RegionDiff, RegionStatus, Report, Side};
use console::Style;
use std::fmt::Write as _;

/// Hidden first line of the markdown: the PR workflow finds its previous comment by it.
pub const MARKER: &str = "<!-- gen-diff -->";

/// GitHub refuses comments over 65,536 characters.
pub const COMMENT_LIMIT: usize = 65_536;

fn field_line(f: &super::FieldChange) -> String {
    match (&f.old, &f.new) {
        (Some(o), Some(n)) => format!("{}: {o} → {n}", f.path),
        (None, Some(n)) => format!("{}: added: {n}", f.path),
        (Some(o), None) => format!("{}: removed (was {o})", f.path),
        (None, None) => f.path.clone(),
    }
}

fn counts(report: &Report) -> String {
    let total = report.regions.len();
    let changed = report.changed().count();
    let of = |s| report.regions.iter().filter(|r| r.status == s).count();
    let mut extra = Vec::new();
    for (s, label) in [
        (RegionStatus::Added, "added"),
        (RegionStatus::Removed, "removed"),
    ] {
        let n = of(s);
        if n > 0 {
            extra.push(format!("{n} {label}"));
        }
    }
    let extra = if extra.is_empty() {
        String::new()
    } else {
        format!(" ({})", extra.join(", "))
    };
    format!(
        "{changed} of {total} region{} changed{extra}",
        if total == 1 { "" } else { "s" }
    )
}

/// Terminal report; `colour` adds ANSI styles.
pub fn text(report: &Report, colour: bool) -> String {
    let st = |s: Style| s.force_styling(colour);
    let (bold, green, red, yellow, cyan, dim) = (
        st(Style::new().bold()),
        st(Style::new().green()),
        st(Style::new().red()),
        st(Style::new().yellow()),
        st(Style::new().cyan()),
        st(Style::new().dim()),
    );
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} → {}: {}",
        bold.apply_to("gen diff"),
        report.old_label,
        report.new_label,
        counts(report)
    );
    if let Some(c) = &report.catalogue {
        let _ = writeln!(out, "\n{}", bold.apply_to(catalogue_headline(c)));
        for f in c.fields.iter().take(FIELDS_SHOWN) {
            let _ = writeln!(out, "  {}", catalogue_field(f, false));
        }
        if c.fields.len() > FIELDS_SHOWN {
            let _ = writeln!(out, "  … and {} more", c.fields.len() - FIELDS_SHOWN);
        }
        for n in &c.notes {
            let _ = writeln!(out, "  note: {n}");
        }
        let changed: Vec<&HaRow> = c.rows.iter().filter(|r| r.old != r.new).collect();
        for row in changed {
            let _ = writeln!(out, "  {}: {}", row.region, ha_change(row));
        }
    }
    for r in &report.regions {
        let status = match (r.status, &r.error) {
            (_, Some(_)) => red.apply_to("error").to_string(),
            (RegionStatus::Added, _) => green.apply_to("added").to_string(),
            (RegionStatus::Removed, _) => red.apply_to("removed").to_string(),
            (RegionStatus::Changed, _) => yellow.apply_to("changed").to_string(),
            (RegionStatus::Unchanged, _) => dim.apply_to("unchanged").to_string(),
        };
        let detail = match r.status {
            RegionStatus::Unchanged if r.error.is_none() => String::new(),
            RegionStatus::Added => format!("  ({} objects)", r.new_objects),
            RegionStatus::Removed => format!("  ({} objects)", r.old_objects),
            _ => format!("  {}", r.summary()),
        };
        let _ = writeln!(out, "\n{}  {status}{detail}", bold.apply_to(&r.region));
        if let Some((side, e)) = &r.error {
            let side = match side {
                Side::Old => &report.old_label,
                Side::New => &report.new_label,
            };
            let _ = writeln!(out, "  {} ({side}):", red.apply_to("build failed"));
            for l in e.lines() {
                let _ = writeln!(out, "    {l}");
            }
        }
        for c in &r.changes {
            let (sign, style) = match c.kind {
                ChangeKind::Added => ("+", &green),
                ChangeKind::Removed => ("-", &red),
                ChangeKind::Changed => ("~", &yellow),
            };
            let _ = writeln!(out, "  {} {}", style.apply_to(sign), c.key);
            if r.status != RegionStatus::Changed {
                continue;
            }
            for f in &c.fields {
                let _ = writeln!(out, "      {}", field_line(f));
            }
            if c.kind == ChangeKind::Changed {
                for line in c.unified.lines() {
                    let styled = if line.starts_with("+++") || line.starts_with("---") {
                        bold.apply_to(line).to_string()
                    } else if line.starts_with('+') {
                        green.apply_to(line).to_string()
                    } else if line.starts_with('-') {
                        red.apply_to(line).to_string()
                    } else if line.starts_with("@@") {
                        cyan.apply_to(line).to_string()
                    } else {
                        line.to_string()
                    };
                    let _ = writeln!(out, "    {styled}");
                }
            }
        }
    }
    out
}

/// At most this many catalogue fields are listed; the rest are counted.
const FIELDS_SHOWN: usize = 20;
/// Values in the catalogue change are cut at this many characters (a digest fits).
const VALUE_SHOWN: usize = 80;

fn short_value(v: &str) -> String {
    if v.chars().count() <= VALUE_SHOWN {
        v.to_string()
    } else {
        let cut: String = v.chars().take(VALUE_SHOWN).collect();
        format!("{cut}…")
    }
}

fn catalogue_headline(c: &CatalogueChange) -> String {
    match c.fields.len() {
        0 if c.notes.is_empty() => format!("Catalogue {}: unchanged", c.path),
        0 => format!("Catalogue {}", c.path),
        1 => format!("Catalogue {}: 1 field changed", c.path),
        n => format!("Catalogue {}: {n} fields changed", c.path),
    }
}

/// `app.tag: 1.0.0 → 1.1.0`; a whole new or removed map (a region) is just `added`/`removed`.
fn catalogue_field(f: &super::FieldChange, md: bool) -> String {
    let q = |s: &str| {
        if md {
            code(&short_value(s))
        } else {
            short_value(s)
        }
    };
    let whole = |s: &str| s.starts_with('{') || s.contains('\n');
    let path = if md { code(&f.path) } else { f.path.clone() };
    match (&f.old, &f.new) {
        (Some(o), Some(n)) => format!("{path}: {} → {}", q(o), q(n)),
        (None, Some(n)) if whole(n) => format!("{path}: added"),
        (None, Some(n)) => format!("{path}: added {}", q(n)),
        (Some(o), None) if whole(o) => format!("{path}: removed"),
        (Some(o), None) => format!("{path}: removed (was {})", q(o)),
        (None, None) => path,
    }
}

/// `priority 2 → 3, replicas 3–12 → 6–12` for a terminal.
fn ha_change(row: &HaRow) -> String {
    match (&row.old, &row.new) {
        (None, Some(n)) => format!("added: {}", ha_line(n)),
        (Some(o), None) => format!("removed (was {})", ha_line(o)),
        (Some(o), Some(n)) => {
            let mut parts = Vec::new();
            let mut field = |name: &str, a: String, b: String| {
                if a != b {
                    parts.push(format!("{name} {a} → {b}"));
                }
            };
            field("priority", o.priority.to_string(), n.priority.to_string());
            field("zones", o.zones.clone(), n.zones.clone());
            field("replicas", o.replicas.clone(), n.replicas.clone());
            field("image", o.image.clone(), n.image.clone());
            field(
                "in rotation",
                o.in_rotation.to_string(),
                n.in_rotation.to_string(),
            );
            parts.join(", ")
        }
        (None, None) => String::new(),
    }
}

fn ha_line(h: &Ha) -> String {
    format!(
        "priority {}, zones {}, replicas {}, image {}",
        h.priority, h.zones, h.replicas, h.image
    )
}

/// One HA cell: the value, `old → **new**`, or struck through for a removed region.
fn ha_cell(row: &HaRow, get: impl Fn(&Ha) -> String) -> String {
    match (row.old.as_ref().map(&get), row.new.as_ref().map(&get)) {
        (None, Some(n)) => code(&n),
        (Some(o), None) => format!("~~{}~~", code(&o)),
        (Some(o), Some(n)) if o == n => code(&n),
        (Some(o), Some(n)) => format!("{} → **{}**", code(&o), code(&n)),
        (None, None) => "—".into(),
    }
}

/// The catalogue change and the HA table: the top of the markdown report.
fn catalogue_markdown(c: &CatalogueChange) -> String {
    let mut out = format!(
        "**{}**\n\n",
        escape_cell(&catalogue_headline(c)).replace(&c.path, &code(&c.path))
    );
    for f in c.fields.iter().take(FIELDS_SHOWN) {
        let _ = writeln!(out, "- {}", catalogue_field(f, true));
    }
    if c.fields.len() > FIELDS_SHOWN {
        let _ = writeln!(out, "- … and {} more", c.fields.len() - FIELDS_SHOWN);
    }
    for n in &c.notes {
        let _ = writeln!(out, "> {}", escape_cell(n));
    }
    if !c.fields.is_empty() || !c.notes.is_empty() {
        out.push('\n');
    }
    if c.rows.is_empty() {
        return out;
    }
    out.push_str("| Region | Priority | Zones | Replicas (min–max) | Image | In rotation |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for row in &c.rows {
        let name = match (&row.old, &row.new) {
            (None, Some(_)) => format!("{} (added)", code(&row.region)),
            (Some(_), None) => format!("{} (removed)", code(&row.region)),
            _ => code(&row.region),
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} | {} | {} | {} |",
            ha_cell(row, |h| h.priority.to_string()),
            ha_cell(row, |h| h.zones.clone()),
            ha_cell(row, |h| h.replicas.clone()),
            ha_cell(row, |h| h.image.clone()),
            ha_cell(row, |h| if h.in_rotation { "yes" } else { "no" }
                .to_string()),
        );
    }
    out.push('\n');
    out
}

fn escape_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn code(s: &str) -> String {
    format!("`{}`", escape_cell(&s.replace('`', "'")))
}

fn short_image(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// A table cell: `old → new` when it changed, the value alone otherwise.
fn cell(r: &RegionDiff, get: impl Fn(&super::Workload) -> Option<String>, image: bool) -> String {
    let old = r.old.as_ref().and_then(&get);
    let new = r.new.as_ref().and_then(&get);
    let prefix = |s: &str| s.rfind('/').map(|i| s[..i].to_string());
    let full = image && matches!((&old, &new), (Some(o), Some(n)) if prefix(o) != prefix(n));
    let show = |s: &str| {
        if image && !full {
            code(short_image(s))
        } else {
            code(s)
        }
    };
    match (old, new, r.status) {
        (_, Some(n), RegionStatus::Added) => show(&n),
        (Some(o), _, RegionStatus::Removed) => format!("~~{}~~", show(&o)),
        (Some(o), Some(n), _) if o == n => show(&n),
        (Some(o), Some(n), _) => format!("{} → **{}**", show(&o), show(&n)),
        (None, Some(n), _) => format!("— → **{}**", show(&n)),
        (Some(o), None, _) => format!("{} → —", show(&o)),
        (None, None, _) => "—".into(),
    }
}

fn table_row(r: &RegionDiff) -> String {
    let name = match (r.status, &r.error) {
        (_, Some(_)) => format!("{} ⚠️ build failed", code(&r.region)),
        (RegionStatus::Added, _) => format!("{} (added)", code(&r.region)),
        (RegionStatus::Removed, _) => format!("{} (removed)", code(&r.region)),
        _ => code(&r.region),
    };
    format!(
        "| {name} | {} | {} | {} | {} |\n",
        cell(r, |w| w.image.clone(), true),
        cell(r, |w| w.replicas_label(), false),
        cell(r, |w| w.readiness.clone(), false),
        r.objects_label()
    )
}

fn fence(body: &str) -> &'static str {
    if body.contains("````") {
        "``````"
    } else if body.contains("```") {
        "````"
    } else {
        "```"
    }
}

fn object_detail(c: &ObjectChange, with_body: bool) -> String {
    let verb = match c.kind {
        ChangeKind::Added => "added",
        ChangeKind::Removed => "removed",
        ChangeKind::Changed => "changed",
    };
    let mut s = format!("**{}** {verb}\n", escape_cell(&c.key.to_string()));
    for f in &c.fields {
        let line = match (&f.old, &f.new) {
            (Some(o), Some(n)) => format!("- {}: {} → {}\n", code(&f.path), code(o), code(n)),
            (None, Some(n)) => format!("- {}: added {}\n", code(&f.path), code(n)),
            (Some(o), None) => format!("- {}: removed (was {})\n", code(&f.path), code(o)),
            (None, None) => format!("- {}\n", code(&f.path)),
        };
        s.push_str(&line);
    }
    match (with_body, c.kind) {
        (false, _) => {}
        // A whole new object is folded: the summary above says what matters.
        (true, ChangeKind::Added | ChangeKind::Removed) => {
            let f = fence(&c.unified);
            let _ = write!(
                s,
                "\n<details><summary>the whole object</summary>\n\n{f}diff\n{}{f}\n\n</details>\n",
                c.unified
            );
        }
        (true, _) => {
            let f = fence(&c.unified);
            let _ = write!(s, "\n{f}diff\n{}{f}\n", c.unified);
        }
    }
    s.push('\n');
    s
}

fn region_details(report: &Report, r: &RegionDiff) -> String {
    let headline = match r.status {
        RegionStatus::Added => format!("added ({} objects)", r.new_objects),
        RegionStatus::Removed => format!("removed ({} objects)", r.old_objects),
        _ => r.summary(),
    };
    let mut s = format!(
        "<details><summary><b>{}</b>: {}</summary>\n\n",
        r.region,
        escape_html(&headline)
    );
    if let Some((side, e)) = &r.error {
        let label = match side {
            Side::Old => &report.old_label,
            Side::New => &report.new_label,
        };
        let f = fence(e);
        let _ = write!(s, "Build failed on `{label}`:\n\n{f}\n{e}\n{f}\n\n");
    }
    for c in &r.changes {
        // An added or removed region's objects are listed, not printed: the HA table and the
        // catalogue change say what the region is.
        s.push_str(&object_detail(c, r.status == RegionStatus::Changed));
    }
    s.push_str("</details>\n\n");
    s
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Cuts a details section to `budget` bytes at a line boundary, closing any open fence.
fn cut(section: &str, budget: usize) -> Option<String> {
    const TAIL: &str = "\n_… cut here: the comment size limit was reached._\n\n</details>\n\n";
    if budget <= TAIL.len() + 200 {
        return None;
    }
    let mut out = String::new();
    let mut open: Option<&str> = None;
    for line in section.lines() {
        let closing = open.map_or(0, |f| f.len() + 1);
        if out.len() + line.len() + 1 + closing + TAIL.len() > budget {
            break;
        }
        out.push_str(line);
        out.push('\n');
        let t = line.trim_start();
        if t.starts_with("```") {
            let ticks = t.len() - t.trim_start_matches('`').len();
            let f = &t[..ticks];
            match open {
                Some(o) if o == f && t.trim_end() == f => open = None,
                None => open = Some(&line[line.len() - t.len()..][..ticks]),
                _ => {}
            }
        }
    }
    if let Some(f) = open {
        out.push_str(f);
        out.push('\n');
    }
    out.push_str(TAIL);
    Some(out)
}

/// Markdown for a PR comment: the marker, a summary table, then one collapsible section per
/// changed region, kept under `limit` bytes (details cut, with a note, when needed).
pub fn markdown(report: &Report, limit: usize) -> String {
    let mut out = format!(
        "{MARKER}\n### Rendered manifests: `{}` → {}\n\n",
        report.old_label.replace('`', "'"),
        report.new_label,
    );
    if let Some(c) = &report.catalogue {
        out.push_str(&catalogue_markdown(c));
    }
    let _ = write!(out, "{}\n\n", counts(report));
    out.push_str("| Region | Image | Replicas | Readiness probe | Objects changed |\n");
    out.push_str("|---|---|---|---|---|\n");
    for r in &report.regions {
        out.push_str(&table_row(r));
    }
    out.push('\n');
    let changed: Vec<&RegionDiff> = report.changed().collect();
    if changed.is_empty() {
        out.push_str("No region's built manifests change.\n");
        return out;
    }
    const NOTE_RESERVE: usize = 300;
    let mut omitted: Vec<&str> = Vec::new();
    for r in changed {
        let section = region_details(report, r);
        let room = limit.saturating_sub(out.len() + NOTE_RESERVE);
        if omitted.is_empty() && section.len() <= room {
            out.push_str(&section);
        } else if omitted.is_empty()
            && let Some(cut) = cut(&section, room)
        {
            out.push_str(&cut);
            omitted.push("");
        } else {
            omitted.push(&r.region);
        }
    }
    let names: Vec<&str> = omitted.into_iter().filter(|n| !n.is_empty()).collect();
    if !names.is_empty() || out.contains("_… cut here") {
        let mut note =
            String::from("> [!NOTE]\n> The details were cut to fit GitHub's comment size limit");
        if !names.is_empty() {
            let _ = write!(note, "; {} more region(s) not shown", names.len());
        }
        let _ = writeln!(
            note,
            ". Run `gen diff --base {}` locally for the full diff.",
            report.old_label.replace('`', "'")
        );
        if out.len() + note.len() > limit {
            // Cannot happen with the reserve, but never exceed the limit.
            let mut end = limit.saturating_sub(note.len());
            while !out.is_char_boundary(end) {
                end -= 1;
            }
            out.truncate(end);
        }
        out.push_str(&note);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::objects::{ObjectKey, Workload};

    fn big_region(name: &str, lines: usize) -> RegionDiff {
        let key = ObjectKey {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: "hello".into(),
            name: name.into(),
        };
        let body: String = (0..lines)
            .map(|i| format!("+  line{i}: {}\n", "x".repeat(60)))
            .collect();
        RegionDiff {
            region: name.into(),
            status: RegionStatus::Changed,
            old: Some(Workload::default()),
            new: Some(Workload::default()),
            changes: vec![ObjectChange {
                key,
                kind: ChangeKind::Changed,
                fields: Vec::new(),
                unified: format!("--- a/x\n+++ b/x\n@@ -1 +1 @@\n{body}"),
            }],
            old_objects: 1,
            new_objects: 1,
            error: None,
        }
    }

    #[test]
    fn markdown_stays_under_the_comment_limit_and_says_it_was_cut() {
        let report = Report {
            old_label: "origin/main".into(),
            new_label: "working tree".into(),
            regions: (0..40)
                .map(|i| big_region(&format!("region{i:02}"), 400))
                .collect(),
            fallbacks: Vec::new(),
            catalogue: None,
        };
        let md = markdown(&report, COMMENT_LIMIT);
        assert!(md.len() <= COMMENT_LIMIT, "{} bytes", md.len());
        assert!(md.starts_with(MARKER));
        // Every region keeps its summary row even when its details are cut.
        for i in 0..40 {
            assert!(md.contains(&format!("| `region{i:02}` |")), "row {i}");
        }
        assert!(
            md.contains("cut to fit GitHub's comment size limit"),
            "{md}"
        );
        assert!(md.contains("more region(s) not shown"));
        // Fences stay balanced so the rest of the comment renders.
        assert_eq!(md.matches("```diff").count(), md.matches("\n```\n").count());
    }

    #[test]
    fn small_reports_are_not_cut() {
        let report = Report {
            old_label: "HEAD".into(),
            new_label: "working tree".into(),
            regions: vec![big_region("eastus2", 3)],
            fallbacks: Vec::new(),
            catalogue: None,
        };
        let md = markdown(&report, COMMENT_LIMIT);
        assert!(!md.contains("cut"), "{md}");
        assert!(md.contains("<details><summary><b>eastus2</b>"));
    }
}
