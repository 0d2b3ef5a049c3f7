//! End to end: the real `orgtenancy-server` binary on a free loopback port, driven by a real
//! HTTP client through the documented organization walk, then stopped with SIGTERM.

use std::{
    net::TcpListener,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use ureq::Agent;

use crate::support::{Backend, Database, PASSWORD};

/// The running binary; killed if the test fails before stopping it.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Kills the process with SIGKILL (no graceful shutdown: a crash) and reaps it.
    pub(crate) fn sigkill(mut self) {
        self.child.kill().expect("SIGKILL the server");
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local address").port()
}

/// Starts the binary in `dir`; `database_url` `None` uses the default (a SQLite file there).
pub(crate) fn start(dir: &Path, database_url: Option<&str>) -> Server {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_orgtenancy-server"));
    command
        .current_dir(dir)
        .arg("--bind")
        .arg(format!("127.0.0.1:{port}"))
        .env_remove("ORGTENANCY_DATABASE_URL")
        .env_remove("ORGTENANCY_SIGNING_KEY")
        .env_remove("ORGTENANCY_OPEN_REGISTRATION")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(url) = database_url {
        command.arg("--database-url").arg(url);
    }
    let child = command.spawn().expect("start orgtenancy-server");
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let agent = agent();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let health = agent.get(&format!("{}/healthz", server.base)).call();
        if health.is_ok_and(|response| response.status() == 200) {
            return server;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not become healthy in time"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn agent() -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// A blocking client for the walk, with the token once logged in.
struct Client {
    agent: Agent,
    pub(crate) base: String,
    token: Option<String>,
}

impl Client {
    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.base)
    }

    fn auth(&self) -> String {
        format!("Bearer {}", self.token.as_deref().unwrap_or_default())
    }

    fn read(mut response: ureq::http::Response<ureq::Body>) -> (u16, Value) {
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    fn get(&self, path: &str) -> (u16, Value) {
        Self::read(
            self.agent
                .get(&self.url(path))
                .header("Authorization", &self.auth())
                .call()
                .expect("GET"),
        )
    }

    fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        let request = self.agent.post(&self.url(path));
        let request = if self.token.is_some() {
            request.header("Authorization", &self.auth())
        } else {
            request
        };
        Self::read(request.send_json(body).expect("POST"))
    }

    fn post_empty(&self, path: &str) -> (u16, Value) {
        Self::read(
            self.agent
                .post(&self.url(path))
                .header("Authorization", &self.auth())
                .send_empty()
                .expect("POST"),
        )
    }

    fn put(&self, path: &str, body: &Value) -> (u16, Value) {
        Self::read(
            self.agent
                .put(&self.url(path))
                .header("Authorization", &self.auth())
                .send_json(body)
                .expect("PUT"),
        )
    }

    fn delete(&self, path: &str) -> (u16, Value) {
        Self::read(
            self.agent
                .delete(&self.url(path))
                .header("Authorization", &self.auth())
                .call()
                .expect("DELETE"),
        )
    }

    fn login(&mut self, username: &str) {
        let response = self
            .agent
            .post(&self.url("/auth/token"))
            .send_form([("username", username), ("password", PASSWORD)])
            .expect("POST /auth/token");
        let (status, body) = Self::read(response);
        assert_eq!(status, 200, "login: {body}");
        assert_eq!(body["token_type"], "bearer");
        self.token = body["access_token"].as_str().map(str::to_owned);
    }
}

/// The organization walk of the documentation, as the fastpki client sends it.
fn walk(server: &Server) {
    let mut client = Client {
        agent: agent(),
        base: server.base.clone(),
        token: None,
    };
    // Bootstrap the first user (a superuser), then log in.
    let (status, root) = client.post(
        "/users/",
        &json!({"username": "admin", "email": "admin@example.com", "password": PASSWORD, "role": "superuser",
                "can_create_ca": false, "can_create_cert": false, "can_revoke_cert": false,
                "can_export_private_key": false, "can_delete_ca": false}),
    );
    assert_eq!(status, 201, "bootstrap: {root}");
    client.login("admin");
    // Create, list, view, update an organization.
    let (status, org) = client.post(
        "/organizations/",
        &json!({"name": "Acme Corp", "description": "Our tenant"}),
    );
    assert_eq!(status, 201, "{org}");
    let org_id = org["id"].as_i64().expect("organization id");
    let (status, list) = client.get("/organizations/");
    assert_eq!(status, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let (status, shown) = client.get(&format!("/organizations/{org_id}"));
    assert_eq!((status, shown["name"].as_str()), (200, Some("Acme Corp")));
    let (status, updated) = client.put(
        &format!("/organizations/{org_id}"),
        &json!({"description": "Renamed tenant"}),
    );
    assert_eq!(
        (status, updated["description"].as_str()),
        (200, Some("Renamed tenant"))
    );
    // Add, list and remove a user.
    let (status, user) = client.post(
        "/users/",
        &json!({"username": "alice", "email": "alice@example.com", "password": PASSWORD, "role": "user"}),
    );
    assert_eq!(status, 201, "{user}");
    let user_id = user["id"].as_i64().expect("user id");
    let (status, added) = client.post_empty(&format!("/organizations/{org_id}/users/{user_id}"));
    assert_eq!(
        (status, added["organization_id"].as_i64()),
        (200, Some(org_id)),
        "{added}"
    );
    let (status, members) = client.get(&format!("/organizations/{org_id}/users"));
    assert_eq!(status, 200);
    assert_eq!(members[0]["username"], "alice");
    let (status, removed) = client.delete(&format!("/organizations/{org_id}/users/{user_id}"));
    assert_eq!((status, removed["username"].as_str()), (200, Some("alice")));
    // Delete it, and read the audit entry of the deletion.
    let (status, _) = client.delete(&format!("/organizations/{org_id}"));
    assert_eq!(status, 204);
    let (status, _) = client.get(&format!("/organizations/{org_id}"));
    assert_eq!(status, 404);
    let (status, log) = client.get(&format!(
        "/audit-logs/?action=org_delete&resource_id={org_id}"
    ));
    assert_eq!(status, 200);
    assert_eq!(log.as_array().map(Vec::len), Some(1), "{log}");
    assert_eq!(log[0]["username"], "admin");
    assert_eq!(log[0]["resource_type"], "organization");
}

/// Sends SIGTERM and expects a clean exit.
fn stop(mut server: Server) {
    let pid = server.child.id().to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM {pid}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(exit) = server.child.try_wait().expect("wait for the server") {
            assert!(exit.success(), "graceful shutdown exits 0, got {exit}");
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn end_to_end(backend: &Backend) {
    let dir = tempfile::tempdir().expect("temporary directory");
    match backend {
        Backend::Sqlite => {
            // No --database-url: the default creates a SQLite file in the working directory.
            let server = start(dir.path(), None);
            walk(&server);
            stop(server);
            assert!(
                dir.path().join("orgtenancy.db").exists(),
                "the default database file was created"
            );
            // A restart keeps the data and the signing key.
            let server = start(dir.path(), None);
            let mut client = Client {
                agent: agent(),
                base: server.base.clone(),
                token: None,
            };
            client.login("admin");
            assert_eq!(client.get("/users/me").0, 200);
            stop(server);
        }
        Backend::Postgres(_) => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            let db: Database = runtime.block_on(Database::fresh(backend));
            let server = start(dir.path(), Some(&db.url));
            walk(&server);
            stop(server);
            drop(db);
        }
    }
}

#[test]
fn sqlite() {
    end_to_end(&Backend::Sqlite);
}

#[test]
fn postgres() {
    if let Some(backend) = Backend::postgres() {
        end_to_end(&backend);
    }
}
