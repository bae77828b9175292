//! Region processes: the real `service` binary, configured as the rendered overlay configures
//! it (region, zone, probe paths, drain and shutdown times), each region on its own loopback
//! address. Faults are signals: SIGKILL (loss), SIGSTOP (blackhole), SIGTERM (planned stop).

use crate::DrillError;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// How every region process is configured (the overlay's env, scaled).
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub bin: PathBuf,
    pub port: u16,
    pub readiness_path: String,
    pub liveness_path: String,
    pub startup_path: String,
    pub drain: Duration,
    pub shutdown_timeout: Duration,
    /// Where the processes' stdout/stderr go (`None`: discarded).
    pub log_dir: Option<PathBuf>,
}

/// One running `service` process of a region.
#[derive(Debug)]
pub struct RegionProcess {
    pub region: String,
    pub addr: SocketAddr,
    pub instance: String,
    child: Child,
}

/// The `service` binary next to the current executable (`target/<profile>/service` for both
/// `infra` and test executables in `target/<profile>/deps/`).
pub fn default_service_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap_or_default();
    let mut dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("service")
}

/// Checks the binary before anything starts.
pub fn check_service_bin(bin: &Path) -> Result<(), DrillError> {
    match std::fs::metadata(bin) {
        Ok(m) if m.is_file() => Ok(()),
        _ => Err(DrillError::Input(format!(
            "the service binary `{}` does not exist\n  help: build it with `cargo build -p service` or pass --service-bin <path>",
            bin.display()
        ))),
    }
}

impl RegionProcess {
    pub async fn spawn(
        cfg: &ServiceConfig,
        region: &str,
        zone: &str,
        instance: &str,
        address: IpAddr,
    ) -> Result<Self, DrillError> {
        let mut cmd = Command::new(&cfg.bin);
        cmd.env("BIND_ADDRESS", address.to_string())
            .env("PORT", cfg.port.to_string())
            .env("REGION", region)
            .env("ZONE", zone)
            .env("HOSTNAME", instance)
            .env("POD_IP", address.to_string())
            .env("READINESS_PATH", &cfg.readiness_path)
            .env("LIVENESS_PATH", &cfg.liveness_path)
            .env("STARTUP_PATH", &cfg.startup_path)
            .env(
                "DRAIN_DELAY_SECONDS",
                format!("{:.3}", cfg.drain.as_secs_f64()),
            )
            .env(
                "SHUTDOWN_TIMEOUT_SECONDS",
                format!("{:.3}", cfg.shutdown_timeout.as_secs_f64()),
            )
            .env("LOG_LEVEL", "info")
            .env("TOKIO_WORKER_THREADS", "1")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        match &cfg.log_dir {
            Some(dir) => {
                let open = |suffix: &str| {
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(dir.join(format!("{instance}.{suffix}")))
                        .map_err(|e| {
                            DrillError::Run(format!("cannot open the log of {instance}: {e}"))
                        })
                };
                cmd.stdout(open("log")?).stderr(open("err")?);
            }
            None => {
                cmd.stdout(Stdio::null()).stderr(Stdio::null());
            }
        }
        let child = cmd.spawn().map_err(|e| {
            DrillError::Run(format!(
                "cannot start `{}` for {region}: {e}\n  help: pass --service-bin <path to the service binary>",
                cfg.bin.display()
            ))
        })?;
        Ok(Self {
            region: region.to_string(),
            addr: SocketAddr::new(address, cfg.port),
            instance: instance.to_string(),
            child,
        })
    }

    /// Waits until readiness answers 200.
    pub async fn wait_ready(&mut self, path: &str, limit: Duration) -> Result<(), DrillError> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_millis(500))
            .build()
            .map_err(|e| DrillError::Run(e.to_string()))?;
        let url = format!("http://{}{path}", self.addr);
        let until = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(DrillError::Run(format!(
                    "{} exited before it was ready ({status}); see its log",
                    self.instance
                )));
            }
            if let Ok(r) = http.get(&url).send().await
                && r.status().as_u16() == 200
            {
                return Ok(());
            }
            if Instant::now() >= until {
                return Err(DrillError::Run(format!(
                    "{} was not ready on {url} within {:?}",
                    self.instance, limit
                )));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn pid(&self) -> Option<Pid> {
        self.child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw)
    }

    pub fn signal(&self, sig: Signal) -> Result<(), DrillError> {
        let pid = self
            .pid()
            .ok_or_else(|| DrillError::Run(format!("{} has already exited", self.instance)))?;
        kill(pid, sig)
            .map_err(|e| DrillError::Run(format!("cannot send {sig} to {}: {e}", self.instance)))
    }

    /// SIGKILL and reap.
    pub async fn kill(&mut self) -> Result<(), DrillError> {
        self.signal(Signal::SIGKILL)?;
        let _ = self.child.wait().await;
        Ok(())
    }

    /// Waits for the exit after a SIGTERM; returns the exit code.
    pub async fn wait_exit(&mut self, limit: Duration) -> Result<Option<i32>, DrillError> {
        match tokio::time::timeout(limit, self.child.wait()).await {
            Ok(Ok(status)) => Ok(status.code()),
            Ok(Err(e)) => Err(DrillError::Run(format!("{}: {e}", self.instance))),
            Err(_) => Err(DrillError::Run(format!(
                "{} did not exit within {limit:?} after SIGTERM",
                self.instance
            ))),
        }
    }
}

impl Drop for RegionProcess {
    fn drop(&mut self) {
        // A stopped process must be resumed or killed: kill_on_drop sends SIGKILL, which works
        // on a stopped process too.
        let _ = self.child.start_kill();
    }
}
