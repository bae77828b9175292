//! Validated configuration, parsed from environment-style variables.
//!
//! [`Config::from_vars`] takes any iterator of `(name, value)` pairs so tests never have to
//! touch the process environment. An empty value counts as unset (Kubernetes manifests often
//! carry `value: ""`).

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Path of the sample endpoint; probe paths may not reuse it.
pub const DEFAULT_PATH: &str = "/default";
/// Path of the Prometheus endpoint; probe paths may not reuse it.
pub const METRICS_PATH: &str = "/metrics";

/// Longest accepted duration for the `*_SECONDS` variables (one hour).
const MAX_SECONDS: f64 = 3600.0;
/// Longest accepted probe path, region, zone or hostname.
const MAX_LABEL_LEN: usize = 253;

/// Log verbosity, from `LOG_LEVEL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    /// The matching `tracing` level.
    pub fn as_tracing(self) -> tracing::Level {
        match self {
            Self::Error => tracing::Level::ERROR,
            Self::Warn => tracing::Level::WARN,
            Self::Info => tracing::Level::INFO,
            Self::Debug => tracing::Level::DEBUG,
            Self::Trace => tracing::Level::TRACE,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warn => "warn",
            Self::Info => "info",
            Self::Debug => "debug",
            Self::Trace => "trace",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The three probe paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbePaths {
    /// `READINESS_PATH`, default `/readyz`.
    pub readiness: String,
    /// `LIVENESS_PATH`, default `/healthz`.
    pub liveness: String,
    /// `STARTUP_PATH`, default `/startupz`.
    pub startup: String,
}

impl Default for ProbePaths {
    fn default() -> Self {
        Self {
            readiness: "/readyz".into(),
            liveness: "/healthz".into(),
            startup: "/startupz".into(),
        }
    }
}

/// Validated service configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `BIND_ADDRESS`, default `0.0.0.0`.
    pub bind_address: IpAddr,
    /// `PORT`, default 8080; 0 picks an ephemeral port (logged at start).
    pub port: u16,
    /// `REGION`, default `unknown`.
    pub region: String,
    /// `ZONE`, default `unknown`.
    pub zone: String,
    /// `POD_IP`: the pod IP from the downward API; unset means "detect".
    pub pod_ip: Option<IpAddr>,
    /// `HOSTNAME`: unset means "ask the kernel".
    pub hostname: Option<String>,
    /// `DRAIN_DELAY_SECONDS`, default 10.
    pub drain_delay: Duration,
    /// `SHUTDOWN_TIMEOUT_SECONDS`, default 10.
    pub shutdown_timeout: Duration,
    /// `REQUEST_TIMEOUT_SECONDS`, default 10.
    pub request_timeout: Duration,
    /// `HEADER_READ_TIMEOUT_SECONDS`, default 5.
    pub header_read_timeout: Duration,
    /// `LOG_LEVEL`, default `info`.
    pub log_level: LogLevel,
    /// Probe paths.
    pub probes: ProbePaths,
    /// `IMAGE`: the image reference the pod runs, reported by `GET /default`; unset is `null`.
    pub image: Option<String>,
    /// `MAX_CONNECTIONS`: open connections at most; unset means
    /// [`crate::server::DEFAULT_MAX_CONNECTIONS`] (lowered to fit the open-file limit).
    pub max_connections: Option<usize>,
    /// `INJECT_ERROR_RATIO`: share of `GET /default` answered 500 on purpose (0 to 1,
    /// default 0), for failover drills, promotion-gate and alert tests. Never set in overlays.
    pub inject_error_ratio: f64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            bind_address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 8080,
            region: "unknown".into(),
            zone: "unknown".into(),
            pod_ip: None,
            hostname: None,
            drain_delay: Duration::from_secs(10),
            shutdown_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(5),
            log_level: LogLevel::Info,
            probes: ProbePaths::default(),
            image: None,
            max_connections: None,
            inject_error_ratio: 0.0,
        }
    }
}

