//! The four measured scenarios and the clients that run them.
//!
//! Each client `c` acts for organization `c mod 100`: as its plain member `user-{o}-1` for
//! reads, and as its admin `admin-{o}` for writes. Add-member walks the client's own pool of
//! users seeded in no organization (`spare-{c}-*`); after one pass they are members of the
//! admin's organization, and adding them again is the same write (an UPDATE of the user and
//! an audit entry in one transaction) that an admin may make for its own members. The write
//! mix walks the same pool three requests per user: add it, PATCH its flags, remove it.

use std::{
    collections::HashMap,
    thread,
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{
    client::{Client, Method, Outcome},
    stats::{Summary, summarise},
    world,
};

/// One measured scenario.
#[derive(Debug, Clone, Copy)]
pub enum Scenario {
    /// `GET /organizations/{id}` as a member.
    GetOrganization,
    /// `GET /organizations/{id}/users` (one page of 20) as a member.
    ListMembers,
    /// `POST /organizations/{id}/users/{user_id}` as the organization's admin.
    AddMember,
    /// Out of every ten requests: five reads of the organization, four pages of members,
    /// one add-member.
    Mix,
    /// Writes only, as the organization's admin, in turn: add a user, PATCH its capability
    /// flags, remove it (`DELETE /organizations/{id}/users/{user_id}`).
    WriteMix,
}

impl Scenario {
    /// Every scenario, in the order they run.
    pub const ALL: [Scenario; 5] = [
        Scenario::GetOrganization,
        Scenario::ListMembers,
        Scenario::AddMember,
        Scenario::Mix,
        Scenario::WriteMix,
    ];

    /// Its name for `--only`.
    pub fn key(self) -> &'static str {
        match self {
            Scenario::GetOrganization => "get-organization",
            Scenario::ListMembers => "list-members",
            Scenario::AddMember => "add-member",
            Scenario::Mix => "mix",
            Scenario::WriteMix => "write-mix",
        }
    }

    /// How the report names it.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::GetOrganization => "GET one organization (member)",
            Scenario::ListMembers => "GET one page of members (20)",
            Scenario::AddMember => "POST add-member (admin)",
            Scenario::Mix => "90/10 read/write mix",
            Scenario::WriteMix => "write mix: add, PATCH flags, remove (admin)",
        }
    }

    /// The `k`-th request of `plan`: its method, its path, its bearer header.
    fn request(self, plan: &Plan, k: usize) -> (Method, String, &str) {
        match self {
            Scenario::GetOrganization => (
                Method::Get,
                format!("/organizations/{}", plan.organization),
                &plan.member,
            ),
            Scenario::ListMembers => (
                Method::Get,
                format!("/organizations/{}/users?limit=20", plan.organization),
                &plan.member,
            ),
            Scenario::AddMember => (
                Method::Post,
                format!(
                    "/organizations/{}/users/{}",
                    plan.organization,
                    plan.spare(k)
                ),
                &plan.admin,
            ),
            Scenario::Mix => match k % 10 {
                9 => Scenario::AddMember.request(plan, k / 10),
                r if r % 2 == 0 => Scenario::GetOrganization.request(plan, k),
                _ => Scenario::ListMembers.request(plan, k),
            },
            Scenario::WriteMix => {
                let user = plan.spare(k / 3);
                match k % 3 {
                    0 => Scenario::AddMember.request(plan, k / 3),
                    1 => (
                        Method::Patch(if (k / 3).is_multiple_of(2) {
                            r#"{"can_create_cert": true}"#
                        } else {
                            r#"{"can_create_cert": false}"#
                        }),
                        format!("/users/{user}"),
                        &plan.admin,
                    ),
                    _ => (
                        Method::Delete,
                        format!("/organizations/{}/users/{user}", plan.organization),
                        &plan.admin,
                    ),
                }
            }
        }
    }
}

/// What one client needs: its organization, two bearer headers, its spare users.
pub struct Plan {
    organization: i64,
    member: String,
    admin: String,
    spares: Vec<i64>,
}

impl Plan {
    /// The `k`-th user of the spare pool, round and round.
    fn spare(&self, k: usize) -> i64 {
        self.spares
            .get(k % self.spares.len().max(1))
            .copied()
            .unwrap_or(0)
    }
}

/// Logs every actor in once (argon2 is slow by design; tokens are reused) and finds the ids.
pub fn plans(base: &str, clients: usize) -> Result<Vec<Plan>, String> {
    let client = Client::new(base);
    let root = client.login(world::ROOT, world::PASSWORD)?;
    let users = all_users(&client, &root)?;
    let lookup = |name: &str| {
        users
            .get(name)
            .copied()
            .ok_or_else(|| format!("user {name} was not seeded"))
    };
    let mut plans = Vec::with_capacity(clients);
    for c in 0..clients {
        let o = c % world::ORGANIZATIONS;
        let (_, organization) = lookup(&world::admin(o))?;
        let spares = (0..world::SPARES_PER_CLIENT)
            .map(|i| lookup(&world::spare(c, i)).map(|(id, _)| id))
            .collect::<Result<Vec<_>, _>>()?;
        plans.push(Plan {
            organization: organization.ok_or("an admin has no organization")?,
            member: bearer(&client.login(&world::member(o, 1), world::PASSWORD)?),
            admin: bearer(&client.login(&world::admin(o), world::PASSWORD)?),
            spares,
        });
    }
    Ok(plans)
}

