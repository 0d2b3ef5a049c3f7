//! Comparing the server's rows, chains, keys and audit log with the model, and the sweep
//! after each sequence.

use std::collections::{BTreeMap, BTreeSet};

use rand::seq::SliceRandom;
use rcgen::KeyPair;
use serde_json::{Value, json};

use super::{
    Run,
    model::{FLAGS, Role},
    ops::Op,
    public_key,
};

impl Run {
    /// An admin reads only its own organization's entries (none without one).
    pub(super) fn check_audit_scope(&mut self, actor: i64, rows: &Value) {
        let Some(admin) = self
            .model
            .caller(actor)
            .filter(|user| user.role == Role::Admin)
        else {
            return;
        };
        let org = admin.org;
        self.checked += 1;
        let entries = rows.as_array().cloned().unwrap_or_default();
        let foreign = entries
            .iter()
            .find(|entry| org.is_none() || entry["organization_id"].as_i64() != org);
        if let Some(entry) = foreign {
            self.fail(&format!(
                "admin of {org:?} reads another tenant's audit entry {entry}"
            ));
        }
    }

    pub(super) fn check_rows(&mut self, rows: &Value, check: fn(&mut Run, &Value)) {
        for row in rows.as_array().cloned().unwrap_or_default() {
            check(self, &row);
        }
    }

    pub(super) fn check_user_row(&mut self, row: &Value) {
        let id = row["id"].as_i64().unwrap_or_default();
        self.check_user(id, row);
    }

    /// The user as the server shows it equals the model's.
    pub(super) fn check_user(&mut self, id: i64, row: &Value) {
        let Some(user) = self.model.users.get(&id) else {
            self.fail(&format!("user {id} is not in the model: {row}"));
        };
        let mut expected = json!({
            "id": id, "role": user.role.name(), "organization_id": user.org,
            "is_active": user.active,
        });
        for (bit, flag) in FLAGS.iter().enumerate() {
            expected[*flag] = json!(user.flags & (1 << bit) != 0);
        }
        self.check_fields(&expected, row, "user");
    }

    pub(super) fn check_org(&mut self, row: &Value) {
        let id = row["id"].as_i64().unwrap_or_default();
        let Some(name) = self.model.orgs.get(&id) else {
            self.fail(&format!("organization {id} is not in the model: {row}"));
        };
        let expected = json!({ "id": id, "name": name });
        self.check_fields(&expected, row, "organization");
    }

    pub(super) fn check_ca(&mut self, row: &Value) {
        let id = row["id"].as_i64().unwrap_or_default();
        let Some(ca) = self.model.cas.get(&id) else {
            self.fail(&format!("CA {id} is not in the model: {row}"));
        };
        let expected = json!({
            "id": id, "organization_id": ca.org, "created_by_user_id": ca.creator,
            "parent_ca_id": ca.parent, "certificate": ca.pem,
        });
        self.check_fields(&expected, row, "CA");
    }

    /// `chain` holds the certificates of the parents `actor` may read, upwards (SPEC §3 on
    /// each parent: after an adoption without cascade it can be another tenant's).
    pub(super) fn check_chain(&mut self, actor: i64, ca: i64, row: &Value) {
        self.checked += 1;
        let expected = self.model.chain(actor, ca);
        let top = expected.last().copied().unwrap_or(ca);
        let cut = self.model.cas.get(&top).and_then(|ca| ca.parent).is_some();
        if cut {
            self.count("chain-cut-short".to_owned(), true);
        } else if !expected.is_empty() {
            self.count("chain-to-root".to_owned(), true);
        }
        let pems: Vec<Value> = expected
            .iter()
            .map(|parent| json!(self.model.cas[parent].pem))
            .collect();
        if row["chain"] != Value::Array(pems) {
            let shown: Vec<Option<i64>> = row["chain"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|pem| {
                    let cas = self.model.cas.iter();
                    cas.filter(|(_, ca)| pem.as_str() == Some(ca.pem.as_str()))
                        .map(|(id, _)| *id)
                        .next()
                })
                .collect();
            self.fail(&format!(
                "chain of CA {ca} read by user {actor}: the server shows the certificates of \
                 CAs {shown:?}, the model {expected:?}"
            ));
        }
    }

    /// The exported key is a PEM private key whose public half is the one in the
    /// certificate the model remembers from the creation reply.
    pub(super) fn check_key(&mut self, row: &Value, pem: Option<String>, what: &str) {
        self.checked += 1;
        let key = row["private_key"]
            .as_str()
            .and_then(|key| KeyPair::from_pem(key).ok());
        let public = pem.as_deref().and_then(public_key);
        let matches = key
            .zip(public)
            .is_some_and(|(key, public)| key.public_key_raw() == public.as_slice());
        if !matches {
            let id = &row["id"];
            self.fail(&format!(
                "the exported private key of {what} {id} is not the key of its certificate"
            ));
        }
    }

    pub(super) fn check_cert(&mut self, row: &Value) {
        let id = row["id"].as_i64().unwrap_or_default();
        let Some(cert) = self.model.certs.get(&id) else {
            self.fail(&format!("certificate {id} is not in the model: {row}"));
        };
        let status = if cert.revoked { "revoked" } else { "valid" };
        let expected = json!({
            "id": id, "organization_id": cert.org, "created_by_user_id": cert.creator,
            "issuer_id": cert.ca, "status": status, "certificate": cert.pem,
        });
        self.check_fields(&expected, row, "certificate");
    }

