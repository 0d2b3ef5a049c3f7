//! The in-memory model of the server's state and an oracle written from SPEC §3–§5 and the
//! README's choices, independent of `orgtenancy-core`: for every act it says which status the
//! server must answer, and for every list which rows a caller must see.

use std::collections::{BTreeMap, BTreeSet};

/// The five flags of the reference server, in JSON field names; bit `i` is `FLAGS[i]`.
pub const FLAGS: [&str; 5] = [
    "can_create_ca",
    "can_create_cert",
    "can_revoke_cert",
    "can_export_private_key",
    "can_delete_ca",
];
pub const CREATE_CA: u8 = 1 << 0;
pub const CREATE_CERT: u8 = 1 << 1;
pub const REVOKE_CERT: u8 = 1 << 2;
pub const EXPORT_KEY: u8 = 1 << 3;
pub const DELETE_CA: u8 = 1 << 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    User,
    Admin,
    Superuser,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
            Role::Superuser => "superuser",
        }
    }
}

#[derive(Debug, Clone)]
pub struct UserM {
    pub username: String,
    pub role: Role,
    pub org: Option<i64>,
    pub flags: u8,
    pub active: bool,
    /// The password it logs in with.
    pub password: String,
    /// How often it was signed out everywhere (a password change or `POST /auth/invalidate`):
    /// tokens issued before the last time are rejected (§5).
    pub sign_outs: u32,
}

#[derive(Debug, Clone)]
pub struct CaM {
    pub org: Option<i64>,
    pub creator: i64,
    pub parent: Option<i64>,
    /// Its certificate (PEM), from the reply that created it.
    pub pem: String,
}

#[derive(Debug, Clone)]
pub struct CertM {
    pub org: Option<i64>,
    pub creator: i64,
    pub ca: i64,
    pub revoked: bool,
    /// Its certificate (PEM), from the reply that issued it.
    pub pem: String,
}

/// A resource as §3 sees it: its organization and its creator.
#[derive(Debug, Clone, Copy)]
pub struct Res {
    pub org: Option<i64>,
    pub creator: Option<i64>,
}

/// What a missing id looks like to the engine: organization-less, created by nobody.
pub const MISSING_RES: Res = Res {
    org: None,
    creator: None,
};

/// A requested user change, as the PATCH body gives it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Change {
    pub email: bool,
    /// A new password (its number: `password_text`).
    pub password: Option<u32>,
    pub flags: Option<u8>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub org: Option<Option<i64>>,
}

#[derive(Debug, Default)]
pub struct Model {
    /// Strict isolation: the creator rule stops at the organization boundary.
    pub strict: bool,
    /// Organizations and their names.
    pub orgs: BTreeMap<i64, String>,
    pub users: BTreeMap<i64, UserM>,
    pub cas: BTreeMap<i64, CaM>,
    pub certs: BTreeMap<i64, CertM>,
}

impl Model {
    /// The caller if its token authenticates: it exists and is active (else 401).
    pub fn caller(&self, id: i64) -> Option<&UserM> {
        self.users.get(&id).filter(|user| user.active)
    }

    /// §3 rules 1–7 (rule 0 is the 401 of an inactive caller).
    pub fn allows(&self, actor: i64, flag: Option<u8>, res: Res) -> bool {
        let Some(user) = self.caller(actor) else {
            return false;
        };
        if user.role == Role::Superuser {
            return true;
        }
        let same_org = res.org.is_some() && res.org == user.org;
        if res.creator == Some(actor) && (!self.strict || same_org) {
            return true;
        }
        if !same_org {
            return false;
        }
        match (user.role, flag) {
            (Role::Admin, _) | (_, None) => true,
            (_, Some(flag)) => user.flags & flag != 0,
        }
    }

    pub fn ca_res(&self, id: i64) -> Res {
        self.cas.get(&id).map_or(MISSING_RES, |ca| Res {
            org: ca.org,
            creator: Some(ca.creator),
        })
    }

    pub fn cert_res(&self, id: i64) -> Res {
        self.certs.get(&id).map_or(MISSING_RES, |cert| Res {
            org: cert.org,
            creator: Some(cert.creator),
        })
    }