/// One configuration problem. The message names the variable, the bad value and what is expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A value that does not parse or is out of range.
    #[error("invalid {var}={value:?}: expected {expected}")]
    Invalid {
        /// Variable name.
        var: &'static str,
        /// The value found.
        value: String,
        /// The expected form.
        expected: &'static str,
    },
    /// Two probe variables carry the same path.
    #[error(
        "invalid {var}={value:?}: expected a path distinct from the other probe paths, but {other} has the same value"
    )]
    DuplicateProbePath {
        /// Variable name.
        var: &'static str,
        /// The duplicated path.
        value: String,
        /// The other variable.
        other: &'static str,
    },
    /// A probe path that collides with a built-in route.
    #[error(
        "invalid {var}={value:?}: expected a path other than the built-in routes {DEFAULT_PATH} and {METRICS_PATH}"
    )]
    ReservedProbePath {
        /// Variable name.
        var: &'static str,
        /// The colliding path.
        value: String,
    },
}

impl ConfigError {
    /// The variable this error is about.
    pub fn var(&self) -> &'static str {
        match self {
            Self::Invalid { var, .. }
            | Self::DuplicateProbePath { var, .. }
            | Self::ReservedProbePath { var, .. } => var,
        }
    }
}

/// Every problem found in the configuration (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", display_all(.0))]
pub struct ConfigErrors(pub Vec<ConfigError>);

