//! The harness: a fresh database per test (SQLite file, or PostgreSQL schema), the app built
//! over it, a request helper, and a populated world with one account per role.

use std::{
    collections::HashMap,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use orgtenancy_server::{App, ServerConfig, app};
use orgtenancy_server_store::ServerStore;
use poem::{
    http::{HeaderMap, Method, StatusCode},
    test::TestClient,
};
use serde_json::{Value, json};

/// The password of every account the harness creates.
pub const PASSWORD: &str = "correct horse battery";
/// The signing key of the test apps, so tests can mint expired tokens.
pub const TEST_KEY: &[u8] = b"test-signing-key-of-at-least-32-bytes!!";
/// An id no row has.
pub const MISSING: i64 = 987_654_321;

/// The JSON names of the server's capability flags, in bit order, from its catalog (the test
/// tables follow the server's one definition of its flags).
pub fn flag_names() -> Vec<&'static str> {
    orgtenancy_server::capabilities::CATALOG
        .iter()
        .map(|flag| flag.name)
        .collect()
}

/// The environment variable that switches the PostgreSQL runs on.
pub const POSTGRES_ENV: &str = "ORGTENANCY_TEST_POSTGRES_URL";

/// A database to run one test on.
#[derive(Debug, Clone)]
pub enum Backend {
    /// A fresh SQLite file in a temporary directory.
    Sqlite,
    /// A fresh schema in the database at this URL.
    Postgres(String),
}

impl Backend {
    /// The PostgreSQL backend when `ORGTENANCY_TEST_POSTGRES_URL` is set.
    pub fn postgres() -> Option<Backend> {
        match std::env::var(POSTGRES_ENV) {
            Ok(url) if !url.trim().is_empty() => Some(Backend::Postgres(url)),
            _ => {
                eprintln!("{POSTGRES_ENV} is not set: PostgreSQL run skipped");
                None
            }
        }
    }
}

/// A fresh, isolated database; dropping it removes the PostgreSQL schema.
pub struct Database {
    /// The URL to connect to it.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    schema: Option<(String, String)>,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A number unique within this test process.
pub fn unique() -> u64 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

impl Database {
    /// Creates a fresh database for `backend`.
    pub async fn fresh(backend: &Backend) -> Database {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let path = dir.path().join("orgtenancy.db");
                let url = format!("sqlite://{}?mode=rwc", path.display());
                Database {
                    url,
                    _dir: Some(dir),
                    schema: None,
                }
            }
            Backend::Postgres(base) => {
                let nanos = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                let schema = format!(
                    "it_{}_{}_{}",
                    std::process::id(),
                    unique(),
                    nanos % 1_000_000_000
                );
                let mut conn = connect_pg(base).await;
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(&mut conn)
                    .await
                    .expect("create a test schema");
                let separator = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{separator}options[search_path]={schema}");
                Database {
                    url,
                    _dir: None,
                    schema: Some((base.clone(), schema)),
                }
            }
        }
    }
}

async fn connect_pg(url: &str) -> sqlx::PgConnection {
    use sqlx::Connection as _;
    sqlx::PgConnection::connect(url)
        .await
        .unwrap_or_else(|error| {
            panic!("{POSTGRES_ENV} is set but PostgreSQL is unreachable: {error}")
        })
}

impl Drop for Database {
    fn drop(&mut self) {
        let Some((base, schema)) = self.schema.take() else {
            return;
        };
        // Async drop is not a thing: drop the schema from a helper thread with its own runtime.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(runtime) = runtime {
                runtime.block_on(async {
                    use sqlx::Connection as _;
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&base).await {
                        let drop = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
                        let _ = sqlx::query(&drop).execute(&mut conn).await;
                    }
                });
            }
        });
        let _ = cleanup.join();
    }
}

/// The store over a fresh database.
pub async fn store(db: &Database) -> Arc<dyn ServerStore> {
    orgtenancy_server_store::connect(&db.url)
        .await
        .expect("connect to the test database")
}

/// The default test configuration (a fixed signing key).
pub fn config() -> ServerConfig {
    ServerConfig {
        signing_key: Some(TEST_KEY.to_vec()),
        ..ServerConfig::default()
    }
}

/// One app over one fresh database.
pub struct Harness {
    /// The client driving the app.
    pub client: TestClient<App>,
    /// The store under the app.
    pub store: Arc<dyn ServerStore>,
    /// Keeps the database alive.
    pub _db: Database,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body parsed as JSON (`Value::Null` when empty or not JSON).
    pub json: Value,
    /// The body as text.
    pub text: String,
}

impl Reply {
    /// The status as a number.
    pub fn code(&self) -> u16 {
        self.status.as_u16()
    }