    /// The status of an act on a row that may be missing: 403 when denied (a missing row is
    /// organization-less, so only a superuser passes), 404 when allowed but missing.
    pub fn on_row(&self, actor: i64, flag: Option<u8>, res: Res, exists: bool) -> Result<(), u16> {
        if !self.allows(actor, flag, res) {
            Err(403)
        } else if !exists {
            Err(404)
        } else {
            Ok(())
        }
    }

    fn is_superuser(&self, actor: i64) -> bool {
        self.caller(actor)
            .is_some_and(|user| user.role == Role::Superuser)
    }

    /// The target's facts; a missing user is a plain user in no organization.
    fn facts(&self, target: i64) -> UserM {
        self.users.get(&target).cloned().unwrap_or(UserM {
            username: String::new(),
            role: Role::User,
            org: None,
            flags: 0,
            active: true,
            password: String::new(),
            sign_outs: 0,
        })
    }

    /// An admin administers `target`: same organization, target not a superuser.
    fn administers(&self, actor: i64, target: &UserM) -> bool {
        self.caller(actor).is_some_and(|user| {
            user.role == Role::Admin
                && target.role != Role::Superuser
                && user.org.is_some()
                && user.org == target.org
        })
    }

    /// Is `actor` an admin member of `org` (or a superuser)?
    fn manages(&self, actor: i64, org: i64) -> bool {
        self.caller(actor).is_some_and(|user| {
            user.role == Role::Superuser || (user.role == Role::Admin && user.org == Some(org))
        })
    }

    pub fn view_user(&self, actor: i64, target: i64) -> Result<(), u16> {
        let allowed = self.is_superuser(actor)
            || actor == target
            || self.administers(actor, &self.facts(target));
        exists_after(allowed, self.users.contains_key(&target))
    }

    pub fn update_user(&self, actor: i64, target: i64, change: Change) -> Result<(), u16> {
        let facts = self.facts(target);
        let role = change.role.is_some_and(|role| role != facts.role);
        let active = change.active.is_some_and(|active| active != facts.active);
        let org = change.org.is_some_and(|org| org != facts.org);
        let flags = change.flags.is_some_and(|flags| flags != facts.flags);
        let superuser_only = role || active || org;
        let allowed = if self.is_superuser(actor) {
            !(actor == target && (role || change.active == Some(false)))
        } else if self.administers(actor, &facts) {
            !superuser_only
        } else {
            actor == target && !superuser_only && !flags
        };
        exists_after(allowed, self.users.contains_key(&target))?;
        match change.org {
            Some(Some(org)) if !self.orgs.contains_key(&org) => Err(404),
            _ => Ok(()),
        }
    }

    pub fn create_user(
        &self,
        actor: i64,
        role: Role,
        org: Option<i64>,
        flags: u8,
    ) -> Result<(), u16> {
        let Some(user) = self.caller(actor) else {
            return Err(401);
        };
        let allowed = match (user.role, role, org) {
            (Role::Superuser, ..) => true,
            (Role::Admin, Role::User, None) => flags == 0,
            (Role::Admin, Role::User, Some(org)) => user.org == Some(org),
            _ => false,
        };
        if !allowed {
            return Err(403);
        }
        match org {
            Some(org) if !self.orgs.contains_key(&org) => Err(404),
            _ => Ok(()),
        }
    }

    pub fn list_users(&self, actor: i64) -> Result<(), u16> {
        if self.is_superuser(actor) {
            Ok(())
        } else {
            Err(403)
        }
    }

    pub fn delete_user(&self, actor: i64, target: i64) -> Result<(), u16> {
        exists_after(
            self.is_superuser(actor) && actor != target,
            self.users.contains_key(&target),
        )
    }

    pub fn create_org(&self, actor: i64) -> Result<(), u16> {
        let admin = self
            .caller(actor)
            .is_some_and(|user| user.role != Role::User);
        if admin { Ok(()) } else { Err(403) }
    }