fn display_all(errors: &[ConfigError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

const EXPECT_PORT: &str = "an integer port from 0 to 65535 (0 picks a free port)";
const EXPECT_IP: &str = "an IPv4 or IPv6 address, e.g. 0.0.0.0 or ::";
const EXPECT_SECONDS: &str = "a number of seconds from 0 to 3600, e.g. 10 or 0.5";
const EXPECT_POSITIVE_SECONDS: &str =
    "a number of seconds above 0 and at most 3600, e.g. 10 or 0.5";
const EXPECT_LEVEL: &str = "one of error, warn, info, debug, trace";
const EXPECT_LABEL: &str =
    "1 to 253 printable ASCII characters without spaces, quotes or backslashes";
const EXPECT_IMAGE: &str = "a full image reference with a tag or a digest, e.g. \
     contosoha.azurecr.io/hello:1.2.3 or contosoha.azurecr.io/hello@sha256:<64 hex digits>";
const EXPECT_RATIO: &str = "a number from 0 to 1, e.g. 0.2 (a fifth of /default requests fail)";
const EXPECT_CONNECTIONS: &str = "an integer number of connections from 1 to 1000000, e.g. 3072";
const EXPECT_PATH: &str = "an absolute path of at most 253 characters from [A-Za-z0-9/._~-], starting with '/', e.g. /readyz";

impl Config {
    /// Parse and validate configuration from `(name, value)` pairs, e.g. `std::env::vars()`.
    /// Unknown names are ignored; empty values count as unset.
    ///
    /// # Errors
    /// Every invalid variable is reported, each naming the variable, its value and the
    /// expected form.
    pub fn from_vars<I, K, V>(vars: I) -> Result<Self, ConfigErrors>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<str>,
    {
        let vars: HashMap<String, String> = vars
            .into_iter()
            .filter(|(k, v)| KNOWN_VARS.contains(&k.as_ref()) && !v.as_ref().is_empty())
            .map(|(k, v)| (k.as_ref().to_owned(), v.as_ref().to_owned()))
            .collect();
        let mut errors = Vec::new();
        let mut cfg = Self::default();

        let field = |var: &'static str| vars.get(var).map(String::as_str);
        macro_rules! parse {
            ($var:literal, $parser:expr, $expected:expr, $target:expr) => {
                if let Some(raw) = field($var) {
                    match $parser(raw) {
                        Some(v) => $target = v,
                        None => errors.push(ConfigError::Invalid {
                            var: $var,
                            value: raw.to_owned(),
                            expected: $expected,
                        }),
                    }
                }
            };
        }

        parse!(
            "PORT",
            |s: &str| s.parse::<u16>().ok(),
            EXPECT_PORT,
            cfg.port
        );
        parse!(
            "BIND_ADDRESS",
            |s: &str| s.parse::<IpAddr>().ok(),
            EXPECT_IP,
            cfg.bind_address
        );
        parse!(
            "POD_IP",
            |s: &str| s.parse::<IpAddr>().ok().map(Some),
            EXPECT_IP,
            cfg.pod_ip
        );
        parse!("REGION", parse_label, EXPECT_LABEL, cfg.region);
        parse!("ZONE", parse_label, EXPECT_LABEL, cfg.zone);
        parse!(
            "HOSTNAME",
            |s| parse_label(s).map(Some),
            EXPECT_LABEL,
            cfg.hostname
        );
        parse!(
            "DRAIN_DELAY_SECONDS",
            |s| parse_seconds(s, true),
            EXPECT_SECONDS,
            cfg.drain_delay
        );
        parse!(
            "SHUTDOWN_TIMEOUT_SECONDS",
            |s| parse_seconds(s, true),
            EXPECT_SECONDS,
            cfg.shutdown_timeout
        );
        parse!(
            "REQUEST_TIMEOUT_SECONDS",
            |s| parse_seconds(s, false),
            EXPECT_POSITIVE_SECONDS,
            cfg.request_timeout
        );
        parse!(
            "HEADER_READ_TIMEOUT_SECONDS",
            |s| parse_seconds(s, false),
            EXPECT_POSITIVE_SECONDS,
            cfg.header_read_timeout
        );
        parse!("LOG_LEVEL", parse_level, EXPECT_LEVEL, cfg.log_level);
        parse!(
            "READINESS_PATH",
            parse_path,
            EXPECT_PATH,
            cfg.probes.readiness
        );
        parse!(
            "LIVENESS_PATH",
            parse_path,
            EXPECT_PATH,
            cfg.probes.liveness
        );
        parse!("STARTUP_PATH", parse_path, EXPECT_PATH, cfg.probes.startup);
        parse!(
            "IMAGE",
            |s| parse_image(s).map(Some),
            EXPECT_IMAGE,
            cfg.image
        );
        parse!(
            "MAX_CONNECTIONS",
            |s: &str| s
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_CONNECTIONS_LIMIT).contains(n))
                .map(Some),
            EXPECT_CONNECTIONS,
            cfg.max_connections
        );
        parse!(
            "INJECT_ERROR_RATIO",
            |s: &str| s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|r| (0.0..=1.0).contains(r)),
            EXPECT_RATIO,
            cfg.inject_error_ratio
        );

        // Cross-field checks on the probe paths.
        let probes = [
            ("READINESS_PATH", &cfg.probes.readiness),
            ("LIVENESS_PATH", &cfg.probes.liveness),
            ("STARTUP_PATH", &cfg.probes.startup),
        ];
        for (i, (var, path)) in probes.iter().enumerate() {
            if path.as_str() == DEFAULT_PATH || path.as_str() == METRICS_PATH {
                errors.push(ConfigError::ReservedProbePath {
                    var,
                    value: (*path).clone(),
                });
            }
            if let Some((other, _)) = probes[..i].iter().find(|(_, p)| p == path) {
                errors.push(ConfigError::DuplicateProbePath {
                    var,
                    value: (*path).clone(),
                    other,
                });
            }
        }

        if errors.is_empty() {
            Ok(cfg)
        } else {
            Err(ConfigErrors(errors))
        }
    }
}

/// Every variable [`Config::from_vars`] reads.
pub const KNOWN_VARS: &[&str] = &[
    "PORT",
    "BIND_ADDRESS",
    "POD_IP",
    "REGION",
    "ZONE",
    "HOSTNAME",
    "DRAIN_DELAY_SECONDS",
    "SHUTDOWN_TIMEOUT_SECONDS",
    "REQUEST_TIMEOUT_SECONDS",
    "HEADER_READ_TIMEOUT_SECONDS",
    "LOG_LEVEL",
    "READINESS_PATH",
    "LIVENESS_PATH",
    "STARTUP_PATH",
    "IMAGE",
    "MAX_CONNECTIONS",
    "INJECT_ERROR_RATIO",
];

