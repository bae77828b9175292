//! The one pipeline every command goes through: load the catalogue → render (pure) →
//! hydrate → policy → write → git. Commands take plain option structs and return the
//! process exit code (0 ok, 1 a check found problems, 2 usage or input error), printing
//! their own report and errors.

use crate::hydrate::Base;
use crate::options::{
    CommitOptions, Context, DiffOptions, RenderOptions, ReportFormat, ValidateOptions,
};
use crate::render;
use crate::rules;
use crate::tree::{RegionSelection, RenderedTree};
use crate::validate::{self, Sources};
use catalogue::{CatalogueError, LoadedCatalogue};
use policy::Finding;
use std::path::Path;

/// Exit codes, one scheme for every command.
pub const OK: u8 = 0;
pub const PROBLEMS: u8 = 1;
pub const INPUT: u8 = 2;

/// A command that stopped early: its exit code and what to print on stderr.
#[derive(Debug)]
pub struct Stop {
    pub code: u8,
    pub message: String,
}

impl Stop {
    fn input(e: impl std::fmt::Display) -> Self {
        Self {
            code: INPUT,
            message: e.to_string(),
        }
    }
}

fn finish(r: Result<u8, Stop>) -> u8 {
    match r {
        Ok(code) => code,
        Err(stop) => {
            eprintln!("{}", stop.message);
            stop.code
        }
    }
}

/// Takes the writer lock and finishes what an interrupted gen left (rolls back its moves,
/// removes stale staging directories), before a command does anything else.
fn lock_and_recover(repo: &Path) -> Result<crate::write::Lock, Stop> {
    let lock = crate::write::lock(repo).map_err(Stop::input)?;
    let recovery = crate::write::recover(repo).map_err(Stop::input)?;
    if !recovery.is_empty() {
        eprint!("{recovery}");
    }
    Ok(lock)
}

/// Loads the catalogue; its invariant findings are problems (1), anything else input (2).
fn load(path: &Path) -> Result<LoadedCatalogue, Stop> {
    catalogue::load(path).map_err(|e| match e {
        CatalogueError::Invalid { findings } => Stop {
            code: PROBLEMS,
            message: findings
                .into_iter()
                .map(|f| f.to_string())
                .collect::<Vec<_>>()
                .join("\n"),
        },
        e => Stop::input(e),
    })
}

/// Render → hydrate → policy, for `render` and `commit`: the tree of the selected regions
/// and every finding (waived ones included). Nothing is written.
pub fn render_checked(
    loaded: &LoadedCatalogue,
    base: &Base,
    selection: &RegionSelection,
) -> Result<(RenderedTree, Vec<Finding>), Stop> {
    let c = &loaded.catalogue;
    let tree = render::render_tree(c, &base.names, selection).map_err(Stop::input)?;
    let names: Vec<&str> = selection
        .resolve(c)
        .map_err(Stop::input)?
        .iter()
        .map(|r| r.name.as_str())
        .collect();
    let file = loaded.path.display().to_string();
    let findings = validate::validate_tree(
        c,
        base,
        &tree,
        &names,
        Sources {
            catalogue_file: &file,
            catalogue_text: &loaded.source,
            fresh: None,
        },
    );
    Ok((tree, findings))
}

/// Render → hydrate → policy in memory (tests, benchmarks): the tree, or the blocking findings.
pub fn render_validated(
    catalogue: &catalogue::Catalogue,
    base: &Base,
    selection: &RegionSelection,
) -> Result<RenderedTree, Vec<Finding>> {
    let tree = render::render_tree(catalogue, &base.names, selection).map_err(|e| {
        vec![Finding {
            rule: "render",
            severity: policy::Severity::Error,
            subject: String::new(),
            message: e.to_string(),
            help: String::new(),
            why: "",
            location: None,
            waived: None,
        }]
    })?;
    let names: Vec<&str> = match selection.resolve(catalogue) {
        Ok(r) => r.iter().map(|r| r.name.as_str()).collect(),
        Err(_) => Vec::new(),
    };
    let findings = validate::validate_tree(catalogue, base, &tree, &names, Sources::default());
    let blocking: Vec<Finding> = findings.into_iter().filter(Finding::is_blocking).collect();
    if blocking.is_empty() {
        Ok(tree)
    } else {
        Err(blocking)
    }
}

