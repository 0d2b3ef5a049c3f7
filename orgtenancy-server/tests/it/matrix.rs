//! The permission tables of SPEC §4, §5 and §6 as data: one row per endpoint and situation,
//! one expected status per role, one checker.
//!
//! Columns are the active roles in [`Who::ACTIVE`] order; every row is also sent by the
//! four unauthenticated callers (deactivated user, no token, expired token, tampered token),
//! which must always get 401. Placeholders in paths and bodies are filled per request;
//! `{fresh_*}` ones create a new target first, so rows that change state can be sent by
//! every role without disturbing the others.

use poem::http::Method;
use serde_json::Value;

use crate::support::{Backend, Body, MISSING, Who, World, api, unique, user_body};

/// One situation: a request and the status each active role gets.
struct Row {
    name: &'static str,
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    /// superuser, admin A, admin B, user A, user B, loner, admin with no organization.
    expect: [u16; 7],
}

const fn row(
    expect: [u16; 7],
    method: Method,
    path: &'static str,
    body: Option<&'static str>,
    name: &'static str,
) -> Row {
    Row {
        name,
        method,
        path,
        body,
        expect,
    }
}

const GET: Method = Method::GET;
const POST: Method = Method::POST;
const PUT: Method = Method::PUT;
const PATCH: Method = Method::PATCH;
const DELETE: Method = Method::DELETE;

