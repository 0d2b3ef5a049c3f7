//! A third-party AuthZEN client against the real binary: the `openidauthzen` crate
//! (0.1.0-alpha.1) and its reqwest transport drive discovery, `POST /access/v1/evaluation`,
//! `/evaluations` and the three searches of SPEC §11 on a small seeded world, and every answer
//! is compared with what that world must give (decisions, ids in id order, pages).
//!
//! What the crate can and cannot do against this server:
//!
//! * It speaks the AuthZEN 1.0 shapes this server answers: its request types serialize to
//!   bodies the server accepts, and its response types read the server's decisions, batches,
//!   search results and `page.next_token` (an empty token on the last page). It sends the
//!   bearer token (`Authorization: Bearer …`) and an `X-Request-ID` on every call, and maps a
//!   4xx to `Error::HttpStatus` with the body.
//! * It insists on TLS: `AuthZenClient::discover` refuses a PDP identifier that is not
//!   `https://` (`Error::InvalidPdpUrl("scheme must be https, got http")`), and every other
//!   call needs the discovered, cached metadata (`Error::NotCached` without it). AuthZEN §9
//!   does say the identifier is an https URL; the reference server serves plain HTTP and
//!   expects TLS to end at a proxy in front of it (its metadata honours
//!   `X-Forwarded-Proto: https`). `ReqwestClient::new` takes only a timeout, so the client
//!   cannot be told to trust a test certificate either. The test therefore wraps the crate's
//!   own `ReqwestClient` in [`TlsTerminator`], an `HttpClient` (the crate's transport trait)
//!   that plays the TLS-terminating proxy: it forwards each request for
//!   `https://127.0.0.1:<port>` to `http://127.0.0.1:<port>` with `X-Forwarded-Proto: https`.
//!   Everything else — discovery, the identifier check, the endpoint URLs from the
//!   metadata, headers, bodies, the HTTP itself — is the crate's.
//! * Its `EvaluationsResponse` requires `evaluations`, so it cannot read the answer to a
//!   batch without entries, which AuthZEN §7 treats as one evaluation (this server answers
//!   `{"decision", "context"}`): that call ends in `Error::InvalidResponse`.
//! * Its reqwest feature cannot be had without reqwest's default features (rustls over
//!   aws-lc-rs, the platform verifier, HTTP/2): `default-features = false` on the crate drops
//!   reqwest altogether. The cost is in benches/README.md.

use std::{path::Path, time::Duration};

use openidauthzen::{
    Action, ActionSearchRequest, AuthZenClient, Error, EvaluationItem, EvaluationRequest,
    EvaluationSemantic, EvaluationsOptions, EvaluationsRequest, Page, Resource,
    ResourceSearchRequest, Subject, SubjectSearchRequest,
    http::{HttpClient, HttpResponse, Method, ReqwestClient},
};
use serde_json::{Value, json};
use ureq::Agent;

use crate::{
    e2e::{Server, start},
    support::{Backend, Database, PASSWORD, flag_names},
};

/// The crate's reqwest transport behind a TLS-terminating proxy: requests for the `https`
/// PDP identifier go to the server's plain-HTTP address with `X-Forwarded-Proto: https`.
struct TlsTerminator {
    inner: ReqwestClient,
    /// `https://127.0.0.1:<port>`: what the client knows the PDP as.
    public: String,
    /// `http://127.0.0.1:<port>`: where the server listens.
    upstream: String,
}

