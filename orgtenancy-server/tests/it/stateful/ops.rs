//! The acts a sequence is made of, and how a seeded RNG picks them from the model's state:
//! mostly ids that exist, sometimes ids that were deleted or never existed.

use rand::{Rng, rngs::StdRng, seq::SliceRandom};

use super::model::{Change, Model, Role};

/// An id no sequence reaches.
const FAR: i64 = 900_000_000;

#[derive(Debug, Clone)]
pub enum Op {
    CreateOrg,
    UpdateOrg(i64),
    DeleteOrg(i64),
    CreateUser {
        role: Role,
        org: Option<i64>,
        flags: u8,
    },
    UpdateUser {
        target: i64,
        change: Change,
    },
    DeleteUser(i64),
    AddMember {
        org: i64,
        target: i64,
    },
    RemoveMember {
        org: i64,
        target: i64,
    },
    CreateCa {
        parent: Option<i64>,
    },
    IssueCert {
        ca: i64,
    },
    RevokeCert(i64),
    DeleteCa(i64),
    AdoptCa {
        ca: i64,
        org: i64,
        cascade: bool,
    },
    ListOrgs,
    ViewOrg(i64),
    ListMembers(i64),
    ListUsers,
    ViewUser(i64),
    ListCas,
    ViewCa(i64),
    ListCerts,
    ViewCert(i64),
    ListAudit,
    ExportCaKey(i64),
    ExportCertKey(i64),
    /// Rename to `name` (`None`: a fresh one).
    RenameOrg {
        org: i64,
        name: Option<String>,
    },
    /// `POST /auth/logout`, with the current refresh token of `refresh`'s user if it has one
    /// (oneself mostly, sometimes another user: that must revoke nothing).
    Logout {
        refresh: Option<i64>,
    },
    /// `POST /auth/refresh` with one's current refresh token.
    Refresh,
    /// `POST /auth/invalidate`.
    Invalidate,
    ViewMe,
}

/// Ids that once existed and were deleted, to ask about them again.
#[derive(Debug, Default)]
pub struct Gone {
    pub users: Vec<i64>,
    pub orgs: Vec<i64>,
    pub cas: Vec<i64>,
}

/// Picks the next act for `actor`.
pub fn next_op(rng: &mut StdRng, model: &Model, gone: &Gone, actor: i64, root: i64) -> Op {
    let pick = Picker {
        rng,
        model,
        gone,
        actor,
        root,
    };
    pick.op()
}

struct Picker<'a> {
    rng: &'a mut StdRng,
    model: &'a Model,
    gone: &'a Gone,
    actor: i64,
    root: i64,
}