/// SPEC §4.
#[rustfmt::skip]
fn organization_rows() -> Vec<Row> {
    vec![
        //   su   adA  adB  usA  usB  lone adNo
        row([201, 201, 201, 403, 403, 403, 201], POST,   "/organizations/", Some(r#"{"name": "org-{n}"}"#), "create organization"),
        row([201, 201, 201, 403, 403, 403, 201], POST,   "/organizations", Some(r#"{"name": "org-{n}"}"#), "create organization, no slash"),
        row([200, 200, 200, 200, 200, 200, 200], GET,    "/organizations/", None, "list organizations"),
        row([200, 200, 200, 200, 200, 200, 200], GET,    "/organizations", None, "list organizations, no slash"),
        row([200, 200, 403, 200, 403, 403, 403], GET,    "/organizations/{org_a}", None, "view organization A"),
        row([404, 403, 403, 403, 403, 403, 403], GET,    "/organizations/{missing}", None, "view a missing organization"),
        row([200, 200, 403, 403, 403, 403, 403], PUT,    "/organizations/{org_a}", Some(r#"{"description": "d{n}"}"#), "update organization A"),
        row([404, 403, 403, 403, 403, 403, 403], PUT,    "/organizations/{missing}", Some(r#"{"description": "x"}"#), "update a missing organization"),
        row([204, 403, 403, 403, 403, 403, 403], DELETE, "/organizations/{fresh_org}", None, "delete an empty organization"),
        row([409, 403, 403, 403, 403, 403, 403], DELETE, "/organizations/{org_a}", None, "delete organization A (has members)"),
        row([404, 403, 403, 403, 403, 403, 403], DELETE, "/organizations/{missing}", None, "delete a missing organization"),
        row([200, 200, 403, 403, 403, 403, 403], POST,   "/organizations/{org_a}/users/{fresh_user}", None, "add an organization-less user to A"),
        row([200, 403, 403, 403, 403, 403, 403], POST,   "/organizations/{org_a}/users/{fresh_member_b}", None, "add a member of B to A"),
        row([200, 200, 403, 403, 403, 403, 403], POST,   "/organizations/{org_a}/users/{fresh_member_a}", None, "add a member of A to A again"),
        row([200, 403, 403, 403, 403, 403, 403], POST,   "/organizations/{org_a}/users/{root}", None, "add the superuser to A"),
        // An admin gets the answer of any user it may not add (issue 11 item 5: no oracle).
        row([404, 403, 403, 403, 403, 403, 403], POST,   "/organizations/{org_a}/users/{missing}", None, "add a missing user to A"),
        row([404, 403, 403, 403, 403, 403, 403], POST,   "/organizations/{missing}/users/{fresh_user}", None, "add a user to a missing organization"),
        row([200, 200, 403, 403, 403, 403, 403], DELETE, "/organizations/{org_a}/users/{fresh_member_a}", None, "remove a member of A from A"),
        row([404, 404, 403, 403, 403, 403, 403], DELETE, "/organizations/{org_a}/users/{fresh_member_b}", None, "remove a member of B from A"),
        row([404, 404, 403, 403, 403, 403, 403], DELETE, "/organizations/{org_a}/users/{fresh_user}", None, "remove an organization-less user from A"),
        row([404, 404, 403, 403, 403, 403, 403], DELETE, "/organizations/{org_a}/users/{missing}", None, "remove a missing user from A"),
        row([200, 200, 403, 200, 403, 403, 403], GET,    "/organizations/{org_a}/users", None, "list members of A"),
        row([200, 200, 403, 200, 403, 403, 403], GET,    "/organizations/{org_a}/users/", None, "list members of A, slash"),
        row([404, 403, 403, 403, 403, 403, 403], GET,    "/organizations/{missing}/users", None, "list members of a missing organization"),
    ]
}

/// SPEC §5.
#[rustfmt::skip]
fn user_rows() -> Vec<Row> {
    vec![
        //   su   adA  adB  usA  usB  lone adNo
        row([201, 201, 201, 403, 403, 403, 201], POST,   "/users/", Some(r#"{"user": "u{n}"}"#), "create a plain user in no organization"),
        row([201, 201, 403, 403, 403, 403, 403], POST,   "/users", Some(r#"{"user": "u{n}", "org": "{org_a}"}"#), "create a plain user in A"),
        row([404, 403, 403, 403, 403, 403, 403], POST,   "/users/", Some(r#"{"user": "u{n}", "org": "{missing}"}"#), "create a user in a missing organization"),
        row([201, 403, 403, 403, 403, 403, 403], POST,   "/users/", Some(r#"{"user": "u{n}", "role": "admin"}"#), "create an admin"),
        row([201, 403, 403, 403, 403, 403, 403], POST,   "/users/", Some(r#"{"user": "u{n}", "role": "admin", "org": "{org_a}"}"#), "create an admin in A"),
        row([201, 403, 403, 403, 403, 403, 403], POST,   "/users/", Some(r#"{"user": "u{n}", "role": "superuser"}"#), "create a superuser"),
        row([201, 201, 403, 403, 403, 403, 403], POST,   "/users/", Some(r#"{"user": "u{n}", "org": "{org_a}", "flag": true}"#), "create a user with a flag in A"),
        row([200, 403, 403, 403, 403, 403, 403], GET,    "/users/", None, "list users"),
        row([200, 403, 403, 403, 403, 403, 403], GET,    "/users", None, "list users, no slash"),
        row([200, 200, 200, 200, 200, 200, 200], GET,    "/users/me", None, "read me"),
        row([200, 200, 403, 200, 403, 403, 403], GET,    "/users/{user_a}", None, "read user A"),
        row([200, 200, 403, 403, 403, 403, 403], GET,    "/users/{admin_a}", None, "read admin A"),
        row([200, 403, 403, 403, 403, 403, 403], GET,    "/users/{root}", None, "read the superuser"),
        row([404, 403, 403, 403, 403, 403, 403], GET,    "/users/{missing}", None, "read a missing user"),
        row([200, 200, 403, 200, 403, 403, 403], PATCH,  "/users/{user_a}", Some(r#"{"email": "a{n}@example.com"}"#), "change user A's email"),
        row([200, 200, 403, 403, 403, 403, 403], PATCH,  "/users/{fresh_member_a}", Some(r#"{"can_create_ca": true}"#), "change a member of A's flags"),
        row([200, 403, 403, 403, 403, 403, 403], PATCH,  "/users/{fresh_member_a}", Some(r#"{"role": "admin"}"#), "change a member of A's role"),
        row([200, 403, 403, 403, 403, 403, 403], PATCH,  "/users/{fresh_member_a}", Some(r#"{"is_active": false}"#), "deactivate a member of A"),
        row([200, 403, 403, 403, 403, 403, 403], PATCH,  "/users/{fresh_member_a}", Some(r#"{"organization_id": null}"#), "take a member of A out of it"),
        row([404, 403, 403, 403, 403, 403, 403], PATCH,  "/users/{fresh_member_a}", Some(r#"{"organization_id": {missing}}"#), "move a member of A to a missing organization"),
        row([200, 403, 403, 403, 403, 403, 403], PATCH,  "/users/{root}", Some(r#"{"email": "r{n}@example.com"}"#), "change the superuser's email"),
        row([200, 403, 200, 403, 403, 403, 403], PATCH,  "/users/{fresh_member_b}", Some(r#"{"email": "b{n}@example.com"}"#), "change a member of B's email"),
        row([404, 403, 403, 403, 403, 403, 403], PATCH,  "/users/{missing}", Some(r#"{"email": "m{n}@example.com"}"#), "change a missing user"),
        row([204, 403, 403, 403, 403, 403, 403], DELETE, "/users/{fresh_member_a}", None, "delete a user"),
        row([404, 403, 403, 403, 403, 403, 403], DELETE, "/users/{missing}", None, "delete a missing user"),
        row([403, 403, 403, 403, 403, 403, 403], DELETE, "/users/{root}", None, "delete oneself (superuser)"),
    ]
}

/// SPEC §6.
#[rustfmt::skip]
fn audit_rows() -> Vec<Row> {
    vec![
        //   su   adA  adB  usA  usB  lone adNo
        row([200, 200, 200, 403, 403, 403, 200], GET,    "/audit-logs/", None, "read the audit log"),
        row([200, 200, 200, 403, 403, 403, 200], GET,    "/audit-logs", None, "read the audit log, no slash"),
        row([200, 200, 200, 403, 403, 403, 200], GET,    "/audit-logs/?action=org_create&limit=5", None, "read the audit log, filtered"),
    ]
}

/// Fills the placeholders of `template`, creating `{fresh_*}` targets as the superuser.
async fn render(world: &World, template: &str) -> String {
    let n = unique();
    let h = &world.h;
    let mut text = template
        .replace("{n}", &n.to_string())
        .replace("{org_a}", &world.org_a.to_string())
        .replace("{org_b}", &world.org_b.to_string())
        .replace("{missing}", &MISSING.to_string())
        .replace("{root}", &world.id(Who::Superuser).to_string())
        .replace("{admin_a}", &world.id(Who::AdminA).to_string())
        .replace("{user_a}", &world.id(Who::UserA).to_string());
    if text.contains("{fresh_org}") {
        let id = h.create_org(world.root(), &format!("fresh-org-{n}")).await;
        text = text.replace("{fresh_org}", &id.to_string());
    }
    for (placeholder, org) in [
        ("{fresh_user}", None),
        ("{fresh_member_a}", Some(world.org_a)),
        ("{fresh_member_b}", Some(world.org_b)),
    ] {
        if text.contains(placeholder) {
            let id = h
                .create_user(Some(world.root()), &format!("fresh{n}"), "user", org)
                .await;
            text = text.replace(placeholder, &id.to_string());
        }
    }
    text
}

/// The JSON body of a row: user rows use a shorthand (`user`, `role`, `org`, `flag`).
fn body(rendered: Option<String>) -> Body {
    let Some(text) = rendered else {
        return Body::None;
    };
    let value: Value = serde_json::from_str(&text).expect("row bodies are JSON");
    match value.get("user").and_then(Value::as_str) {
        Some(username) => {
            let role = value.get("role").and_then(Value::as_str).unwrap_or("user");
            let org = value
                .get("org")
                .and_then(Value::as_str)
                .and_then(|org| org.parse().ok());
            let mut user = user_body(username, role, org);
            if value.get("flag").is_some() {
                user["can_create_cert"] = Value::Bool(true);
            }
            Body::Json(user)
        }
        None => Body::Json(value),
    }
}

/// Sends every row as every caller and collects the mismatches.
async fn check(backend: &Backend, rows: Vec<Row>) {
    let world = World::new(backend).await;
    let mut failures = Vec::new();
    for row in &rows {
        let callers = Who::ACTIVE
            .iter()
            .zip(row.expect)
            .chain(Who::UNAUTHENTICATED.iter().map(|who| (who, 401)));
        for (who, expected) in callers {
            let path = render(&world, row.path).await;
            let rendered = match row.body {
                Some(template) => Some(render(&world, template).await),
                None => None,
            };
            let reply = world
                .h
                .send(
                    row.method.clone(),
                    &api(&path),
                    world.token(*who),
                    body(rendered),
                )
                .await;
            if reply.code() != expected {
                failures.push(format!(
                    "{} as {who:?}: {} {path}: expected {expected}, got {} {}",
                    row.name,
                    row.method,
                    reply.code(),
                    reply.text
                ));
            } else if expected >= 400 {
                reply.assert_error_shape();
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

async fn organization_matrix(backend: Backend) {
    check(&backend, organization_rows()).await;
}

async fn user_matrix(backend: Backend) {
    check(&backend, user_rows()).await;
}

async fn audit_matrix(backend: Backend) {
    check(&backend, audit_rows()).await;
}

on_both_backends!(organization_matrix, user_matrix, audit_matrix);