#[async_trait::async_trait]
impl HttpClient for TlsTerminator {
    async fn request(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<HttpResponse, Error> {
        let rest = url
            .strip_prefix(&self.public)
            .unwrap_or_else(|| panic!("{url} is not on the PDP {}", self.public));
        let url = format!("{}{rest}", self.upstream);
        let mut headers = headers.to_vec();
        headers.push(("x-forwarded-proto", "https"));
        self.inner.request(method, &url, &headers, body).await
    }
}

/// The seeded world: ids of its users, organizations, CAs and certificate, and tokens.
struct World {
    root: i64,
    admin_a: i64,
    issuer_a: i64,
    plain_a: i64,
    user_b: i64,
    org_a: i64,
    org_b: i64,
    /// CAs of organization A, created by `admin_a`.
    ca_a1: i64,
    ca_a2: i64,
    /// The CA of organization B, created by `user_b`.
    ca_b: i64,
    /// A certificate of `ca_a1`, issued by `issuer_a`.
    cert_a: i64,
    root_token: String,
    admin_a_token: String,
    plain_a_token: String,
}

fn agent() -> Agent {
    Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn read(mut response: ureq::http::Response<ureq::Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `POST /api/v1{path}` as `token`, expecting 201; the new row's id.
fn create(agent: &Agent, base: &str, token: Option<&str>, path: &str, body: &Value) -> i64 {
    let request = agent.post(&format!("{base}/api/v1{path}"));
    let request = match token {
        Some(token) => request.header("Authorization", &format!("Bearer {token}")),
        None => request,
    };
    let (status, reply) = read(request.send_json(body).expect("POST"));
    assert_eq!(status, 201, "POST {path}: {reply}");
    reply["id"].as_i64().expect("an id")
}

fn login(agent: &Agent, base: &str, username: &str) -> String {
    let response = agent
        .post(&format!("{base}/api/v1/auth/token"))
        .send_form([("username", username), ("password", PASSWORD)])
        .expect("POST /auth/token");
    let (status, body) = read(response);
    assert_eq!(status, 200, "login {username}: {body}");
    body["access_token"].as_str().expect("a token").to_owned()
}

fn user(username: &str, role: &str, org: Option<i64>, flags: &[&str]) -> Value {
    let mut body = json!({
        "username": username, "email": format!("{username}@example.com"),
        "password": PASSWORD, "role": role, "organization_id": org,
    });
    for flag in flag_names() {
        body[flag] = json!(flags.contains(&flag));
    }
    body
}

fn ca(name: &str) -> Value {
    json!({
        "name": name, "subject_dn": format!("CN={name},O=Test"), "key_type": "ec",
        "valid_days": 365,
    })
}

/// Seeds the world over the public API, as any client would.
fn seed(base: &str) -> World {
    let agent = agent();
    let root = create(
        &agent,
        base,
        None,
        "/users/",
        &user("root", "superuser", None, &[]),
    );
    let root_token = login(&agent, base, "root");
    let t = Some(root_token.as_str());
    let org_a = create(&agent, base, t, "/organizations/", &json!({"name": "acme"}));
    let org_b = create(
        &agent,
        base,
        t,
        "/organizations/",
        &json!({"name": "globex"}),
    );
    let users = [
        ("admin_a", "admin", org_a, &[][..]),
        ("issuer_a", "user", org_a, &["can_create_cert"][..]),
        ("plain_a", "user", org_a, &[][..]),
        ("user_b", "user", org_b, &["can_create_ca"][..]),
    ];
    let ids: Vec<i64> = users
        .iter()
        .map(|(name, role, org, flags)| {
            create(
                &agent,
                base,
                t,
                "/users/",
                &user(name, role, Some(*org), flags),
            )
        })
        .collect();
    let admin_a_token = login(&agent, base, "admin_a");
    let issuer_a_token = login(&agent, base, "issuer_a");
    let user_b_token = login(&agent, base, "user_b");
    let ca_a1 = create(&agent, base, Some(&admin_a_token), "/cas/", &ca("ca-a1"));
    let ca_a2 = create(&agent, base, Some(&admin_a_token), "/cas/", &ca("ca-a2"));
    let ca_b = create(&agent, base, Some(&user_b_token), "/cas/", &ca("ca-b"));
    let certificate = json!({
        "common_name": "a.example.com", "certificate_type": "server", "key_type": "ec",
        "valid_days": 30, "san_dns_names": ["a.example.com"],
    });
    let cert_a = create(
        &agent,
        base,
        Some(&issuer_a_token),
        &format!("/certificates/?ca_id={ca_a1}"),
        &certificate,
    );
    World {
        root,
        admin_a: ids[0],
        issuer_a: ids[1],
        plain_a: ids[2],
        user_b: ids[3],
        org_a,
        org_b,
        ca_a1,
        ca_a2,
        ca_b,
        cert_a,
        root_token,
        admin_a_token,
        plain_a_token: login(&agent, base, "plain_a"),
    }
}

fn subject(id: i64) -> Subject {
    Subject {
        subject_type: "user".to_owned(),
        id: Some(id.to_string()),
        properties: None,
    }
}

fn any_user() -> Subject {
    Subject {
        subject_type: "user".to_owned(),
        id: None,
        properties: None,
    }
}

fn resource(kind: &str, id: Option<i64>) -> Resource {
    Resource {
        resource_type: kind.to_owned(),
        id: id.map(|id| id.to_string()),
        properties: None,
    }
}

fn action(name: &str) -> Action {
    Action {
        name: name.to_owned(),
        properties: None,
    }
}

fn page(token: Option<String>, limit: u32) -> Option<Page> {
    Some(Page {
        token,
        limit: Some(limit),
        properties: None,
    })
}

type Client = AuthZenClient<TlsTerminator>;

/// The client on the PDP `pdp`, the crate's asserts on the plain-HTTP address first.
async fn client(server: &Server, world: &World) -> (Client, String) {
    let inner = || ReqwestClient::new(Duration::from_secs(30)).expect("a reqwest client");
    // Plain HTTP as the PDP identifier: refused before any request is sent.
    let direct = AuthZenClient::new(inner(), Duration::from_secs(60));
    match direct.discover(&server.base).await {
        Err(Error::InvalidPdpUrl(why)) => assert!(why.contains("https"), "{why}"),
        other => panic!("discovery of an http PDP: {other:?}"),
    }
    // And nothing works without discovery.
    let question = evaluation(world.plain_a, "read", "ca", world.ca_a1);
    match direct
        .evaluate(&server.base, &world.root_token, &question)
        .await
    {
        Err(Error::NotCached(_)) => {}
        other => panic!("an evaluation before discovery: {other:?}"),
    }
    let upstream = server.base.clone();
    let pdp = upstream.replacen("http://", "https://", 1);
    let http = TlsTerminator {
        inner: inner(),
        public: pdp.clone(),
        upstream,
    };
    let client = AuthZenClient::new(http, Duration::from_secs(60));
    let metadata = client.discover(&pdp).await.expect("discovery");
    assert_eq!(metadata.policy_decision_point, pdp);
    assert_eq!(
        metadata.search_resource_endpoint.as_deref(),
        Some(format!("{pdp}/access/v1/search/resource").as_str())
    );
    assert!(metadata.search_subject_endpoint.is_some());
    assert!(metadata.search_action_endpoint.is_some());
    (client, pdp)
}

fn evaluation(who: i64, name: &str, kind: &str, id: i64) -> EvaluationRequest {
    EvaluationRequest {
        subject: subject(who),
        action: action(name),
        resource: resource(kind, Some(id)),
        context: None,
    }
}

/// Follows a resource search page by page; the ids found and the number of pages.
async fn resources(
    (client, pdp, token): (&Client, &str, &str),
    who: i64,
    name: &str,
    kind: &str,
    limit: u32,
) -> Result<(Vec<i64>, usize), Error> {
    let mut request = ResourceSearchRequest {
        subject: subject(who),
        action: action(name),
        resource: resource(kind, None),
        context: None,
        page: page(None, limit),
    };
    let mut found = Vec::new();
    for pages in 1..=50 {
        let reply = client.search_resources(pdp, token, &request).await?;
        assert!(reply.results.len() <= limit as usize);
        for result in reply.results {
            assert_eq!(result.resource_type, kind);
            found.push(result.id.expect("an id").parse::<i64>().expect("digits"));
        }
        let next = reply.page.and_then(|page| page.next_token);
        match next {
            Some(next) if !next.is_empty() => request.page = page(Some(next), limit),
            _ => return Ok((found, pages)),
        }
    }
    panic!("more than 50 pages");
}

/// Follows a subject search page by page; the user ids found.
async fn subjects(
    (client, pdp, token): (&Client, &str, &str),
    name: &str,
    kind: &str,
    id: i64,
    limit: u32,
) -> Result<Vec<i64>, Error> {
    let mut request = SubjectSearchRequest {
        subject: any_user(),
        action: action(name),
        resource: resource(kind, Some(id)),
        context: None,
        page: page(None, limit),
    };
    let mut found = Vec::new();
    for _ in 0..50 {
        let reply = client.search_subjects(pdp, token, &request).await?;
        for result in reply.results {
            assert_eq!(result.subject_type, "user");
            found.push(result.id.expect("an id").parse::<i64>().expect("digits"));
        }
        match reply.page.and_then(|page| page.next_token) {
            Some(next) if !next.is_empty() => request.page = page(Some(next), limit),
            _ => return Ok(found),
        }
    }
    panic!("more than 50 pages");
}

/// Follows an action search page by page; the names found and the number of pages.
async fn actions(
    (client, pdp, token): (&Client, &str, &str),
    who: i64,
    kind: &str,
    id: i64,
    limit: u32,
) -> (Vec<String>, usize) {
    let mut request = ActionSearchRequest {
        subject: subject(who),
        resource: resource(kind, Some(id)),
        context: None,
        page: page(None, limit),
    };
    let mut found = Vec::new();
    for pages in 1..=50 {
        let reply = client.search_actions(pdp, token, &request).await;
        let reply = reply.expect("action search");
        found.extend(reply.results.into_iter().map(|action| action.name));
        match reply.page.and_then(|page| page.next_token) {
            Some(next) if !next.is_empty() => request.page = page(Some(next), limit),
            _ => return (found, pages),
        }
    }
    panic!("more than 50 pages");
}

fn status(error: Error) -> u16 {
    match error {
        Error::HttpStatus { status, .. } => status,
        other => panic!("expected an HTTP status, got {other:?}"),
    }
}

async fn drive(server: &Server, w: &World) {
    let (client, pdp) = client(server, w).await;
    let root = (&client, pdp.as_str(), w.root_token.as_str());
    let admin_a = (&client, pdp.as_str(), w.admin_a_token.as_str());
    let plain_a = (&client, pdp.as_str(), w.plain_a_token.as_str());
    let every_flag: Vec<String> = std::iter::once("read")
        .chain(flag_names())
        .map(str::to_owned)
        .collect();

    // One evaluation.
    let ask = async |who, name, kind, id| {
        let question = evaluation(who, name, kind, id);
        let answer = client.evaluate(&pdp, &w.root_token, &question).await;
        answer.expect("evaluation")
    };
    let yes = ask(w.plain_a, "read", "ca", w.ca_a1).await;
    assert!(yes.decision, "a member reads its organization's CA");
    assert!(
        yes.context.is_some(),
        "the decision says which rule decided"
    );
    assert!(!ask(w.plain_a, "read", "ca", w.ca_b).await.decision);
    assert!(
        !ask(w.plain_a, "can_create_cert", "ca", w.ca_a1)
            .await
            .decision
    );
    assert!(
        ask(w.issuer_a, "can_create_cert", "ca", w.ca_a1)
            .await
            .decision
    );
    assert!(ask(w.user_b, "can_delete_ca", "ca", w.ca_b).await.decision);
    assert!(
        ask(w.root, "update", "organization", w.org_b)
            .await
            .decision
    );
    assert!(
        !ask(w.plain_a, "update", "organization", w.org_a)
            .await
            .decision
    );
    // A subject the caller may not view: a deny that says why, not an error.
    let hidden = evaluation(w.user_b, "read", "ca", w.ca_b);
    let hidden = client.evaluate(&pdp, &w.admin_a_token, &hidden).await;
    let hidden = hidden.expect("evaluation");
    assert!(!hidden.decision && hidden.context.is_some(), "{hidden:?}");

    // A batch with top-level defaults, in request order; then one that stops early.
    let item = |name: &str, kind: &str, id: i64| EvaluationItem {
        subject: None,
        action: Some(action(name)),
        resource: Some(resource(kind, Some(id))),
        context: None,
    };
    let mut batch = EvaluationsRequest {
        subject: Some(subject(w.issuer_a)),
        action: None,
        resource: None,
        context: None,
        evaluations: vec![
            item("read", "ca", w.ca_a1),
            item("can_create_cert", "ca", w.ca_a2),
            item("can_delete_ca", "ca", w.ca_a1),
            item("read", "certificate", w.cert_a),
            item("can_revoke_cert", "certificate", w.cert_a),
            item("read", "ca", w.ca_b),
            item("list_members", "organization", w.org_a),
        ],
        options: None,
    };
    let answers = client.evaluate_batch(&pdp, &w.root_token, &batch).await;
    let decisions: Vec<bool> = answers
        .expect("evaluations")
        .evaluations
        .iter()
        .map(|answer| answer.decision)
        .collect();
    // issuer_a revokes the certificate it issued (the creator rule), not CA deletion.
    assert_eq!(decisions, [true, true, false, true, true, false, true]);
    batch.options = Some(EvaluationsOptions {
        evaluations_semantic: Some(EvaluationSemantic::DenyOnFirstDeny),
        extra: None,
    });
    let stopped = client.evaluate_batch(&pdp, &w.root_token, &batch).await;
    let stopped = stopped.expect("evaluations").evaluations;
    assert_eq!(stopped.len(), 3, "stops at the first deny: {stopped:?}");
    // A batch without entries is one evaluation (AuthZEN §7); the crate cannot read its answer.
    let single = EvaluationsRequest {
        subject: Some(subject(w.plain_a)),
        action: Some(action("read")),
        resource: Some(resource("ca", Some(w.ca_a1))),
        context: None,
        evaluations: Vec::new(),
        options: None,
    };
    match client.evaluate_batch(&pdp, &w.root_token, &single).await {
        Err(Error::InvalidResponse(why)) => {
            assert!(why.to_string().contains("evaluations"), "{why}")
        }
        other => panic!("a batch without entries: {other:?}"),
    }

    // Resource search, one result a page: every page full until the last, which is empty.
    let (cas, pages) = resources(root, w.plain_a, "read", "ca", 1)
        .await
        .expect("search");
    assert_eq!((cas, pages), (vec![w.ca_a1, w.ca_a2], 3));
    let (cas, pages) = resources(root, w.plain_a, "read", "ca", 100)
        .await
        .expect("search");
    assert_eq!((cas, pages), (vec![w.ca_a1, w.ca_a2], 1));
    let issue = resources(root, w.issuer_a, "can_create_cert", "ca", 2).await;
    assert_eq!(issue.expect("search").0, [w.ca_a1, w.ca_a2]);
    let plain = resources(root, w.plain_a, "can_create_cert", "ca", 2).await;
    assert_eq!(plain.expect("search").0, Vec::<i64>::new());
    let b = resources(root, w.user_b, "can_delete_ca", "ca", 2).await;
    assert_eq!(b.expect("search").0, [w.ca_b], "the creator's own CA");
    let certs = resources(root, w.issuer_a, "can_revoke_cert", "certificate", 5).await;
    assert_eq!(certs.expect("search").0, [w.cert_a]);
    let orgs = resources(root, w.root, "read", "organization", 1).await;
    assert_eq!(orgs.expect("search").0, [w.org_a, w.org_b]);
    let orgs = resources(root, w.plain_a, "read", "organization", 1).await;
    assert_eq!(orgs.expect("search").0, [w.org_a]);
    // The caller's limits: admin_a may not ask about a user of organization B.
    let refused = resources(admin_a, w.user_b, "read", "ca", 10).await;
    assert_eq!(status(refused.expect_err("hidden subject")), 403);
    // Bad input: a limit of 0 is 422.
    let zero = resources(root, w.plain_a, "read", "ca", 0).await;
    assert_eq!(status(zero.expect_err("limit 0")), 422);

    // Subject search, two users a page.
    let readers = subjects(root, "read", "ca", w.ca_a1, 2)
        .await
        .expect("search");
    let members_a = vec![w.root, w.admin_a, w.issuer_a, w.plain_a];
    assert_eq!(readers, members_a);
    let issuers = subjects(root, "can_create_cert", "ca", w.ca_a1, 2).await;
    assert_eq!(issuers.expect("search"), [w.root, w.admin_a, w.issuer_a]);
    let deleters = subjects(root, "can_delete_ca", "ca", w.ca_b, 1).await;
    assert_eq!(deleters.expect("search"), [w.root, w.user_b]);
    // admin_a sees only the users it may view among them.
    let seen = subjects(admin_a, "read", "ca", w.ca_a1, 3)
        .await
        .expect("search");
    assert_eq!(
        seen,
        [w.admin_a, w.issuer_a, w.plain_a],
        "not the superuser"
    );
    // plain_a may not read organization B's CA: it may not ask who may.
    let refused = subjects(plain_a, "read", "ca", w.ca_b, 10).await;
    assert_eq!(status(refused.expect_err("hidden resource")), 403);

    // Action search, two names a page, compared with the names above.
    let (names, _) = actions(root, w.plain_a, "ca", w.ca_a1, 2).await;
    assert_eq!(names, ["read"]);
    let (names, _) = actions(root, w.issuer_a, "ca", w.ca_a1, 2).await;
    assert_eq!(names, ["read", "can_create_cert"]);
    let (names, pages) = actions(root, w.admin_a, "ca", w.ca_a1, 2).await;
    assert_eq!(
        (names, pages),
        (every_flag.clone(), every_flag.len().div_ceil(2))
    );
    let (names, _) = actions(root, w.user_b, "ca", w.ca_b, 100).await;
    assert_eq!(names, every_flag, "the creator may do everything to its CA");
    // On an organization: exactly what the evaluations of every name allow.
    let (names, _) = actions(root, w.plain_a, "organization", w.org_a, 2).await;
    let org_actions = [
        "read",
        "update",
        "delete",
        "list_members",
        "manage_members",
        "read_audit_log",
    ];
    let mut allowed = Vec::new();
    for name in org_actions {
        if ask(w.plain_a, name, "organization", w.org_a).await.decision {
            allowed.push(name.to_owned());
        }
    }
    assert!(allowed.contains(&"read".to_owned()), "{allowed:?}");
    assert_eq!(names, allowed);
}

fn run(dir: &Path, database_url: Option<&str>) {
    let server = start(dir, database_url);
    let world = seed(&server.base);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(drive(&server, &world));
    drop(server);
}

#[test]
fn sqlite() {
    let dir = tempfile::tempdir().expect("temporary directory");
    run(dir.path(), None);
}

#[test]
fn postgres() {
    let Some(backend) = Backend::postgres() else {
        return;
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let db: Database = runtime.block_on(Database::fresh(&backend));
    let dir = tempfile::tempdir().expect("temporary directory");
    run(dir.path(), Some(&db.url));
    drop(db);
}