    /// Asserts the status, showing the body on failure.
    #[track_caller]
    pub fn expect(&self, status: u16) -> &Reply {
        assert_eq!(
            self.code(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }

    /// Asserts that this is an error in the documented shape: JSON `{"detail": "..."}`, and a
    /// `WWW-Authenticate: Bearer` header on 401.
    #[track_caller]
    pub fn assert_error_shape(&self) {
        let content_type = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            content_type.starts_with("application/json"),
            "not JSON: {content_type} {}",
            self.text
        );
        assert!(
            self.json.get("detail").is_some_and(Value::is_string),
            "no detail: {}",
            self.text
        );
        if self.code() == 401 {
            assert_eq!(
                self.headers
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok()),
                Some("Bearer"),
                "401 without WWW-Authenticate: Bearer"
            );
        }
        let lower = self.text.to_lowercase();
        for leak in [
            "sqlx",
            "sqlite",
            "postgres",
            "select ",
            "insert ",
            "panicked",
            "constraint",
        ] {
            assert!(
                !lower.contains(leak),
                "error leaks internals ({leak}): {}",
                self.text
            );
        }
    }

    /// The `id` field.
    #[track_caller]
    pub fn id(&self) -> i64 {
        self.json["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no id in {}", self.text))
    }
}

/// A request body.
pub enum Body {
    /// No body.
    None,
    /// A JSON body.
    Json(Value),
    /// A form body.
    Form(Vec<(String, String)>),
    /// Raw bytes with a content type (or none).
    Raw(Option<&'static str>, Vec<u8>),
}

impl Harness {
    /// An app with the test configuration over a fresh database.
    pub async fn new(backend: &Backend) -> Harness {
        Harness::with_config(backend, config()).await
    }

    /// An app with `config` over a fresh database.
    pub async fn with_config(backend: &Backend, config: ServerConfig) -> Harness {
        // Server logs show up in the output of a failing test.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("warn"))
            .with_test_writer()
            .try_init();
        let db = Database::fresh(backend).await;
        let store = store(&db).await;
        let app = app(Arc::clone(&store), config)
            .await
            .expect("build the app");
        Harness {
            client: TestClient::new(app),
            store,
            _db: db,
        }
    }

    /// Sends a request; `path` is relative to the server root.
    pub async fn send(&self, method: Method, path: &str, token: Option<&str>, body: Body) -> Reply {
        let mut request = self.client.request(method, path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        request = match body {
            Body::None => request,
            Body::Json(value) => request.body_json(&value),
            Body::Form(fields) => request.form(&fields),
            Body::Raw(content_type, bytes) => {
                let request = match content_type {
                    Some(content_type) => request.content_type(content_type),
                    None => request,
                };
                request.body(bytes)
            }
        };
        read_reply(request.send().await).await
    }

    /// `GET /api/v1{path}`.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::GET, &api(path), token, Body::None).await
    }

    /// `POST /api/v1{path}` with a JSON body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(Method::POST, &api(path), token, Body::Json(body))
            .await
    }

    /// `PUT /api/v1{path}` with a JSON body.
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(Method::PUT, &api(path), token, Body::Json(body))
            .await
    }

    /// `PATCH /api/v1{path}` with a JSON body.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.send(Method::PATCH, &api(path), token, Body::Json(body))
            .await
    }

    /// `DELETE /api/v1{path}`.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(Method::DELETE, &api(path), token, Body::None)
            .await
    }

    /// `POST /api/v1/auth/token`; the full reply.
    pub async fn login_reply(&self, username: &str, password: &str) -> Reply {
        let form = vec![
            ("username".to_owned(), username.to_owned()),
            ("password".to_owned(), password.to_owned()),
        ];
        self.send(Method::POST, "/api/v1/auth/token", None, Body::Form(form))
            .await
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, username: &str) -> String {
        let reply = self.login_reply(username, PASSWORD).await;
        reply.expect(200);
        reply.json["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// Creates a user through the API as `token` (or anonymously) and returns its id.
    pub async fn create_user(
        &self,
        token: Option<&str>,
        username: &str,
        role: &str,
        organization: Option<i64>,
    ) -> i64 {
        let reply = self
            .post("/users/", token, user_body(username, role, organization))
            .await;
        reply.expect(201);
        reply.id()
    }

    /// Creates an organization as `token` and returns its id.
    pub async fn create_org(&self, token: &str, name: &str) -> i64 {
        let reply = self
            .post("/organizations/", Some(token), json!({ "name": name }))
            .await;
        reply.expect(201);
        reply.id()
    }
}

/// `/api/v1` + `path`.
pub fn api(path: &str) -> String {
    format!("/api/v1{path}")
}

/// The JSON of a new user.
pub fn user_body(username: &str, role: &str, organization: Option<i64>) -> Value {
    json!({
        "username": username,
        "email": format!("{username}@example.com"),
        "password": PASSWORD,
        "role": role,
        "organization_id": organization,
    })
}

/// Who sends a request in the permission tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    /// The bootstrap superuser.
    Superuser,
    /// Admin of organization A.
    AdminA,
    /// Admin of organization B.
    AdminB,
    /// Plain user of organization A.
    UserA,
    /// Plain user of organization B.
    UserB,
    /// Plain user in no organization.
    Loner,
    /// Admin in no organization.
    AdminNone,
    /// A deactivated user of organization A (its token was issued before deactivation).
    Inactive,
    /// No token at all.
    Anonymous,
    /// An expired token of `UserA`.
    Expired,
    /// A token of `UserA` whose payload was edited to claim the superuser.
    Tampered,
}