/// Largest accepted `MAX_CONNECTIONS`.
const MAX_CONNECTIONS_LIMIT: usize = 1_000_000;
/// Longest accepted image reference (the distribution spec's limit on a repository name,
/// applied to the whole reference).
const MAX_IMAGE_LEN: usize = 255;

/// Validate an image reference: `[host[:port]/]path[:tag][@algorithm:hex]` as in the OCI
/// distribution reference grammar, with a tag or a digest (a bare name would mean `:latest`,
/// which says nothing about what runs).
pub fn parse_image(s: &str) -> Option<String> {
    if s.is_empty() || s.len() > MAX_IMAGE_LEN || !s.is_ascii() {
        return None;
    }
    let (name_tag, digest) = match s.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (s, None),
    };
    // A ':' after the last '/' starts the tag; one before it is a registry port.
    let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[last_slash..].find(':') {
        Some(i) => (
            &name_tag[..last_slash + i],
            Some(&name_tag[last_slash + i + 1..]),
        ),
        None => (name_tag, None),
    };
    if tag.is_none() && digest.is_none() {
        return None;
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    // The first part is a registry host when it looks like one (dot, port or localhost).
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        if !valid_host(parts[0]) {
            return None;
        }
        parts.remove(0);
    }
    let ok = parts.iter().all(|p| valid_path_component(p))
        && tag.is_none_or(valid_tag)
        && digest.is_none_or(valid_digest);
    ok.then(|| s.to_owned())
}

fn valid_host(h: &str) -> bool {
    let (host, port) = match h.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (h, None),
    };
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    host.split('.').all(label_ok)
        && port
            .is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*`
fn valid_path_component(p: &str) -> bool {
    let b = p.as_bytes();
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &p[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|c| c == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`
fn valid_tag(t: &str) -> bool {
    let word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && word(b[0])
        && b.iter().all(|&c| word(c) || c == b'.' || c == b'-')
}

/// `algorithm:hex`, with the exact length for the registered sha256 and sha512.
fn valid_digest(d: &str) -> bool {
    let Some((alg, hex)) = d.split_once(':') else {
        return false;
    };
    let hex_ok = !hex.is_empty()
        && hex
            .bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c));
    let len_ok = match alg {
        "sha256" => hex.len() == 64,
        "sha512" => hex.len() == 128,
        _ => {
            alg.bytes().next().is_some_and(|c| c.is_ascii_alphabetic())
                && alg
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'.' | b'_' | b'-'))
                && hex.len() >= 32
        }
    };
    hex_ok && len_ok
}

fn parse_seconds(s: &str, zero_ok: bool) -> Option<Duration> {
    let v: f64 = s.trim().parse().ok()?;
    let in_range = v.is_finite() && (0.0..=MAX_SECONDS).contains(&v);
    let d = Duration::try_from_secs_f64(v).ok().filter(|_| in_range)?;
    // "1e-12" is above 0 but rounds to a zero duration: as useless as 0 itself.
    (zero_ok || !d.is_zero()).then_some(d)
}

fn parse_level(s: &str) -> Option<LogLevel> {
    match s.trim().to_ascii_lowercase().as_str() {
        "error" => Some(LogLevel::Error),
        "warn" | "warning" => Some(LogLevel::Warn),
        "info" => Some(LogLevel::Info),
        "debug" => Some(LogLevel::Debug),
        "trace" => Some(LogLevel::Trace),
        _ => None,
    }
}

fn parse_label(s: &str) -> Option<String> {
    let ok = !s.is_empty()
        && s.len() <= MAX_LABEL_LEN
        && s.bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\\' | b'\''));
    ok.then(|| s.to_owned())
}

