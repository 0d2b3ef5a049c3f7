//! The race: every client on its own thread, released together, each sending a bounded
//! number of requests chosen by its own seeded generator, and logging what it saw.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Barrier,
};

use serde_json::{Value, json};

use super::{
    client::{Answer, Http},
    world::{Actor, Part, World},
};

/// A value one client alone writes: the last one acknowledged, and those sent afterwards
/// whose outcome is unknown (a 503 or a lost connection).
#[derive(Debug, Clone)]
pub(crate) struct Field {
    /// The last acknowledged value (the initial value before any).
    pub(crate) acked: Value,
    /// Values sent after it without a clear answer.
    pub(crate) pending: Vec<Value>,
}

/// What one client saw.
#[derive(Debug, Default)]
pub(crate) struct Log {
    /// Requests sent.
    pub(crate) ops: usize,
    /// Responses by status code.
    pub(crate) statuses: BTreeMap<u16, usize>,
    /// 2xx responses by the audit action the change records.
    pub(crate) acks: BTreeMap<&'static str, usize>,
    /// 5xx responses other than 503 with `Retry-After`, and transport errors.
    pub(crate) failures: Vec<String>,
    /// The single-writer values: (user id, field) → what was written.
    pub(crate) fields: HashMap<(i64, &'static str), Field>,
    /// Organizations this client deleted (204).
    pub(crate) deleted: Vec<i64>,
}

impl Log {
    fn record(
        &mut self,
        what: &str,
        action: &'static str,
        answer: Result<Answer, ureq::Error>,
    ) -> Option<Answer> {
        self.ops += 1;
        let answer = match answer {
            Ok(answer) => answer,
            Err(error) => {
                self.failures
                    .push(format!("{what}: transport error {error}"));
                return None;
            }
        };
        *self.statuses.entry(answer.status).or_default() += 1;
        if answer.ok() {
            *self.acks.entry(action).or_default() += 1;
        }
        if answer.status >= 500 && !(answer.status == 503 && answer.retry_after) {
            self.failures
                .push(format!("{what}: {} {}", answer.status, answer.json));
        }
        Some(answer)
    }