impl Who {
    /// The active accounts, in the column order of the permission tables.
    pub const ACTIVE: [Who; 7] = [
        Who::Superuser,
        Who::AdminA,
        Who::AdminB,
        Who::UserA,
        Who::UserB,
        Who::Loner,
        Who::AdminNone,
    ];
    /// The callers that must always get 401.
    pub const UNAUTHENTICATED: [Who; 4] =
        [Who::Inactive, Who::Anonymous, Who::Expired, Who::Tampered];
}

/// An account of the world.
#[derive(Debug, Clone)]
pub struct Account {
    /// Its id.
    pub id: i64,
    /// Its username.
    pub username: String,
    /// A token to send (`None` for the anonymous caller).
    pub token: Option<String>,
}

/// A populated app: organizations A and B, and one account per [`Who`].
pub struct World {
    /// The app.
    pub h: Harness,
    /// Organization A ("acme").
    pub org_a: i64,
    /// Organization B ("globex").
    pub org_b: i64,
    /// The accounts.
    pub accounts: HashMap<Who, Account>,
}

impl World {
    /// Builds the world on `backend`.
    pub async fn new(backend: &Backend) -> World {
        let h = Harness::new(backend).await;
        // Bootstrap: the very first user, anonymously, as a superuser.
        let root_id = h.create_user(None, "root", "superuser", None).await;
        let root = h.login("root").await;
        let org_a = h.create_org(&root, "acme").await;
        let org_b = h.create_org(&root, "globex").await;
        let mut accounts = HashMap::new();
        accounts.insert(
            Who::Superuser,
            Account {
                id: root_id,
                username: "root".into(),
                token: Some(root.clone()),
            },
        );
        let members = [
            (Who::AdminA, "admin_a", "admin", Some(org_a)),
            (Who::AdminB, "admin_b", "admin", Some(org_b)),
            (Who::UserA, "user_a", "user", Some(org_a)),
            (Who::UserB, "user_b", "user", Some(org_b)),
            (Who::Loner, "loner", "user", None),
            (Who::AdminNone, "admin_none", "admin", None),
            (Who::Inactive, "inactive", "user", Some(org_a)),
        ];
        for (who, username, role, org) in members {
            let id = h.create_user(Some(&root), username, role, org).await;
            let token = h.login(username).await;
            accounts.insert(
                who,
                Account {
                    id,
                    username: username.into(),
                    token: Some(token),
                },
            );
        }
        let inactive = accounts[&Who::Inactive].id;
        h.patch(
            &format!("/users/{inactive}"),
            Some(&root),
            json!({ "is_active": false }),
        )
        .await
        .expect(200);
        let user_a = accounts[&Who::UserA].clone();
        accounts.insert(
            Who::Anonymous,
            Account {
                id: 0,
                username: String::new(),
                token: None,
            },
        );
        accounts.insert(
            Who::Expired,
            Account {
                token: Some(expired_token(user_a.id, &user_a.username)),
                ..user_a.clone()
            },
        );
        let tampered = tamper(user_a.token.as_deref().unwrap_or_default(), root_id);
        accounts.insert(
            Who::Tampered,
            Account {
                token: Some(tampered),
                ..user_a
            },
        );
        World {
            h,
            org_a,
            org_b,
            accounts,
        }
    }

    /// The token of `who`.
    pub fn token(&self, who: Who) -> Option<&str> {
        self.accounts[&who].token.as_deref()
    }

    /// The superuser's token.
    pub fn root(&self) -> &str {
        self.token(Who::Superuser).unwrap_or_default()
    }

    /// The id of `who`.
    pub fn id(&self, who: Who) -> i64 {
        self.accounts[&who].id
    }
}

/// A correctly signed token of the user that expired a minute ago.
pub fn expired_token(id: i64, username: &str) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs()) as i64;
    let claims = json!({
        "sub": username, "id": id, "role": "user",
        "iat": now - 3600, "iat_us": (now - 3600) * 1_000_000,
        "exp": now - 60, "jti": format!("expired-{}", unique()),
    });
    let key = jsonwebtoken::EncodingKey::from_secret(TEST_KEY).expect("key");
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).expect("encode")
}

/// `token` with its payload edited to claim user `id`, role superuser, signature kept.
pub fn tamper(token: &str, id: i64) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWT has three parts");
    let payload = URL_SAFE_NO_PAD.decode(parts[1]).expect("payload");
    let mut claims: Value = serde_json::from_slice(&payload).expect("claims");
    claims["id"] = json!(id);
    claims["sub"] = json!("root");
    claims["role"] = json!("superuser");
    let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("json"));
    format!("{}.{}.{}", parts[0], forged, parts[2])
}

/// A test client's response as a [`Reply`] (JSON `Null` when the body is not JSON).
pub async fn read_reply(response: poem::test::TestResponse) -> Reply {
    let response = response.0;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .into_vec()
        .await
        .expect("read the body");
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        json,
        text,
    }
}

/// Runs `openssl args…` in `dir`: whether it succeeded, and its stdout then stderr.
pub fn openssl(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run openssl");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