fn refuse_blocking(findings: &[Finding]) -> Result<(), Stop> {
    let blocking: Vec<&Finding> = findings.iter().filter(|f| f.is_blocking()).collect();
    if blocking.is_empty() {
        return Ok(());
    }
    Err(Stop {
        code: PROBLEMS,
        message: format!(
            "{} problem(s) in what would be rendered; nothing was written:\n{}",
            blocking.len(),
            blocking
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        ),
    })
}

fn print_waivers(findings: &[Finding]) {
    for f in findings.iter().filter(|f| f.waived.is_some()) {
        eprintln!("{f}");
    }
}

/// `gen render`.
pub fn render(ctx: &Context, opts: &RenderOptions) -> u8 {
    finish((|| {
        // `--check` writes nothing and repairs nothing: it reports an interrupted render.
        let _lock = if opts.check {
            let left = crate::write::interrupted(&ctx.repo).map_err(Stop::input)?;
            if !left.is_empty() {
                return Err(Stop {
                    code: PROBLEMS,
                    message: format!(
                        "gen render --check: an interrupted render left the tree half-written ({})\nhelp: run `gen render` (or any gen command that writes): it rolls the interrupted render back first",
                        left.iter()
                            .map(|d| d.display().to_string())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                });
            }
            None
        } else {
            Some(lock_and_recover(&ctx.repo)?)
        };
        let loaded = load(&ctx.catalogue)?;
        let base = Base::load(&ctx.repo.join("base")).map_err(Stop::input)?;
        let selection = RegionSelection::from_flags(&opts.regions);
        let (tree, findings) = render_checked(&loaded, &base, &selection)?;
        refuse_blocking(&findings)?;
        print_waivers(&findings);
        if opts.check {
            let report =
                crate::write::check_tree(&ctx.repo, &tree, &selection).map_err(Stop::input)?;
            if report.is_clean() {
                println!(
                    "gen render --check: the tree is what the catalogue renders ({} files)",
                    tree.files.len()
                );
                return Ok(OK);
            }
            return Err(Stop {
                code: PROBLEMS,
                message: format!(
                    "{report}help: run `gen render` and commit the result; never edit generated files by hand"
                ),
            });
        }
        let report = crate::write::write_tree(&ctx.repo, &tree, &selection).map_err(Stop::input)?;
        // One write: stdout is line-buffered, and 420 lines were 420 syscalls.
        let text = format!("{report}\n");
        let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), text.as_bytes());
        Ok(OK)
    })())
}

/// Every finding of `gen validate`: the committed tree's rules and `tree-stale`.
pub fn validate_findings(ctx: &Context) -> Result<Vec<Finding>, Stop> {
    let _lock = lock_and_recover(&ctx.repo)?;
    let loaded = match catalogue::load(&ctx.catalogue) {
        Ok(l) => l,
        Err(CatalogueError::Invalid { findings }) => {
            return Ok(findings);
        }
        Err(e) => return Err(Stop::input(e)),
    };
    let c = &loaded.catalogue;
    let base = Base::load(&ctx.repo.join("base")).map_err(Stop::input)?;
    let tree = validate::read_tree(&ctx.repo).map_err(Stop::input)?;
    let fresh = render::render_tree(c, &base.names, &RegionSelection::All).ok();
    let names: Vec<&str> = c.regions.iter().map(|r| r.name.as_str()).collect();
    let file = loaded.path.display().to_string();
    let mut findings = validate::validate_tree(
        c,
        &base,
        &tree,
        &names,
        Sources {
            catalogue_file: &file,
            catalogue_text: &loaded.source,
            fresh: fresh.as_ref(),
        },
    );
    findings.extend(validate::tree_findings(c, &tree));
    Ok(findings)
}

