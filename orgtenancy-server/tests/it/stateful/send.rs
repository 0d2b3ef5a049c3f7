//! Turning an act into its HTTP request.

use serde_json::{Value, json};

use super::{
    Run,
    model::{Change, FLAGS, password_text},
    ops::Op,
};
use crate::support::{PASSWORD, Reply};

impl Run {
    pub(super) fn fresh_name(&mut self, prefix: &str) -> String {
        self.names += 1;
        format!("{prefix}{}-{}", self.names, self.seed)
    }

    pub(super) async fn send(&mut self, actor: i64, token: &str, op: &Op) -> Reply {
        let t = Some(token);
        let h = &self.h;
        match op {
            Op::CreateOrg => {
                let name = self.fresh_name("org");
                self.h
                    .post("/organizations/", t, json!({ "name": name }))
                    .await
            }
            Op::UpdateOrg(org) => {
                let body = json!({ "description": format!("changed {}", self.names) });
                h.put(&format!("/organizations/{org}"), t, body).await
            }
            Op::DeleteOrg(org) => h.delete(&format!("/organizations/{org}"), t).await,
            Op::CreateUser { role, org, flags } => {
                let name = self.fresh_name("u");
                let mut body = json!({
                    "username": name, "email": format!("{name}@example.com"),
                    "password": PASSWORD, "role": role.name(), "organization_id": org,
                });
                for (bit, flag) in FLAGS.iter().enumerate() {
                    body[*flag] = json!(flags & (1 << bit) != 0);
                }
                self.h.post("/users/", t, body).await
            }
            Op::UpdateUser { target, change } => {
                let body = self.change_body(*change);
                self.h.patch(&format!("/users/{target}"), t, body).await
            }
            Op::DeleteUser(target) => h.delete(&format!("/users/{target}"), t).await,
            Op::AddMember { org, target } => {
                let path = format!("/organizations/{org}/users/{target}");
                h.post(&path, t, Value::Null).await
            }
            Op::RemoveMember { org, target } => {
                h.delete(&format!("/organizations/{org}/users/{target}"), t)
                    .await
            }
            Op::CreateCa { parent } => {
                let name = self.fresh_name("ca");
                let body = json!({
                    "name": name, "subject_dn": format!("CN={name}"), "key_type": "ec",
                    "parent_ca_id": parent,
                });
                self.h.post("/cas/", t, body).await
            }
            Op::IssueCert { ca } => {
                let name = format!("{}.test", self.fresh_name("host"));
                let body = json!({
                    "common_name": name, "certificate_type": "server", "key_type": "ec",
                    "san_dns_names": [name],
                });
                self.h
                    .post(&format!("/certificates/?ca_id={ca}"), t, body)
                    .await
            }
            Op::RevokeCert(cert) => {
                let body = json!({ "reason": "key compromise" });
                h.post(&format!("/certificates/{cert}/revoke"), t, body)
                    .await
            }
            Op::DeleteCa(ca) => h.delete(&format!("/cas/{ca}"), t).await,
            Op::AdoptCa { ca, org, cascade } => {
                let body = json!({ "organization_id": org, "cascade": cascade });
                h.patch(&format!("/cas/{ca}"), t, body).await
            }
            Op::ListOrgs => h.get("/organizations/?limit=1000", t).await,
            Op::ViewOrg(org) => h.get(&format!("/organizations/{org}"), t).await,
            Op::ListMembers(org) => {
                h.get(&format!("/organizations/{org}/users?limit=1000"), t)
                    .await
            }
            Op::ListUsers => h.get("/users/?limit=1000", t).await,
            Op::ViewUser(target) => h.get(&format!("/users/{target}"), t).await,
            Op::ListCas => h.get("/cas/?limit=1000", t).await,
            Op::ViewCa(ca) => h.get(&format!("/cas/{ca}"), t).await,
            Op::ListCerts => h.get("/certificates/?limit=1000", t).await,
            Op::ViewCert(cert) => h.get(&format!("/certificates/{cert}"), t).await,
            Op::ListAudit => h.get("/audit-logs/?limit=1000", t).await,
            Op::ExportCaKey(ca) => h.get(&format!("/cas/{ca}/private-key"), t).await,
            Op::ExportCertKey(cert) => h.get(&format!("/certificates/{cert}/private-key"), t).await,
            Op::RenameOrg { org, name } => {
                h.put(&format!("/organizations/{org}"), t, json!({ "name": name }))
                    .await
            }
            Op::Logout { refresh } => {
                let body = match refresh.and_then(|user| self.current_refresh.get(&user)) {
                    Some(index) => json!({ "refresh_token": self.refresh_held[*index].0 }),
                    None => Value::Null,
                };
                h.post("/auth/logout", t, body).await
            }
            Op::Refresh => {
                let token = self
                    .current_refresh
                    .get(&actor)
                    .map_or("never issued", |index| &self.refresh_held[*index].0);
                h.post("/auth/refresh", None, json!({ "refresh_token": token }))
                    .await
            }
            Op::Invalidate => h.post("/auth/invalidate", t, Value::Null).await,
            Op::ViewMe => h.get("/users/me", t).await,
        }
    }

    pub(super) fn change_body(&mut self, change: Change) -> Value {
        let mut body = json!({});
        if change.email {
            let name = self.fresh_name("mail");
            body["email"] = json!(format!("{name}@example.com"));
        }
        if let Some(password) = change.password {
            body["password"] = json!(password_text(password));
        }
        if let Some(flags) = change.flags {
            for (bit, flag) in FLAGS.iter().enumerate() {
                body[*flag] = json!(flags & (1 << bit) != 0);
            }
        }
        if let Some(role) = change.role {
            body["role"] = json!(role.name());
        }
        if let Some(active) = change.active {
            body["is_active"] = json!(active);
        }
        if let Some(org) = change.org {
            body["organization_id"] = json!(org);
        }
        body
    }
}
