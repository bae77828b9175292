//! Lifecycle state behind the probes.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::metrics::Metrics;

/// Where the process is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Phase {
    /// Not serving yet: startup and readiness fail.
    Starting = 0,
    /// Serving: every probe passes.
    Ready = 1,
    /// Shutdown began: readiness fails, everything else is still served.
    Draining = 2,
}

/// Shared lifecycle state; cheap to read from the probes.
#[derive(Debug)]
pub struct Health {
    phase: AtomicU8,
    metrics: &'static Metrics,
}

impl Health {
    /// A new state, in [`Phase::Starting`].
    pub fn new(metrics: &'static Metrics) -> Self {
        metrics.set_ready(false);
        Self {
            phase: AtomicU8::new(Phase::Starting as u8),
            metrics,
        }
    }

    /// The metrics this state mirrors `service_ready` into.
    pub fn metrics(&self) -> &'static Metrics {
        self.metrics
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Acquire) {
            0 => Phase::Starting,
            1 => Phase::Ready,
            _ => Phase::Draining,
        }
    }

    /// Startup is complete: the listener is bound and requests are served.
    /// Does nothing once draining began.
    pub fn set_ready(&self) {
        let ok = self
            .phase
            .compare_exchange(
                Phase::Starting as u8,
                Phase::Ready as u8,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok();
        if ok {
            self.metrics.set_ready(true);
        }
    }

    /// Shutdown began: readiness fails from now on.
    pub fn set_draining(&self) {
        self.phase.store(Phase::Draining as u8, Ordering::Release);
        self.metrics.set_ready(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        let h = Health::new(Metrics::leak());
        assert_eq!(h.phase(), Phase::Starting);
        h.set_ready();
        assert_eq!(h.phase(), Phase::Ready);
        h.set_draining();
        assert_eq!(h.phase(), Phase::Draining);
        h.set_ready();
        assert_eq!(h.phase(), Phase::Draining, "draining is final");
    }
}