fn parse_path(s: &str) -> Option<String> {
    let ok = s.starts_with('/')
        && s.len() <= MAX_LABEL_LEN
        && !s.contains("//")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'~' | b'-'));
    ok.then(|| s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        Config::from_vars(vars.iter().copied())
    }

    fn single_error(vars: &[(&str, &str)]) -> ConfigError {
        let errs = parse(vars).expect_err("must be rejected").0;
        assert_eq!(errs.len(), 1, "{errs:?}");
        errs.into_iter().next().expect("one error")
    }

    #[test]
    fn defaults() {
        let cfg = parse(&[]).expect("defaults are valid");
        assert_eq!(cfg, Config::default());
        assert_eq!(cfg.port, 8080);
        assert_eq!(cfg.region, "unknown");
        assert_eq!(cfg.drain_delay, Duration::from_secs(10));
        assert_eq!(cfg.probes.readiness, "/readyz");
        assert_eq!(cfg.log_level, LogLevel::Info);
    }

    #[test]
    fn all_values_parse() {
        let cfg = parse(&[
            ("PORT", "0"),
            ("BIND_ADDRESS", "::1"),
            ("POD_IP", "10.1.2.3"),
            ("REGION", "westeurope"),
            ("ZONE", "westeurope-2"),
            ("HOSTNAME", "pod-abc"),
            ("DRAIN_DELAY_SECONDS", "0.5"),
            ("SHUTDOWN_TIMEOUT_SECONDS", "0"),
            ("REQUEST_TIMEOUT_SECONDS", "3"),
            ("HEADER_READ_TIMEOUT_SECONDS", "1"),
            ("LOG_LEVEL", "DEBUG"),
            ("READINESS_PATH", "/ready"),
            ("LIVENESS_PATH", "/live"),
            ("STARTUP_PATH", "/started"),
            ("UNRELATED", "ignored"),
        ])
        .expect("valid");
        assert_eq!(cfg.port, 0);
        assert_eq!(cfg.bind_address, "::1".parse::<IpAddr>().expect("ip"));
        assert_eq!(cfg.pod_ip, Some("10.1.2.3".parse().expect("ip")));
        assert_eq!(cfg.zone, "westeurope-2");
        assert_eq!(cfg.hostname.as_deref(), Some("pod-abc"));
        assert_eq!(cfg.drain_delay, Duration::from_millis(500));
        assert_eq!(cfg.shutdown_timeout, Duration::ZERO);
        assert_eq!(cfg.log_level, LogLevel::Debug);
        assert_eq!(cfg.probes.startup, "/started");
    }

    #[test]
    fn empty_value_means_default() {
        let cfg = parse(&[("PORT", ""), ("POD_IP", "")]).expect("valid");
        assert_eq!(cfg.port, 8080);
        assert_eq!(cfg.pod_ip, None);
    }

    #[test]
    fn bad_values_name_variable_value_and_form() {
        for (var, value) in [
            ("PORT", "http"),
            ("PORT", "65536"),
            ("PORT", "-1"),
            ("BIND_ADDRESS", "localhost"),
            ("POD_IP", "10.0.0"),
            ("DRAIN_DELAY_SECONDS", "-1"),
            ("DRAIN_DELAY_SECONDS", "10s"),
            ("DRAIN_DELAY_SECONDS", "NaN"),
            ("DRAIN_DELAY_SECONDS", "3601"),
            ("SHUTDOWN_TIMEOUT_SECONDS", "inf"),
            ("REQUEST_TIMEOUT_SECONDS", "0"),
            ("REQUEST_TIMEOUT_SECONDS", "1e-12"),
            ("SHUTDOWN_TIMEOUT_SECONDS", "-0.5"),
            ("HEADER_READ_TIMEOUT_SECONDS", "0"),
            ("LOG_LEVEL", "verbose"),
            ("REGION", "west europe"),
            ("READINESS_PATH", "readyz"),
            ("LIVENESS_PATH", "/health z"),
            ("STARTUP_PATH", "/{id}"),
            ("STARTUP_PATH", "/a//b"),
            ("IMAGE", "contosoha.azurecr.io/hello"),
            ("IMAGE", "contosoha.azurecr.io/Hello:1.2.3"),
            ("IMAGE", "contosoha.azurecr.io/hello:"),
            ("IMAGE", "contosoha.azurecr.io/hello:1.2.3 "),
            ("IMAGE", "contosoha.azurecr.io/hello@sha256:abc"),
            ("IMAGE", "contosoha.azurecr.io/hello@sha256:ZZ"),
            ("IMAGE", "-bad.azurecr.io/hello:1"),
            ("IMAGE", "contosoha.azurecr.io//hello:1"),
            ("MAX_CONNECTIONS", "0"),
            ("MAX_CONNECTIONS", "lots"),
            ("MAX_CONNECTIONS", "1000001"),
            ("INJECT_ERROR_RATIO", "1.5"),
            ("INJECT_ERROR_RATIO", "-0.1"),
            ("INJECT_ERROR_RATIO", "NaN"),
            ("INJECT_ERROR_RATIO", "a fifth"),
        ] {
            let err = single_error(&[(var, value)]);
            assert_eq!(err.var(), var);
            let msg = err.to_string();
            assert!(msg.contains(var), "{msg}");
            assert!(msg.contains(&format!("{value:?}")), "{msg}");
            assert!(msg.contains("expected"), "{msg}");
        }
    }

    #[test]
    fn image_references() {
        let digest = format!("sha256:{}", "a1".repeat(32));
        for ok in [
            "contosoha.azurecr.io/hello:1.2.3".to_owned(),
            format!("contosoha.azurecr.io/hello@{digest}"),
            format!("contosoha.azurecr.io/team/hello:1.2.3@{digest}"),
            "localhost:5000/hello:dev".to_owned(),
            "hello:1".to_owned(),
            "127.0.0.1:5000/a_b/c-d.e:v1_2-3.4".to_owned(),
        ] {
            let cfg = parse(&[("IMAGE", &ok)]).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert_eq!(cfg.image.as_deref(), Some(ok.as_str()));
        }
        assert_eq!(parse(&[]).expect("valid").image, None);
        let too_long = format!("r.io/{}:1", "a".repeat(260));
        assert_eq!(single_error(&[("IMAGE", &too_long)]).var(), "IMAGE");
        let short_sha512 = format!("r.io/a@sha512:{}", "a".repeat(64));
        assert_eq!(single_error(&[("IMAGE", &short_sha512)]).var(), "IMAGE");
    }

    #[test]
    fn inject_error_ratio_parses_and_defaults_to_zero() {
        assert_eq!(parse(&[]).expect("valid").inject_error_ratio, 0.0);
        let cfg = parse(&[("INJECT_ERROR_RATIO", "0.25")]).expect("valid");
        assert_eq!(cfg.inject_error_ratio, 0.25);
        assert_eq!(
            parse(&[("INJECT_ERROR_RATIO", "1")])
                .expect("valid")
                .inject_error_ratio,
            1.0
        );
    }

    #[test]
    fn max_connections_parses() {
        let cfg = parse(&[("MAX_CONNECTIONS", "128")]).expect("valid");
        assert_eq!(cfg.max_connections, Some(128));
        assert_eq!(parse(&[]).expect("valid").max_connections, None);
    }

    #[test]
    fn probe_paths_must_be_distinct() {
        let err = single_error(&[("LIVENESS_PATH", "/readyz")]);
        assert_eq!(
            err,
            ConfigError::DuplicateProbePath {
                var: "LIVENESS_PATH",
                value: "/readyz".into(),
                other: "READINESS_PATH"
            }
        );
        assert!(err.to_string().contains("READINESS_PATH"));
    }

    #[test]
    fn probe_paths_must_not_shadow_routes() {
        let err = single_error(&[("READINESS_PATH", "/default")]);
        assert_eq!(err.var(), "READINESS_PATH");
        let err = single_error(&[("STARTUP_PATH", "/metrics")]);
        assert!(err.to_string().contains("/metrics"));
    }

    #[test]
    fn all_errors_are_reported() {
        let errs = parse(&[("PORT", "x"), ("LOG_LEVEL", "y")])
            .expect_err("invalid")
            .0;
        let vars: Vec<_> = errs.iter().map(ConfigError::var).collect();
        assert_eq!(vars, ["PORT", "LOG_LEVEL"]);
    }
}
