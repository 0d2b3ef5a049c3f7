//! The model's side of an act the server answered: what changed, what was audited.

use super::{
    Run, apply_change,
    model::{CaM, CertM},
    ops::Op,
    user_m,
};
use crate::support::Reply;

impl Run {
    /// Brings the model along with an act the server performed, checking what it answered.
    pub(super) fn apply(&mut self, actor: i64, token: usize, op: &Op, reply: &Reply) {
        let actor_org = self.model.users.get(&actor).and_then(|user| user.org);
        let body = &reply.json;
        let by = Some(actor);
        let pem = body["certificate"].as_str().unwrap_or_default().to_owned();
        match *op {
            Op::CreateOrg => {
                let name = body["name"].as_str().unwrap_or_default().to_owned();
                self.model.orgs.insert(reply.id(), name);
                self.audited("org_create", by, reply.id());
            }
            Op::UpdateOrg(org) => {
                // The description `send` gave it; the same one again is no change.
                let description = format!("changed {}", self.names);
                if self.descriptions.insert(org, description.clone()) != Some(description) {
                    self.audited("org_update", by, org);
                }
                self.check_org(body);
            }
            Op::RenameOrg { org, ref name } => {
                let name = name.as_deref().unwrap_or_default().trim().to_owned();
                // Renaming to its own name changes nothing and is not audited (issue 11).
                if self.model.orgs.insert(org, name.clone()) != Some(name) {
                    self.audited("org_update", by, org);
                }
                self.check_org(body);
            }
            Op::RevokeCert(cert) => {
                if let Some(cert) = self.model.certs.get_mut(&cert) {
                    cert.revoked = true;
                }
                self.audited("cert_revoke", by, cert);
                self.check_cert(body);
            }
            Op::DeleteOrg(org) => {
                self.model.orgs.remove(&org);
                self.gone.orgs.push(org);
                self.audited("org_delete", by, org);
            }
            Op::CreateUser { role, org, flags } => {
                let username = body["username"].as_str().unwrap_or_default().to_owned();
                let user = user_m(&username, role, org, flags);
                self.model.users.insert(reply.id(), user);
                self.audited("user_create", by, reply.id());
                self.check_user(reply.id(), body);
            }
            Op::UpdateUser { target, change } => {
                // Only a real change is audited, once per organization concerned (a move
                // between two organizations: both), issue 11.
                let mut entries = 1;
                if let Some(user) = self.model.users.get_mut(&target) {
                    let before = (user.role, user.org, user.flags, user.active);
                    apply_change(user, change);
                    let after = (user.role, user.org, user.flags, user.active);
                    let real = change.email || change.password.is_some() || before != after;
                    let moved = matches!((before.1, after.1), (Some(l), Some(j)) if l != j);
                    entries = if !real {
                        0
                    } else if moved {
                        2
                    } else {
                        1
                    };
                }
                for _ in 0..entries {
                    self.audited("user_update", by, target);
                }
                self.check_user(target, body);
            }
            Op::DeleteUser(target) => {
                self.model.users.remove(&target);
                self.gone.users.push(target);
                self.audited("user_delete", by, target);
            }
            Op::AddMember { org, target } => {
                if let Some(user) = self.model.users.get_mut(&target) {
                    user.org = Some(org);
                }
                self.audited("org_add_user", by, target);
                self.check_user(target, body);
            }
            Op::RemoveMember { target, .. } => {
                if let Some(user) = self.model.users.get_mut(&target) {
                    user.org = None;
                }
                self.audited("org_remove_user", by, target);
                self.check_user(target, body);
            }
            Op::CreateCa { parent } => {
                let ca = CaM {
                    org: actor_org,
                    creator: actor,
                    parent,
                    pem,
                };
                self.model.cas.insert(reply.id(), ca);
                self.audited("ca_create", by, reply.id());
                self.check_ca(body);
            }
            Op::IssueCert { ca } => {
                let cert = CertM {
                    org: actor_org,
                    creator: actor,
                    ca,
                    revoked: false,
                    pem,
                };
                self.model.certs.insert(reply.id(), cert);
                self.audited("cert_create", by, reply.id());
                self.check_cert(body);
            }
            Op::DeleteCa(ca) => {
                self.model.cas.remove(&ca);
                self.gone.cas.push(ca);
                self.audited("ca_delete", by, ca);
            }
            Op::AdoptCa { ca, org, cascade } => {
                // One entry per organization the move touches (issue 11 item 4).
                for _ in self.model.adopt(ca, org, cascade) {
                    self.audited("ca_assign_org", by, ca);
                }
                self.check_ca(body);
            }
            Op::ExportCaKey(ca) => {
                self.audited("ca_export_private_key", by, ca);
                self.check_ca(body);
                let pem = self.model.cas.get(&ca).map(|ca| ca.pem.clone());
                self.check_key(body, pem, "CA");
            }
            Op::ExportCertKey(cert) => {
                self.audited("cert_export_private_key", by, cert);
                self.check_cert(body);
                let pem = self.model.certs.get(&cert).map(|cert| cert.pem.clone());
                self.check_key(body, pem, "certificate");
            }
            Op::Logout { refresh } => {
                self.audited("logout", by, actor);
                self.held[token].1.spent = true;
                // Only one's own refresh token is revoked: another user's stays valid.
                if refresh == Some(actor)
                    && let Some(index) = self.current_refresh.get(&actor)
                {
                    self.refresh_held[*index].1.spent = true;
                }
            }
            Op::Invalidate => {
                self.audited("token_invalidate", by, actor);
                if let Some(user) = self.model.users.get_mut(&actor) {
                    user.sign_outs += 1;
                }
            }
            Op::Refresh => self.take_tokens(actor, body),
            Op::ViewMe => self.check_user(actor, body),
            Op::ListOrgs => {
                let visible = self.model.visible_orgs(actor);
                self.check_ids(body, &visible, "organizations listed");
                self.check_rows(body, Self::check_org);
            }
            Op::ListMembers(org) => {
                let members = self.model.members(org);
                self.check_ids(body, &members, "members listed");
                self.check_rows(body, Self::check_user_row);
            }
            Op::ListUsers => {
                let all = self.model.users.keys().copied().collect();
                self.check_ids(body, &all, "users listed");
                self.check_rows(body, Self::check_user_row);
            }
            Op::ViewUser(target) => self.check_user(target, body),
            Op::ListCas => {
                let visible = self.model.visible_cas(actor);
                self.check_ids(body, &visible, "CAs listed");
                self.check_rows(body, Self::check_ca);
            }
            Op::ViewCa(ca) => {
                self.check_ca(body);
                self.check_chain(actor, ca, body);
            }
            Op::ListCerts => {
                let visible = self.model.visible_certs(actor);
                self.check_ids(body, &visible, "certificates listed");
                self.check_rows(body, Self::check_cert);
            }
            Op::ViewCert(_) => self.check_cert(body),
            Op::ViewOrg(org) => {
                if body["id"].as_i64() != Some(org) {
                    self.fail(&format!("organization {org} read as {body}"));
                }
                self.check_org(body);
            }
            Op::ListAudit => self.check_audit_scope(actor, body),
        }
    }
}
