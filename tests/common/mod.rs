//! Shared helpers of the whole-flow tests: the binary on a temporary database, and a peer
//! that reads or changes the sandbox over HTTP as another user would.

#![allow(
    dead_code,
    reason = "each test binary uses a different part of these helpers"
)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use actionplane::sandbox::{self, Faults, SandboxHandle};
use serde_json::Value;

pub const SANDBOX_PAYLOAD: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/assets/connect-sandbox.json");
pub const SANDBOX_PASSWORD: &str = "sandbox-only-Passw0rd!";
const ADMIN: (&str, &str) = ("admin", "sandbox-admin-Passw0rd!");

/// The binary on its own temporary database.
pub struct Cli {
    pub db: PathBuf,
    _dir: tempfile::TempDir,
}

impl Cli {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self {
            db: dir.path().join("actionplane.db"),
            _dir: dir,
        }
    }

    /// A workspace connected to the embedded sandbox, validated and synced.
    pub fn connected() -> Self {
        let cli = Self::new();
        cli.json(&["connect", "--file", SANDBOX_PAYLOAD]);
        cli
    }

    /// A workspace connected to a sandbox served at `base_url`.
    pub fn connected_to(base_url: &str) -> Self {
        let cli = Self::new();
        let payload = std::fs::read_to_string(SANDBOX_PAYLOAD)
            .unwrap()
            .replace("\"sandbox\"", &format!("\"{base_url}\""));
        let file = cli.db.with_file_name("payload.json");
        std::fs::write(&file, payload).unwrap();
        cli.json(&["connect", "--file", file.to_str().unwrap()]);
        cli
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_actionplane"));
        command
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .env_remove("ACTIONPLANE_CLIENT_SECRET")
            .env_remove("ACTIONPLANE_CRASH_AT")
            .env_remove("DBUS_SESSION_BUS_ADDRESS");
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut command = self.command(args);
        for (k, v) in env {
            command.env(k, v);
        }
        command.output().unwrap()
    }

    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Runs a command with `--json`, asserting success, and parses its one JSON document.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.run(&all);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{args:?} failed: {}\n{stdout}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stdout}"))
    }
}

/// The dry run of the sample close of INC-42; returns the run as JSON.
pub fn dry_run(cli: &Cli) -> Value {
    cli.json(&[
        "run",
        "support.close-ticket",
        "--record",
        "INC-42",
        "--dry-run",
    ])
}

/// The arguments of the live sample close approving `digest`.
pub fn live_args(digest: &str) -> Vec<String> {
    let args = [
        "run",
        "support.close-ticket",
        "--record",
        "INC-42",
        "--live",
    ];
    let approval = [
        "--approve-digest",
        digest,
        "--reason",
        "duplicate alert confirmed",
    ];
    args.into_iter()
        .chain(approval)
        .map(str::to_owned)
        .collect()
}

/// `live_args` as the `&str` slice the runners take.
pub fn as_strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// Another party on the sandbox: reads and writes over HTTP as the admin user.
pub struct SandboxPeer {
    handle: SandboxHandle,
    http: reqwest::Client,
}

impl SandboxPeer {
    /// The sandbox on the state file that belongs to `db`.
    pub async fn start(db: &Path) -> Self {
        Self::on_state(&sandbox::state_path_for(db)).await
    }

    /// A sandbox with a state file of its own, for a connector that targets its URL.
    pub async fn serve() -> Self {
        let dir = tempfile::tempdir().unwrap().keep();
        Self::on_state(&dir.join("served.sandbox.sqlite")).await
    }

    async fn on_state(state: &Path) -> Self {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let handle = sandbox::start(state, addr, Faults::default())
            .await
            .unwrap();
        Self {
            handle,
            http: reqwest::Client::new(),
        }
    }

    pub fn base_url(&self) -> String {
        self.handle.base_url()
    }

    pub fn set_slow_ms(&self, ms: u64) {
        self.set_faults(Faults {
            slow_ms: ms,
            ..Faults::default()
        });
    }

    pub fn set_faults(&self, faults: Faults) {
        self.handle.set_faults(faults);
    }

    async fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.base_url());
        let response = self
            .http
            .get(url)
            .basic_auth(ADMIN.0, Some(ADMIN.1))
            .header("Accept", "application/json");
        response.send().await.unwrap().json().await.unwrap()
    }

    /// The raw record with this number.
    pub async fn record(&self, number: &str) -> Value {
        let list = self
            .get(&format!(
                "/api/now/table/incident?sysparm_query=number={number}&sysparm_limit=2"
            ))
            .await;
        list["result"][0].clone()
    }

    /// How many work notes of a record carry a run's marker.
    pub async fn journal_count(&self, sys_id: &str, run_id: &str) -> usize {
        let path = format!(
            "/api/now/table/sys_journal_field?sysparm_limit=100\
             &sysparm_query=element_id={sys_id}^element=work_notes"
        );
        let journal = self.get(&path).await;
        journal["result"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|j| j["value"].as_str().unwrap().contains(run_id))
            .count()
    }

    /// Changes a record as the admin user, as a colleague would.
    pub async fn patch_as_admin(&self, number: &str, body: Value) {
        let sys_id = self.record(number).await["sys_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let url = format!("{}/api/now/table/incident/{sys_id}", self.base_url());
        let response = self
            .http
            .patch(url)
            .basic_auth(ADMIN.0, Some(ADMIN.1))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{}",
            response.text().await.unwrap()
        );
    }

    pub async fn stop(self) {
        self.handle.shutdown().await;
    }
}
