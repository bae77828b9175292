//! Every duration of the drill, from the catalogue, scaled by `--time-scale`.

use crate::DrillError;
use catalogue::Catalogue;
use serde::Serialize;
use std::time::Duration;

/// The catalogue's probe, DNS and drain durations after scaling.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timing {
    pub time_scale: f64,
    #[serde(with = "millis")]
    pub interval: Duration,
    #[serde(with = "millis")]
    pub timeout: Duration,
    pub tolerated_failures: u32,
    /// DNS TTLs are whole seconds: the scaled TTL is rounded up (never to 0 unless the
    /// catalogue says 0), and the bound uses this effective value.
    pub ttl_seconds: u32,
    #[serde(with = "millis")]
    pub drain: Duration,
    #[serde(with = "millis")]
    pub in_flight_timeout: Duration,
    #[serde(with = "millis")]
    pub rto: Duration,
}

pub(crate) mod millis {
    use serde::Serializer;
    use std::time::Duration;
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64((d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0)
    }
}

/// Validates `--time-scale`: a factor in (0, 1]; 0.1 turns a 10 s interval into 1 s.
pub fn parse_scale(s: &str) -> Result<f64, DrillError> {
    let f: f64 = s.trim().parse().map_err(|_| {
        DrillError::Input(format!(
            "invalid --time-scale `{s}`: expected a number such as 0.1\n  help: 1 runs at real scale; 0.1 makes every catalogue duration ten times shorter"
        ))
    })?;
    check_scale(f)?;
    Ok(f)
}

fn check_scale(f: f64) -> Result<(), DrillError> {
    if !f.is_finite() || f <= 0.0 || f > 1.0 {
        return Err(DrillError::Input(format!(
            "invalid --time-scale {f}: it must be greater than 0 and at most 1\n  help: 1 runs at real scale; 0.1 makes every catalogue duration ten times shorter"
        )));
    }
    // Below this a 10 s interval becomes shorter than process start-up and scheduling noise.
    if f < 0.01 {
        return Err(DrillError::Input(format!(
            "--time-scale {f} is too small: probe intervals would be shorter than a process start\n  help: use 0.01 or more (CI uses 0.05)"
        )));
    }
    Ok(())
}

impl Timing {
    pub fn from_catalogue(c: &Catalogue, time_scale: f64) -> Result<Self, DrillError> {
        check_scale(time_scale)?;
        let tm = &c.traffic_manager;
        let m = &tm.monitor;
        let scaled = |secs: u32| Duration::from_secs_f64(f64::from(secs) * time_scale);
        if m.timeout_seconds >= m.interval_seconds {
            return Err(DrillError::Input(format!(
                "trafficManager.monitor.timeoutSeconds ({}) must be shorter than intervalSeconds ({})\n  help: Traffic Manager allows 5-9 s with a 10 s interval and 5-10 s with 30 s",
                m.timeout_seconds, m.interval_seconds
            )));
        }
        let ttl_seconds = if tm.ttl == 0 {
            0
        } else {
            (f64::from(tm.ttl) * time_scale).ceil().max(1.0) as u32
        };
        Ok(Self {
            time_scale,
            interval: scaled(m.interval_seconds),
            timeout: scaled(m.timeout_seconds),
            tolerated_failures: m.tolerated_failures,
            ttl_seconds,
            drain: scaled(c.app.shutdown.drain_seconds),
            in_flight_timeout: scaled(c.app.shutdown.in_flight_timeout_seconds),
            rto: scaled(tm.rto_seconds),
        })
    }

    pub fn ttl(&self) -> Duration {
        Duration::from_secs(u64::from(self.ttl_seconds))
    }

    /// Worst case until clients move: `(tolerated + 1) × interval + timeout + TTL`.
    pub fn bound(&self) -> Duration {
        self.interval * (self.tolerated_failures + 1) + self.timeout + self.ttl()
    }

    /// The formula with this run's numbers, for reports.
    pub fn bound_formula(&self) -> String {
        format!(
            "({} + 1) x {} + {} + {} s TTL = {}",
            self.tolerated_failures,
            secs(self.interval),
            secs(self.timeout),
            self.ttl_seconds,
            secs(self.bound())
        )
    }
}

/// `1.5 s`, `65 s`: compact seconds for humans.
pub fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if (s - s.round()).abs() < 1e-9 {
        format!("{s:.0} s")
    } else {
        format!("{s:.2} s")
    }
}