    fn write_field(
        &mut self,
        http: &Http,
        user: i64,
        name: &'static str,
        value: Value,
        initial: Value,
    ) {
        let answer = http.send(
            "PATCH",
            &format!("/users/{user}"),
            Some(&json!({ name: value })),
        );
        let answer = self.record(&format!("PATCH user {user} {name}"), "user_update", answer);
        let field = self.fields.entry((user, name)).or_insert(Field {
            acked: initial,
            pending: Vec::new(),
        });
        match answer {
            Some(answer) if answer.ok() => {
                field.acked = value;
                field.pending.clear();
            }
            Some(answer) if answer.status < 500 => {}
            _ => field.pending.push(value),
        }
    }
}

/// xorshift64*: small, deterministic, good enough to pick operations.
struct Dice(u64);

impl Dice {
    fn new(seed: u64, client: usize) -> Dice {
        Dice((seed ^ (client as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n.max(1)
    }

    fn pick(&mut self, items: &[i64]) -> i64 {
        items[self.below(items.len())]
    }
}

/// Runs every actor of `world` at once; one log per actor, in actor order.
pub(crate) fn race(world: &World, ops_per_client: usize, seed: u64) -> Vec<Log> {
    let start = Barrier::new(world.actors.len());
    let pool = &world.pool;
    std::thread::scope(|scope| {
        let handles: Vec<_> = world
            .actors
            .iter()
            .enumerate()
            .map(|(index, actor)| {
                let start = &start;
                scope.spawn(move || {
                    let mut dice = Dice::new(seed, index);
                    start.wait();
                    play(actor, pool, ops_per_client, &mut dice)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a client thread panicked"))
            .collect()
    })
}

fn play(actor: &Actor, pool: &[i64], ops: usize, dice: &mut Dice) -> Log {
    let mut log = Log::default();
    match &actor.part {
        Part::Deleter { victims } => delete_victims(actor, victims, ops * 4, &mut log),
        _ => {
            for n in 0..ops {
                step(actor, pool, n, dice, &mut log);
            }
        }
    }
    log
}

fn step(actor: &Actor, pool: &[i64], n: usize, dice: &mut Dice, log: &mut Log) {
    let http = &actor.http;
    match &actor.part {
        Part::StableAdmin { org, flag, issuers } => match dice.below(10) {
            0..=3 => add(http, *org, dice.pick(pool), log),
            4..=6 => remove(http, *org, dice.pick(pool), log),
            _ => {
                let issuer = dice.pick(issuers);
                // Each PATCH flips the flag relative to what this, its only writer, last sent.
                let last = log.fields.get(&(issuer, *flag)).is_some_and(|f| {
                    f.pending
                        .last()
                        .unwrap_or(&f.acked)
                        .as_bool()
                        .unwrap_or(false)
                });
                log.write_field(http, issuer, flag, json!(!last), json!(false));
            }
        },
        Part::VictimAdmin { org } => match dice.below(10) {
            0..=5 => add(http, *org, dice.pick(pool), log),
            _ => remove(http, *org, dice.pick(pool), log),
        },
        Part::Issuer { ca } => match dice.below(2) {
            0 => issue(http, *ca, &format!("{}-{n}", actor.username), log),
            _ => own_email(actor, n, log),
        },
        Part::Pooled => own_email(actor, n, log),
        Part::Mover { orgs } => match dice.below(2) {
            0 => add(http, dice.pick(orgs), dice.pick(pool), log),
            _ => remove(http, dice.pick(orgs), dice.pick(pool), log),
        },
        Part::Deleter { .. } => {}
    }
}

fn own_email(actor: &Actor, n: usize, log: &mut Log) {
    let email = json!(format!("{}-{n}@example.com", actor.username));
    let initial = json!(format!("{}@example.com", actor.username));
    log.write_field(&actor.http, actor.id, "email", email, initial);
}

fn add(http: &Http, org: i64, user: i64, log: &mut Log) {
    let path = format!("/organizations/{org}/users/{user}");
    log.record(
        &format!("POST {path}"),
        "org_add_user",
        http.send("POST", &path, None),
    );
}

fn remove(http: &Http, org: i64, user: i64, log: &mut Log) {
    let path = format!("/organizations/{org}/users/{user}");
    log.record(
        &format!("DELETE {path}"),
        "org_remove_user",
        http.send("DELETE", &path, None),
    );
}

fn issue(http: &Http, ca: i64, name: &str, log: &mut Log) {
    let body = json!({
        "common_name": format!("{name}.test"), "certificate_type": "server", "key_type": "ec",
        "valid_days": 30, "san_dns_names": [format!("{name}.test")],
    });
    let answer = http.send("POST", &format!("/certificates/?ca_id={ca}"), Some(&body));
    log.record(&format!("issue from CA {ca}"), "cert_create", answer);
}

/// Empties each victim organization (removing whoever is in it) and deletes it, retrying
/// while admins and the mover keep adding users, within `budget` requests.
fn delete_victims(actor: &Actor, victims: &[i64], budget: usize, log: &mut Log) {
    let http = &actor.http;
    for victim in victims {
        while log.ops < budget {
            let members = http.send("GET", &format!("/organizations/{victim}/users"), None);
            let members = log.record("list members", "read", members);
            let ids: Vec<i64> = members
                .and_then(|answer| answer.json.as_array().cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|user| user["id"].as_i64())
                .collect();
            for id in ids {
                remove(http, *victim, id, log);
            }
            let path = format!("/organizations/{victim}");
            let answer = log.record(
                &format!("DELETE {path}"),
                "org_delete",
                http.send("DELETE", &path, None),
            );
            if answer.as_ref().is_some_and(|answer| answer.status == 204) {
                log.deleted.push(*victim);
                break;
            }
        }
    }
}
