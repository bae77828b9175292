//! Deterministic fuzzing of the loader: seeded random mutations of the frozen fixture. For
//! every case: no panic, no hang (a per-case bound), and every refusal carries a location.

mod common;

use catalogue::{CatalogueError, parse_bytes};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};
use test_support::Rng;

const CASES: usize = 2000;
const SEED: u64 = 0x5eed_ca7a_1060_0001;
/// Far above a normal parse (well under a millisecond); only a hang or a blow-up reaches it.
const PER_CASE: Duration = Duration::from_secs(2);

/// Tokens that YAML, serde or our rules treat specially.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    ":",
    ": ",
    "- ",
    "\"",
    "'",
    "#",
    "&a ",
    "*a",
    "!!str ",
    "!tag ",
    "|",
    ">",
    "\t",
    "  ",
    "\n",
    "~",
    "null",
    "yes",
    "\"1\"",
    "-1",
    "0",
    "4294967296",
    "1e999",
    ".nan",
    "../",
    "//",
    "%20",
    "?",
    "@",
    "é",
    "\u{0}",
    "<<: *a",
    "---\n",
    "...\n",
    ",",
];

fn mutate(rng: &mut Rng, text: &[u8]) -> Vec<u8> {
    let mut out = text.to_vec();
    for _ in 0..=rng.below(3) {
        let at = rng.below(out.len() + 1);
        match rng.below(9) {
            0 => {
                let t = TOKENS[rng.below(TOKENS.len())];
                out.splice(at..at, t.bytes());
            }
            1 if !out.is_empty() => {
                let end = (at + 1 + rng.below(8)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                // delete, duplicate or swap whole lines
                let mut lines: Vec<Vec<u8>> =
                    out.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
                let i = rng.below(lines.len());
                let j = rng.below(lines.len());
                match rng.below(3) {
                    0 => {
                        lines.remove(i);
                    }
                    1 => {
                        let l = lines[i].clone();
                        lines.insert(j, l);
                    }
                    _ => lines.swap(i, j),
                }
                out = lines.join(&b'\n');
            }
            3 if at < out.len() => out[at] = rng.below(256) as u8,
            4 => out.truncate(at),
            5 => {
                // re-indent a line
                let start = out[..at]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |p| p + 1);
                if rng.below(2) == 0 {
                    out.splice(start..start, *b"  ");
                } else if out.get(start) == Some(&b' ') {
                    out.remove(start);
                }
            }
            6 => {
                // replace the value after a `: ` with a type-confused or absurd one
                let values: [&[u8]; 8] = [
                    b"\"7\"",
                    b"-5",
                    b"[]",
                    b"{}",
                    b"true",
                    b"\"\"",
                    b"99999999999",
                    b"x",
                ];
                if let Some(p) = out[at..].windows(2).position(|w| w == b": ") {
                    let s = at + p + 2;
                    let e = out[s..]
                        .iter()
                        .position(|b| *b == b'\n' || *b == b',' || *b == b'}')
                        .map_or(out.len(), |q| s + q);
                    out.splice(s..e, values[rng.below(values.len())].iter().copied());
                }
            }
            7 => {
                let long = vec![b'z'; 1 + rng.below(400)];
                out.splice(at..at, long);
            }
            _ => {}
        }
    }
    out
}

fn assert_located(e: &CatalogueError, case: usize, input: &[u8]) {
    let shown = String::from_utf8_lossy(input);
    match e {
        CatalogueError::Invalid { findings } => {
            assert!(!findings.is_empty(), "case {case}: empty findings");
            for f in findings {
                let l = f.location.as_ref().unwrap_or_else(|| {
                    panic!("case {case}: finding without location: {f}\n{shown}")
                });
                assert!(l.line >= 1 && l.column >= 1, "case {case}: {f}");
            }
        }
        CatalogueError::Read { .. } => panic!("case {case}: no file was read"),
        other => {
            let p = other
                .position()
                .unwrap_or_else(|| panic!("case {case}: unlocated error {other}\n{shown}"));
            assert!(p.line >= 1 && p.column >= 1, "case {case}: {other}");
            let lines = input.split(|b| *b == b'\n').count();
            assert!(
                p.line <= lines + 1,
                "case {case}: line {} past the end ({lines}): {other}",
                p.line
            );
            assert!(
                other.to_string().starts_with("catalogue.yaml:"),
                "case {case}: {other}"
            );
        }
    }
}

#[test]
fn mutated_catalogues_never_panic_hang_or_go_unlocated() {
    let mut rng = Rng(SEED);
    let (mut accepted, mut input_errors, mut findings) = (0, 0, 0);
    for case in 0..CASES {
        let input = mutate(&mut rng, common::FIXTURE.as_bytes());
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| parse_bytes(common::path(), &input)));
        let took = started.elapsed();
        assert!(
            took < PER_CASE,
            "case {case} took {took:?}:\n{}",
            String::from_utf8_lossy(&input)
        );
        match result {
            Err(_) => panic!(
                "case {case} panicked on:\n{}",
                String::from_utf8_lossy(&input)
            ),
            Ok(Ok(_)) => accepted += 1,
            Ok(Err(e)) => {
                assert_located(&e, case, &input);
                if e.is_input_error() {
                    input_errors += 1;
                } else {
                    findings += 1;
                }
            }
        }
    }
    // The mutations must exercise every outcome, or the fuzzer tests nothing.
    assert!(
        accepted > 50 && input_errors > 500 && findings > 50,
        "{accepted} accepted, {input_errors} input errors, {findings} findings"
    );
}