/// `gen validate`.
pub fn validate(ctx: &Context, opts: &ValidateOptions) -> u8 {
    finish(validate_findings(ctx).map(|findings| {
        print!("{}", validate::format_findings(&findings, opts.format));
        if findings.iter().any(Finding::is_blocking) {
            PROBLEMS
        } else {
            OK
        }
    }))
}

/// `gen diff`.
pub fn diff(ctx: &Context, opts: &DiffOptions) -> u8 {
    finish(
        lock_and_recover(&ctx.repo)
            .and_then(|_lock| crate::diff::run(ctx, opts).map_err(Stop::input)),
    )
}

/// `gen commit`: validates (catalogue, render, rules, no drift) before git is touched.
pub fn commit(ctx: &Context, opts: &CommitOptions) -> u8 {
    let verify = |workdir: &Path, catalogue: &Path| -> Result<(), crate::commit::Error> {
        let refused = |s: Stop| crate::commit::Error::Refused {
            code: s.code,
            message: s.message,
        };
        let loaded = load(catalogue).map_err(refused)?;
        let base = Base::load(&workdir.join("base")).map_err(|e| refused(Stop::input(e)))?;
        let (tree, findings) =
            render_checked(&loaded, &base, &RegionSelection::All).map_err(refused)?;
        refuse_blocking(&findings).map_err(refused)?;
        let report = crate::write::check_tree(workdir, &tree, &RegionSelection::All)
            .map_err(crate::commit::Error::Check)?;
        if !report.is_clean() {
            return Err(crate::commit::Error::Drift(report.to_string()));
        }
        Ok(())
    };
    let _lock = match lock_and_recover(&ctx.repo) {
        Ok(l) => l,
        Err(stop) => return finish(Err(stop)),
    };
    match crate::commit::run(ctx, opts, verify) {
        Ok(()) => OK,
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    }
}

/// `gen explain [<rule-id>]`: both registries, the catalogue's and the rendered one.
pub fn explain(id: Option<&str>) -> u8 {
    let rendered = rules::all_rules();
    let all: Vec<&policy::Rule> = catalogue::POLICY
        .rules()
        .chain(rendered.iter().copied())
        .collect();
    let Some(id) = id else {
        let mut out = String::new();
        for (title, list) in [
            (
                "catalogue invariants (catalogue.yaml)",
                catalogue::POLICY.rules().collect::<Vec<_>>(),
            ),
            (
                "rendered-object rules (base/ + overlays/ + entry points)",
                rendered.clone(),
            ),
        ] {
            out.push_str(&format!("{title}:\n"));
            for r in list {
                out.push_str(&format!("  {:<34} {}\n", r.id, r.summary));
            }
        }
        out.push_str(
            "\n`gen explain <rule-id>` prints why a rule exists and how to fix a finding.\n",
        );
        print!("{out}");
        return OK;
    };
    match all.iter().find(|r| r.id == id) {
        Some(r) => {
            println!(
                "{} ({}, {})\n\nchecks: {}\nwhy:    {}\nfix:    {}",
                r.id, r.family, r.severity, r.summary, r.why, r.fix
            );
            if r.family != "catalogue" && r.id != rules::waivers::WAIVER_RULE {
                println!(
                    "waive:  annotate the object: {}: \"{}: <reason>\"",
                    rules::WAIVE_ANNOTATION,
                    r.id
                );
            }
            OK
        }
        None => {
            let near: Vec<&str> = all
                .iter()
                .map(|r| r.id)
                .filter(|r| {
                    r.contains(id)
                        || id.contains(r)
                        || catalogue::regions::edit_distance(r, id) <= 3
                })
                .collect();
            eprintln!(
                "error: unknown rule `{id}`\n  help: {}`gen explain` lists every rule",
                if near.is_empty() {
                    String::new()
                } else {
                    format!("did you mean {}? ", near.join(", "))
                }
            );
            INPUT
        }
    }
}

/// For `--format` output of findings outside `gen validate` (tests, tools).
pub fn format(findings: &[Finding], format: ReportFormat) -> String {
    validate::format_findings(findings, format)
}