    /// View an organization or list its members: members; a superuser any (404 if missing).
    pub fn read_org(&self, actor: i64, org: i64) -> Result<(), u16> {
        let member = self.caller(actor).is_some_and(|user| user.org == Some(org));
        exists_after(
            member || self.is_superuser(actor),
            self.orgs.contains_key(&org),
        )
    }

    pub fn update_org(&self, actor: i64, org: i64) -> Result<(), u16> {
        exists_after(self.manages(actor, org), self.orgs.contains_key(&org))
    }

    /// Rename: as an update, then 409 when another organization has the name (compared
    /// after trimming, as names are stored, §2).
    pub fn rename_org(&self, actor: i64, org: i64, name: &str) -> Result<(), u16> {
        self.update_org(actor, org)?;
        let taken = self
            .orgs
            .iter()
            .any(|(id, other)| *id != org && other == name.trim());
        if taken { Err(409) } else { Ok(()) }
    }

    pub fn delete_org(&self, actor: i64, org: i64) -> Result<(), u16> {
        exists_after(self.is_superuser(actor), self.orgs.contains_key(&org))?;
        let busy = self.users.values().any(|user| user.org == Some(org))
            || self.cas.values().any(|ca| ca.org == Some(org))
            || self.certs.values().any(|cert| cert.org == Some(org));
        if busy { Err(409) } else { Ok(()) }
    }

    pub fn add_member(&self, actor: i64, org: i64, target: i64) -> Result<(), u16> {
        let facts = self.facts(target);
        if !self.manages(actor, org) {
            return Err(403);
        }
        if !self.is_superuser(actor)
            && (facts.role == Role::Superuser || facts.org.is_some_and(|other| other != org))
        {
            return Err(403);
        }
        if !self.orgs.contains_key(&org) || !self.users.contains_key(&target) {
            return Err(404);
        }
        Ok(())
    }

    pub fn remove_member(&self, actor: i64, org: i64, target: i64) -> Result<(), u16> {
        let facts = self.facts(target);
        if !self.manages(actor, org) {
            return Err(403);
        }
        if !self.is_superuser(actor) && facts.role == Role::Superuser {
            return Err(403);
        }
        if !self.users.contains_key(&target) || facts.org != Some(org) {
            return Err(404);
        }
        Ok(())
    }

    /// Create a CA in the caller's organization (the target context: no creator), under an
    /// optional parent the caller reads and that is in the caller's organization.
    pub fn create_ca(&self, actor: i64, parent: Option<i64>) -> Result<(), u16> {
        let org = self.caller(actor).and_then(|user| user.org);
        let context = Res { org, creator: None };
        if !self.allows(actor, Some(CREATE_CA), context) {
            return Err(403);
        }
        if let Some(parent) = parent {
            self.on_row(
                actor,
                None,
                self.ca_res(parent),
                self.cas.contains_key(&parent),
            )?;
            if self.ca_res(parent).org != org {
                return Err(409);
            }
        }
        Ok(())
    }

    pub fn delete_ca(&self, actor: i64, ca: i64) -> Result<(), u16> {
        self.on_row(
            actor,
            Some(DELETE_CA),
            self.ca_res(ca),
            self.cas.contains_key(&ca),
        )?;
        let busy = self.cas.values().any(|child| child.parent == Some(ca))
            || self.certs.values().any(|cert| cert.ca == ca);
        if busy { Err(409) } else { Ok(()) }
    }

    pub fn adopt_ca(&self, actor: i64, ca: i64, org: i64) -> Result<(), u16> {
        if !self.is_superuser(actor) {
            return Err(403);
        }
        if !self.cas.contains_key(&ca) || !self.orgs.contains_key(&org) {
            return Err(404);
        }
        Ok(())
    }

    pub fn revoke_cert(&self, actor: i64, cert: i64) -> Result<(), u16> {
        let exists = self.certs.contains_key(&cert);
        self.on_row(actor, Some(REVOKE_CERT), self.cert_res(cert), exists)?;
        if self.certs.get(&cert).is_some_and(|cert| cert.revoked) {
            return Err(409);
        }
        Ok(())
    }