/// Prints what wrk needs to read as the first organization's plain member: its
/// organization's id and a fresh access token.
pub fn wrk_target(base: &str) -> Result<(), String> {
    let client = Client::new(base);
    let root = client.login(world::ROOT, world::PASSWORD)?;
    let users = all_users(&client, &root)?;
    let (_, organization) = users
        .get(&world::admin(0))
        .copied()
        .ok_or("the first organization's admin was not seeded")?;
    let organization = organization.ok_or("an admin has no organization")?;
    let token = client.login(&world::member(0, 1), world::PASSWORD)?;
    println!("ORGANIZATION={organization}");
    println!("TOKEN={token}");
    Ok(())
}

/// Plans for the ceiling server: organization 1, no real token (it reads none), no spares.
pub fn anonymous(clients: usize) -> Vec<Plan> {
    (0..clients)
        .map(|_| Plan {
            organization: 1,
            member: bearer("none"),
            admin: bearer("none"),
            spares: Vec::new(),
        })
        .collect()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// Every user's id and organization by username (`GET /users/`, as the superuser).
fn all_users(client: &Client, root: &str) -> Result<HashMap<String, (i64, Option<i64>)>, String> {
    let mut users = HashMap::new();
    loop {
        let path = format!("/users/?skip={}&limit=1000", users.len());
        let page = client.get_json(&path, root)?;
        let rows = page.as_array().ok_or("the user list is not an array")?;
        for row in rows {
            let name = row.get("username").and_then(Value::as_str);
            let id = row.get("id").and_then(Value::as_i64);
            let org = row.get("organization_id").and_then(Value::as_i64);
            if let (Some(name), Some(id)) = (name, id) {
                users.insert(name.to_owned(), (id, org));
            }
        }
        if rows.len() < 1000 {
            return Ok(users);
        }
    }
}

/// Runs `scenario` on every plan's client at once (one thread and one connection each):
/// `warmup` unrecorded, then the requests started within `window`.
pub fn run(
    base: &str,
    plans: &[Plan],
    scenario: Scenario,
    warmup: Duration,
    window: Duration,
) -> Summary {
    let start = Instant::now();
    let recording = start + warmup;
    let end = recording + window;
    let outcomes: Vec<Outcome> = thread::scope(|scope| {
        let workers: Vec<_> = plans
            .iter()
            .map(|plan| scope.spawn(move || drive(base, plan, scenario, recording, end)))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap_or_default())
            .collect()
    });
    summarise(outcomes, window)
}

/// One client's loop; the outcomes of the requests it started between `recording` and `end`.
fn drive(
    base: &str,
    plan: &Plan,
    scenario: Scenario,
    recording: Instant,
    end: Instant,
) -> Vec<Outcome> {
    let client = Client::new(base);
    let mut outcomes = Vec::new();
    let mut k = 0;
    loop {
        let started = Instant::now();
        if started >= end {
            return outcomes;
        }
        let (method, path, bearer) = scenario.request(plan, k);
        let outcome = client.timed(method, &path, bearer);
        if started >= recording {
            outcomes.push(outcome);
        }
        k += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> Plan {
        Plan {
            organization: 7,
            member: "Bearer member".to_owned(),
            admin: "Bearer admin".to_owned(),
            spares: vec![101, 102, 103],
        }
    }

    #[test]
    fn the_mix_is_nine_reads_as_a_member_to_one_write_as_the_admin() {
        let plan = plan();
        let requests: Vec<_> = (0..1000).map(|k| Scenario::Mix.request(&plan, k)).collect();
        let writes: Vec<_> = requests
            .iter()
            .filter(|(method, _, _)| *method == Method::Post)
            .collect();
        assert_eq!(writes.len(), 100);
        assert!(
            writes
                .iter()
                .all(|(_, _, bearer)| *bearer == "Bearer admin")
        );
        assert!(
            requests
                .iter()
                .filter(|(method, _, _)| *method == Method::Get)
                .all(|(_, _, bearer)| *bearer == "Bearer member")
        );
        let pages = requests
            .iter()
            .filter(|(_, path, _)| path.ends_with("?limit=20"));
        assert_eq!(pages.count(), 400);
    }

    #[test]
    fn add_member_walks_the_spare_pool() {
        let plan = plan();
        let paths: Vec<String> = (0..4)
            .map(|k| Scenario::AddMember.request(&plan, k).1)
            .collect();
        assert_eq!(
            paths,
            [
                "/organizations/7/users/101",
                "/organizations/7/users/102",
                "/organizations/7/users/103",
                "/organizations/7/users/101",
            ]
        );
    }

    #[test]
    fn the_write_mix_adds_patches_and_removes_each_spare_in_turn() {
        let plan = plan();
        let requests: Vec<_> = (0..7)
            .map(|k| {
                let (method, path, bearer) = Scenario::WriteMix.request(&plan, k);
                assert_eq!(bearer, "Bearer admin");
                (method, path)
            })
            .collect();
        let flags = |on: bool| {
            Method::Patch(if on {
                r#"{"can_create_cert": true}"#
            } else {
                r#"{"can_create_cert": false}"#
            })
        };
        assert_eq!(
            requests,
            [
                (Method::Post, "/organizations/7/users/101".to_owned()),
                (flags(true), "/users/101".to_owned()),
                (Method::Delete, "/organizations/7/users/101".to_owned()),
                (Method::Post, "/organizations/7/users/102".to_owned()),
                (flags(false), "/users/102".to_owned()),
                (Method::Delete, "/organizations/7/users/102".to_owned()),
                (Method::Post, "/organizations/7/users/103".to_owned()),
            ]
        );
    }
}
