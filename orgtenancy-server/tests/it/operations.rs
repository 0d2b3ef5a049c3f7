//! SPEC §13 against the real binary: `create-superuser`, a `verify-audit` that never writes,
//! start-up errors and the start-up line, request logs (text and JSON), the WAL checkpoint on
//! SIGTERM, and clearing a login lockout.

mod commands;
mod lockouts;
mod logs;

use std::{
    io::Write as _,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use serde_json::Value;
use ureq::Agent;

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_orgtenancy-server");

/// A command of the binary with a clean environment, in `dir`.
pub(crate) fn command(dir: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .current_dir(dir)
        .env_remove("ORGTENANCY_DATABASE_URL")
        .env_remove("ORGTENANCY_SIGNING_KEY")
        .env_remove("ORGTENANCY_LOG_FORMAT")
        .env("RUST_LOG", "warn");
    command
}

/// Runs `command` with `stdin` as its standard input and returns its output.
pub(crate) fn run_with_input(mut command: Command, stdin: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start orgtenancy-server");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child
        .wait_with_output()
        .expect("wait for orgtenancy-server")
}

/// A running server whose standard error goes to a file.
pub(crate) struct Running {
    child: Child,
    pub(crate) base: String,
    pub(crate) bind: String,
    log: PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Starts the server in `dir` with `args` and `RUST_LOG=log_level`, and waits until
/// `/healthz` answers.
pub(crate) fn serve(dir: &Path, log_level: &str, args: &[&str]) -> Running {
    let bind = format!("127.0.0.1:{}", free_port());
    let log = dir.join(format!("server-{}.log", crate::support::unique()));
    let stderr = std::fs::File::create(&log).expect("create the log file");
    let child = command(dir)
        .env("RUST_LOG", log_level)
        .arg("--bind")
        .arg(&bind)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("start orgtenancy-server");
    let running = Running {
        child,
        base: format!("http://{bind}"),
        bind,
        log,
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while agent()
        .get(&format!("{}/healthz", running.base))
        .call()
        .map(|r| r.status().as_u16())
        .ok()
        != Some(200)
    {
        assert!(
            Instant::now() < deadline,
            "no health: {}",
            running.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    running
}

impl Running {
    pub(crate) fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, and a clean exit within 30 s; returns the log.
    pub(crate) fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(exit) = self.child.try_wait().expect("wait") {
                assert!(exit.success(), "exit {exit}: {}", self.log_text());
                return self.log_text();
            }
            assert!(Instant::now() < deadline, "no stop after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

pub(crate) fn agent() -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// A reply: status, `X-Request-ID`, JSON body.
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) request_id: Option<String>,
    pub(crate) body: Value,
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> Reply {
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Reply {
        status: response.status().as_u16(),
        request_id,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// One request: `method` `path` (under the server root) with an optional bearer token, an
/// optional `X-Request-ID` and an optional JSON body.
pub(crate) fn call(
    server: &Running,
    method: &str,
    path: &str,
    token: Option<&str>,
    request_id: Option<&str>,
    body: Option<&Value>,
) -> Reply {
    let url = format!("{}{path}", server.base);
    let mut request = ureq::http::Request::builder().method(method).uri(&url);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    if let Some(id) = request_id {
        request = request.header("X-Request-ID", id);
    }
    let agent = agent();
    let response = match body {
        Some(body) => agent.run(
            request
                .header("Content-Type", "application/json")
                .body(body.to_string())
                .expect("request"),
        ),
        None => agent.run(request.body(()).expect("request")),
    };
    read(response.expect("send"))
}

/// Logs in over the form; the reply.
pub(crate) fn login(server: &Running, username: &str, password: &str) -> Reply {
    let response = agent()
        .post(&format!("{}/api/v1/auth/token", server.base))
        .send_form([("username", username), ("password", password)])
        .expect("POST /auth/token");
    read(response)
}

/// The access token of a successful login.
pub(crate) fn token(server: &Running, username: &str, password: &str) -> String {
    let reply = login(server, username, password);
    assert_eq!(reply.status, 200, "login {username}: {}", reply.body);
    reply.body["access_token"]
        .as_str()
        .expect("token")
        .to_owned()
}

/// A fresh database URL for `backend` (kept alive by the returned guard).
pub(crate) fn fresh(backend: &crate::support::Backend) -> crate::support::Database {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(crate::support::Database::fresh(backend))
}