    /// Moves `ca` (and with `cascade` its descendants and their certificates) into `org`;
    /// returns the organizations the move is audited for: `org` and every other one a moved
    /// row belonged to.
    pub fn adopt(&mut self, ca: i64, org: i64, cascade: bool) -> BTreeSet<i64> {
        let mut audited = BTreeSet::from([org]);
        let mut moved = vec![ca];
        if cascade {
            let mut index = 0;
            while let Some(&current) = moved.get(index) {
                let children = self
                    .cas
                    .iter()
                    .filter(|(_, child)| child.parent == Some(current));
                moved.extend(children.map(|(id, _)| *id).collect::<Vec<_>>());
                index += 1;
            }
            for cert in self
                .certs
                .values_mut()
                .filter(|cert| moved.contains(&cert.ca))
            {
                audited.extend(cert.org);
                cert.org = Some(org);
            }
        }
        for id in moved {
            if let Some(ca) = self.cas.get_mut(&id) {
                audited.extend(ca.org);
                ca.org = Some(org);
            }
        }
        audited
    }

    /// The organizations `actor` lists.
    pub fn visible_orgs(&self, actor: i64) -> BTreeSet<i64> {
        match self.caller(actor) {
            Some(user) if user.role == Role::Superuser => self.orgs.keys().copied().collect(),
            Some(user) => user.org.into_iter().collect(),
            None => BTreeSet::new(),
        }
    }

    pub fn visible_cas(&self, actor: i64) -> BTreeSet<i64> {
        let ids = self.cas.keys().copied();
        ids.filter(|id| self.allows(actor, None, self.ca_res(*id)))
            .collect()
    }

    pub fn visible_certs(&self, actor: i64) -> BTreeSet<i64> {
        let ids = self.certs.keys().copied();
        ids.filter(|id| self.allows(actor, None, self.cert_res(*id)))
            .collect()
    }

    pub fn members(&self, org: i64) -> BTreeSet<i64> {
        let users = self.users.iter();
        users
            .filter(|(_, user)| user.org == Some(org))
            .map(|(id, _)| *id)
            .collect()
    }
}

/// A token the sequence holds and what the model knows of it.
#[derive(Debug, Clone)]
pub struct TokenM {
    pub user: i64,
    /// The user's `sign_outs` when it was issued.
    pub sign_outs: u32,
    /// Logged out (access tokens) or consumed (refresh tokens).
    pub spent: bool,
}

impl Model {
    /// §5: an access token authenticates while its user exists and is active, it was not
    /// logged out, and it was issued after the user's last password change or invalidation.
    pub fn accepts(&self, token: &TokenM) -> bool {
        !token.spent
            && self
                .caller(token.user)
                .is_some_and(|user| user.sign_outs == token.sign_outs)
    }

    /// §5: a refresh token exchanges once, for an active user that has not been signed out
    /// everywhere since (a password change or invalidation revokes it) and did not log out
    /// with it.
    pub fn refresh(&self, token: &TokenM) -> Result<(), u16> {
        if self.accepts(token) {
            Ok(())
        } else {
            Err(401)
        }
    }

    /// The chain `GET /cas/{ca}` shows `actor`: the parents upwards, ending before the
    /// first one `actor` may not read (at most 32, the server's guard against cycles).
    pub fn chain(&self, actor: i64, ca: i64) -> Vec<i64> {
        let mut chain = Vec::new();
        let mut next = self.cas.get(&ca).and_then(|ca| ca.parent);
        while let Some(parent) = next {
            if chain.len() >= 32 || !self.allows(actor, None, self.ca_res(parent)) {
                break;
            }
            chain.push(parent);
            next = self.cas.get(&parent).and_then(|ca| ca.parent);
        }
        chain
    }
}

/// The password a change numbered `number` sets.
pub fn password_text(number: u32) -> String {
    format!("new password {number}")
}

/// 403 when not allowed, 404 when allowed but missing.
fn exists_after(allowed: bool, exists: bool) -> Result<(), u16> {
    match (allowed, exists) {
        (false, _) => Err(403),
        (true, false) => Err(404),
        (true, true) => Ok(()),
    }
}