impl Picker<'_> {
    fn op(mut self) -> Op {
        match self.rng.gen_range(0..120) {
            0..=3 => Op::CreateOrg,
            4..=5 => Op::UpdateOrg(self.org()),
            6..=7 => Op::DeleteOrg(self.org()),
            8..=11 => Op::CreateUser {
                role: self.role(),
                org: self.maybe_org(),
                flags: self.flags(),
            },
            12..=24 => Op::UpdateUser {
                target: self.target(),
                change: self.change(),
            },
            25..=26 => Op::DeleteUser(self.target()),
            27..=33 => Op::AddMember {
                org: self.org(),
                target: self.target(),
            },
            34..=38 => Op::RemoveMember {
                org: self.org(),
                target: self.target(),
            },
            39..=45 => Op::CreateCa {
                parent: if self.rng.gen_bool(0.4) {
                    Some(self.ca())
                } else {
                    None
                },
            },
            46..=51 => Op::IssueCert { ca: self.near_ca() },
            52..=54 => Op::RevokeCert(self.near_cert()),
            55..=57 => Op::DeleteCa(self.near_ca()),
            58..=61 => Op::AdoptCa {
                ca: self.ca(),
                org: self.org(),
                cascade: self.rng.gen_bool(0.5),
            },
            62..=65 => Op::ListOrgs,
            66..=69 => Op::ViewOrg(self.org()),
            70..=73 => Op::ListMembers(self.org()),
            74..=76 => Op::ListUsers,
            77..=81 => Op::ViewUser(self.any_user()),
            82..=85 => Op::ListCas,
            86..=89 => Op::ViewCa(self.deep_ca()),
            90..=92 => Op::ListCerts,
            93..=96 => Op::ViewCert(self.cert()),
            97..=99 => Op::ListAudit,
            100..=103 => Op::ExportCaKey(self.near_ca()),
            104..=107 => Op::ExportCertKey(self.near_cert()),
            108..=110 => Op::RenameOrg {
                org: self.org(),
                name: self.org_name(),
            },
            111..=112 => Op::Logout {
                refresh: match self.rng.gen_range(0..4) {
                    0 => None,
                    1 => Some(self.any_user()),
                    _ => Some(self.actor),
                },
            },
            113..=114 => Op::Refresh,
            115 => Op::Invalidate,
            116..=117 => Op::ViewMe,
            _ => Op::ViewCa(self.deep_ca()),
        }
    }

    fn role(&mut self) -> Role {
        *[
            Role::User,
            Role::User,
            Role::User,
            Role::Admin,
            Role::Superuser,
        ]
        .choose(self.rng)
        .unwrap_or(&Role::User)
    }

    fn flags(&mut self) -> u8 {
        if self.rng.gen_bool(0.5) {
            0
        } else {
            self.rng.gen_range(0..32)
        }
    }

    fn change(&mut self) -> Change {
        let mut change = Change::default();
        match self.rng.gen_range(0..6) {
            0 => change.email = true,
            1 => change.flags = Some(self.flags()),
            2 => change.role = Some(self.role()),
            3 => change.active = Some(self.rng.gen_bool(0.5)),
            4 => change.org = Some(self.maybe_org()),
            _ => {
                change.password = Some(self.rng.gen_range(0..1000));
                change.email = self.rng.gen_bool(0.3);
            }
        }
        change
    }

    /// One of `existing` (most of the time), a deleted id, or an id that never existed.
    fn among(&mut self, existing: Vec<i64>, gone: &[i64]) -> i64 {
        let roll = self.rng.gen_range(0..20);
        if roll < 17 && !existing.is_empty() {
            return existing[self.rng.gen_range(0..existing.len())];
        }
        if roll < 19 && !gone.is_empty() {
            return gone[self.rng.gen_range(0..gone.len())];
        }
        FAR + self.rng.gen_range(0..1000)
    }

    fn org(&mut self) -> i64 {
        let existing = self.model.orgs.keys().copied().collect();
        self.among(existing, &self.gone.orgs.clone())
    }

    /// A name for a rename: an organization's (its own, or another's: 409), sometimes with
    /// blanks around it (trimmed, the same name), or a fresh one.
    fn org_name(&mut self) -> Option<String> {
        let names: Vec<String> = self.model.orgs.values().cloned().collect();
        if names.is_empty() || self.rng.gen_bool(0.4) {
            return None;
        }
        let name = names[self.rng.gen_range(0..names.len())].clone();
        if self.rng.gen_bool(0.3) {
            Some(format!("  {name} "))
        } else {
            Some(name)
        }
    }

    fn maybe_org(&mut self) -> Option<i64> {
        if self.rng.gen_bool(0.25) {
            None
        } else {
            Some(self.org())
        }
    }

    /// A user to change: oneself sometimes; never the root superuser (the observer of the
    /// audit log) unless it acts on itself.
    fn target(&mut self) -> i64 {
        if self.rng.gen_bool(0.15) {
            return self.actor;
        }
        let root = self.root;
        let existing = self
            .model
            .users
            .keys()
            .copied()
            .filter(|id| *id != root)
            .collect();
        self.among(existing, &self.gone.users.clone())
    }

    fn any_user(&mut self) -> i64 {
        let existing = self.model.users.keys().copied().collect();
        self.among(existing, &self.gone.users.clone())
    }

    fn ca(&mut self) -> i64 {
        let existing = self.model.cas.keys().copied().collect();
        self.among(existing, &self.gone.cas.clone())
    }

    /// A CA, half of the time one of the actor's organization: for a plain user, rule 7
    /// (its flags) decides the writes on it.
    fn near_ca(&mut self) -> i64 {
        let org = self.model.users.get(&self.actor).and_then(|user| user.org);
        let cas = self.model.cas.iter();
        let near: Vec<i64> = cas
            .filter(|(_, ca)| org.is_some() && ca.org == org)
            .map(|(id, _)| *id)
            .collect();
        if near.is_empty() || self.rng.gen_bool(0.5) {
            self.ca()
        } else {
            near[self.rng.gen_range(0..near.len())]
        }
    }

    /// A certificate, half of the time one of the actor's organization.
    fn near_cert(&mut self) -> i64 {
        let org = self.model.users.get(&self.actor).and_then(|user| user.org);
        let certs = self.model.certs.iter();
        let near: Vec<i64> = certs
            .filter(|(_, cert)| org.is_some() && cert.org == org)
            .map(|(id, _)| *id)
            .collect();
        if near.is_empty() || self.rng.gen_bool(0.5) {
            self.cert()
        } else {
            near[self.rng.gen_range(0..near.len())]
        }
    }

    /// A CA, often an intermediate one (to read its chain).
    fn deep_ca(&mut self) -> i64 {
        let cas = self.model.cas.iter();
        let deep: Vec<i64> = cas
            .filter(|(_, ca)| ca.parent.is_some())
            .map(|(id, _)| *id)
            .collect();
        if deep.is_empty() || self.rng.gen_bool(0.4) {
            self.ca()
        } else {
            deep[self.rng.gen_range(0..deep.len())]
        }
    }

    fn cert(&mut self) -> i64 {
        let existing = self.model.certs.keys().copied().collect();
        self.among(existing, &[])
    }
}