    pub(super) fn check_fields(&mut self, expected: &Value, row: &Value, what: &str) {
        self.checked += 1;
        let fields = expected.as_object().cloned().unwrap_or_default();
        for (field, value) in fields {
            if row[&field] != value {
                self.fail(&format!("{what} {field}: server {row}, model {expected}"));
            }
        }
    }

    /// After a sequence: every actor's lists, reads of the intermediate CAs and an export of
    /// a key of its organization, and the audit log as each actor sees it.
    pub(super) async fn sweep(&mut self) {
        self.trace.push("sweep".to_owned());
        let mut actors: Vec<i64> = self.current.keys().copied().collect();
        actors.sort_unstable();
        let cas = self.model.cas.iter();
        let intermediates: Vec<i64> = cas
            .filter(|(_, ca)| ca.parent.is_some())
            .map(|(id, _)| *id)
            .collect();
        for actor in actors {
            for op in [Op::ListOrgs, Op::ListCas, Op::ListCerts, Op::ListUsers] {
                self.act(actor, op).await;
            }
            // Every intermediate CA's chain as this actor reads it.
            for ca in &intermediates {
                self.act(actor, Op::ViewCa(*ca)).await;
            }
            // The export of a key of its organization it did not create: for a plain user,
            // its `can_export_private_key` flag decides (rule 7).
            let (cas, certs) = self.others_in_org(actor);
            for op in [
                cas.choose(&mut self.rng).copied().map(Op::ExportCaKey),
                certs.choose(&mut self.rng).copied().map(Op::ExportCertKey),
            ]
            .into_iter()
            .flatten()
            {
                self.act(actor, op).await;
            }
        }
        let root = self.token(self.root).await;
        let root = self.held[root].0.clone();
        let all = self.audit_log(&root).await;
        self.checked += 1;
        let mut logged = BTreeMap::<(String, Option<i64>, i64), usize>::new();
        for entry in &all {
            let action = entry["action"].as_str().unwrap_or_default().to_owned();
            let resource = entry["resource_id"].as_i64();
            let key = (action, entry["user_id"].as_i64(), resource.unwrap_or(-1));
            *logged.entry(key).or_default() += 1;
        }
        if logged != self.audit {
            let differ = |a: &BTreeMap<(String, Option<i64>, i64), usize>, b: &BTreeMap<_, _>| {
                let entries = a.iter().filter(|(key, count)| b.get(*key) != Some(*count));
                let entries = entries.map(|((action, user, resource), count)| {
                    format!("{action} by {user:?} on {resource} x{count}")
                });
                entries.collect::<Vec<_>>().join(", ")
            };
            self.fail(&format!(
                "the audit log holds {} entries, the model {}; counts that differ, in the log: \
                 [{}], in the model: [{}]",
                all.len(),
                self.audit.values().sum::<usize>(),
                differ(&logged, &self.audit),
                differ(&self.audit, &logged),
            ));
        }
        let admins: Vec<(i64, Option<i64>)> = self
            .model
            .users
            .iter()
            .filter(|(id, user)| {
                user.active && user.role == Role::Admin && self.current.contains_key(id)
            })
            .map(|(id, user)| (*id, user.org))
            .collect();
        for (admin, org) in admins {
            let token = self.held[self.current[&admin]].0.clone();
            let seen = self.audit_log(&token).await;
            let expected: BTreeSet<i64> = all
                .iter()
                .filter(|entry| org.is_some() && entry["organization_id"].as_i64() == org)
                .filter_map(|entry| entry["id"].as_i64())
                .collect();
            self.check_ids(&Value::Array(seen), &expected, "audit entries of an admin");
        }
    }

    /// The CAs and certificates of `actor`'s organization that `actor` did not create.
    pub(super) fn others_in_org(&self, actor: i64) -> (Vec<i64>, Vec<i64>) {
        let org = self.model.users.get(&actor).and_then(|user| user.org);
        let theirs = |row_org: Option<i64>, creator: i64| {
            org.is_some() && row_org == org && creator != actor
        };
        let cas = self.model.cas.iter();
        let cas = cas.filter(|(_, ca)| theirs(ca.org, ca.creator));
        let certs = self.model.certs.iter();
        let certs = certs.filter(|(_, cert)| theirs(cert.org, cert.creator));
        (
            cas.map(|(id, _)| *id).collect(),
            certs.map(|(id, _)| *id).collect(),
        )
    }

    /// Every entry `token` may read, page by page.
    pub(super) async fn audit_log(&mut self, token: &str) -> Vec<Value> {
        let mut entries = Vec::new();
        loop {
            let path = format!("/audit-logs/?limit=1000&skip={}", entries.len());
            let reply = self.h.get(&path, Some(token)).await;
            self.check(reply.code(), 200, &reply, "read the audit log");
            let page = reply.json.as_array().cloned().unwrap_or_default();
            let full = page.len() == 1000;
            entries.extend(page);
            if !full {
                return entries;
            }
        }
    }
}
