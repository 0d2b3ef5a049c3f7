//! The three roles of the hierarchy.

/// A user's role. The order `User < Admin < Superuser` is the order of power:
/// promoting a principal along it never turns an allow into a deny.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "lowercase")
)]
pub enum Role {
    /// Reads inside its own organization; writes need capability flags.
    User,
    /// Full access inside its own organization.
    Admin,
    /// Everything, in every organization.
    Superuser,
}

impl Role {
    /// Every role, weakest first.
    pub const ALL: [Role; 3] = [Role::User, Role::Admin, Role::Superuser];

    /// The lowercase name used on the wire and in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
            Role::Superuser => "superuser",
        }
    }

    /// Parses the lowercase name; anything else is `None`.
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            "superuser" => Some(Role::Superuser),
            _ => None,
        }
    }
}

impl core::fmt::Display for Role {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}
