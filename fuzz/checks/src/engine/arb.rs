//! The engine target's inputs: arbitrary principals, resources, actions and acts, drawn so that
//! ids collide often.

use arbitrary::Arbitrary;
use orgtenancy_core::{
    Action, Capability, CapabilitySet, OrgAct, OrgId, Principal, Resource, Role, UserAct,
    UserChange, UserId,
};

/// An id from a small, collision-prone set that includes the extremes of `i64`.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct SmallId(u8);

impl SmallId {
    /// The id it stands for.
    pub fn get(self) -> i64 {
        match self.0 % 8 {
            5 => -1,
            6 => i64::MAX,
            7 => i64::MIN,
            n => i64::from(n),
        }
    }
}

/// A role, drawn uniformly.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum ArbRole {
    /// `user`.
    User,
    /// `admin`.
    Admin,
    /// `superuser`.
    Superuser,
}

impl From<ArbRole> for Role {
    fn from(role: ArbRole) -> Role {
        match role {
            ArbRole::User => Role::User,
            ArbRole::Admin => Role::Admin,
            ArbRole::Superuser => Role::Superuser,
        }
    }
}

/// A principal (also used for the target of organization and user acts).
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct ArbPrincipal {
    /// Its id.
    pub id: SmallId,
    /// Its role.
    pub role: ArbRole,
    /// Its organization.
    pub organization: Option<SmallId>,
    /// Its capability mask.
    pub capabilities: u32,
    /// Whether it is active.
    pub active: bool,
}

impl ArbPrincipal {
    /// The engine's principal.
    pub fn get(self) -> Principal {
        Principal::new(
            UserId(self.id.get()),
            self.role.into(),
            self.organization.map(|o| OrgId(o.get())),
        )
        .with_capabilities(CapabilitySet::from_bits(self.capabilities))
        .with_active(self.active)
    }
}

/// A resource.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct ArbResource {
    /// Its organization.
    pub organization: Option<SmallId>,
    /// Its creator.
    pub creator: Option<SmallId>,
}

impl ArbResource {
    /// The engine's resource.
    pub fn get(self) -> Resource {
        Resource::new(
            self.organization.map(|o| OrgId(o.get())),
            self.creator.map(|u| UserId(u.get())),
        )
    }
}

/// A capability bit; any `u8`, reduced below [`Capability::MAX`].
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct ArbCapability(u8);

impl ArbCapability {
    /// The capability.
    pub fn get(self) -> Capability {
        match Capability::new(self.0 % Capability::MAX) {
            Some(capability) => capability,
            None => Capability::of::<0>(),
        }
    }
}

/// An action on a resource.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum ArbAction {
    /// Read.
    Read,
    /// A write naming a capability.
    Write(ArbCapability),
}

impl ArbAction {
    /// The engine's action.
    pub fn get(self) -> Action {
        match self {
            ArbAction::Read => Action::Read,
            ArbAction::Write(capability) => Action::Write(capability.get()),
        }
    }
}

/// An organization act.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum ArbOrgAct {
    /// Create.
    Create,
    /// List.
    List,
    /// View.
    View(SmallId),
    /// Update.
    Update(SmallId),
    /// Delete.
    Delete(SmallId),
    /// List members.
    ListMembers(SmallId),
    /// Add a member.
    AddMember(SmallId, ArbPrincipal),
    /// Remove a member.
    RemoveMember(SmallId, ArbPrincipal),
    /// Read the audit log.
    ReadAuditLog,
    /// Read one organization's audit log.
    ReadOrganizationAuditLog(SmallId),
    /// Verify the audit chain.
    VerifyAuditChain,
    /// Manage an organization's members.
    ManageMembers(SmallId),
    /// Move resources into an organization.
    MoveResources(SmallId),
}

impl ArbOrgAct {
    /// The engine's act.
    pub fn get(self) -> OrgAct {
        let org = |id: SmallId| OrgId(id.get());
        match self {
            ArbOrgAct::Create => OrgAct::Create,
            ArbOrgAct::List => OrgAct::List,
            ArbOrgAct::View(id) => OrgAct::View(org(id)),
            ArbOrgAct::Update(id) => OrgAct::Update(org(id)),
            ArbOrgAct::Delete(id) => OrgAct::Delete(org(id)),
            ArbOrgAct::ListMembers(id) => OrgAct::ListMembers(org(id)),
            ArbOrgAct::AddMember(id, user) => OrgAct::AddMember {
                organization: org(id),
                user: user.get(),
            },
            ArbOrgAct::RemoveMember(id, user) => OrgAct::RemoveMember {
                organization: org(id),
                user: user.get(),
            },
            ArbOrgAct::ReadAuditLog => OrgAct::ReadAuditLog,
            ArbOrgAct::ReadOrganizationAuditLog(id) => OrgAct::ReadOrganizationAuditLog(org(id)),
            ArbOrgAct::VerifyAuditChain => OrgAct::VerifyAuditChain,
            ArbOrgAct::ManageMembers(id) => OrgAct::ManageMembers(org(id)),
            ArbOrgAct::MoveResources(id) => OrgAct::MoveResources(org(id)),
        }
    }

    /// The organization the act is about, if it is about one.
    pub fn organization(self) -> Option<OrgId> {
        match self {
            ArbOrgAct::View(id)
            | ArbOrgAct::Update(id)
            | ArbOrgAct::Delete(id)
            | ArbOrgAct::ListMembers(id)
            | ArbOrgAct::AddMember(id, _)
            | ArbOrgAct::RemoveMember(id, _)
            | ArbOrgAct::ReadOrganizationAuditLog(id)
            | ArbOrgAct::ManageMembers(id)
            | ArbOrgAct::MoveResources(id) => Some(OrgId(id.get())),
            ArbOrgAct::Create
            | ArbOrgAct::List
            | ArbOrgAct::ReadAuditLog
            | ArbOrgAct::VerifyAuditChain => None,
        }
    }
}

/// A user change.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub struct ArbChange {
    /// New email.
    pub email: bool,
    /// New password.
    pub password: bool,
    /// New capabilities.
    pub capabilities: Option<u32>,
    /// New role.
    pub role: Option<ArbRole>,
    /// New active state.
    pub active: Option<bool>,
    /// New organization.
    pub organization: Option<Option<SmallId>>,
}

impl ArbChange {
    /// The engine's change.
    pub fn get(self) -> UserChange {
        let mut change = UserChange::NONE;
        change.email = self.email;
        change.password = self.password;
        change.capabilities = self.capabilities.map(CapabilitySet::from_bits);
        change.role = self.role.map(Role::from);
        change.active = self.active;
        change.organization = self.organization.map(|o| o.map(|o| OrgId(o.get())));
        change
    }
}

/// A user act.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum ArbUserAct {
    /// Create.
    Create {
        /// Role of the new user.
        role: ArbRole,
        /// Its organization.
        organization: Option<SmallId>,
        /// Whether the system is empty.
        first_user: bool,
    },
    /// List.
    List,
    /// View.
    View(ArbPrincipal),
    /// Update.
    Update(ArbPrincipal, ArbChange),
    /// Delete.
    Delete(ArbPrincipal),
}

impl ArbUserAct {
    /// The engine's act.
    pub fn get(self) -> UserAct {
        match self {
            ArbUserAct::Create {
                role,
                organization,
                first_user,
            } => UserAct::Create {
                role: role.into(),
                organization: organization.map(|o| OrgId(o.get())),
                first_user,
            },
            ArbUserAct::List => UserAct::List,
            ArbUserAct::View(user) => UserAct::View(user.get()),
            ArbUserAct::Update(user, change) => UserAct::Update {
                user: user.get(),
                change: change.get(),
            },
            ArbUserAct::Delete(user) => UserAct::Delete(user.get()),
        }
    }
}
