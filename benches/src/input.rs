//! The shared input: one §3 resource question, small enough to enumerate.

use orgtenancy_core::{
    Action, Capability, CapabilitySet, OrgId, Principal, Resource, Role, UserId,
};

use crate::{OTHER_USER_ID, PRINCIPAL_ID};

/// One of the two organizations of the input space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Org {
    /// Organization `100`.
    A,
    /// Organization `200`.
    B,
}

impl Org {
    /// The organization's id.
    pub const fn id(self) -> i64 {
        match self {
            Org::A => 100,
            Org::B => 200,
        }
    }
}

/// Who created the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Creator {
    /// No recorded creator.
    Nobody,
    /// The principal asking.
    Principal,
    /// Another user ([`OTHER_USER_ID`]).
    Other,
}

impl Creator {
    /// The creator's user id, if any.
    pub const fn id(self) -> Option<i64> {
        match self {
            Creator::Nobody => None,
            Creator::Principal => Some(PRINCIPAL_ID),
            Creator::Other => Some(OTHER_USER_ID),
        }
    }
}

/// The reference server's five capability flags (SPEC.md §2), in bit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flag {
    /// `can_create_ca`, bit 0.
    CreateCa,
    /// `can_create_cert`, bit 1.
    CreateCert,
    /// `can_revoke_cert`, bit 2.
    RevokeCert,
    /// `can_export_private_key`, bit 3.
    ExportPrivateKey,
    /// `can_delete_ca`, bit 4.
    DeleteCa,
}

impl Flag {
    /// Every flag, in bit order.
    pub const ALL: [Flag; 5] = [
        Flag::CreateCa,
        Flag::CreateCert,
        Flag::RevokeCert,
        Flag::ExportPrivateKey,
        Flag::DeleteCa,
    ];

    /// The flag's name, as a user's flag set holds it.
    pub const fn name(self) -> &'static str {
        match self {
            Flag::CreateCa => "can_create_ca",
            Flag::CreateCert => "can_create_cert",
            Flag::RevokeCert => "can_revoke_cert",
            Flag::ExportPrivateKey => "can_export_private_key",
            Flag::DeleteCa => "can_delete_ca",
        }
    }

    /// The name of the write action that needs this flag.
    pub const fn action_name(self) -> &'static str {
        match self {
            Flag::CreateCa => "create_ca",
            Flag::CreateCert => "create_cert",
            Flag::RevokeCert => "revoke_cert",
            Flag::ExportPrivateKey => "export_private_key",
            Flag::DeleteCa => "delete_ca",
        }
    }

    /// The orgtenancy-core capability of this flag.
    pub const fn capability(self) -> Capability {
        match self {
            Flag::CreateCa => Capability::of::<0>(),
            Flag::CreateCert => Capability::of::<1>(),
            Flag::RevokeCert => Capability::of::<2>(),
            Flag::ExportPrivateKey => Capability::of::<3>(),
            Flag::DeleteCa => Capability::of::<4>(),
        }
    }
}

/// A subset of the five flags: bit `i` stands for `Flag::ALL[i]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FlagSet(u8);

impl FlagSet {
    /// The set whose mask is `bits` (only the low five bits count).
    pub const fn from_bits(bits: u8) -> FlagSet {
        FlagSet(bits & 0b1_1111)
    }

    /// The mask.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Whether `flag` is in the set.
    pub const fn contains(self, flag: Flag) -> bool {
        self.0 & (1 << flag.capability().bit()) != 0
    }

    /// The flags in the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = Flag> {
        Flag::ALL
            .into_iter()
            .filter(move |flag| self.contains(*flag))
    }

    /// The same set as an orgtenancy-core capability set: the same mask, because each
    /// flag's capability is the bit of its position (as the server stores the column).
    pub const fn capabilities(self) -> CapabilitySet {
        CapabilitySet::from_bits(self.0 as u32)
    }
}

/// What the principal wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Act {
    /// Read the resource.
    Read,
    /// A write that needs `Flag` for a plain user.
    Write(Flag),
}

impl Act {
    /// Reading, then the five writes.
    pub const ALL: [Act; 6] = [
        Act::Read,
        Act::Write(Flag::CreateCa),
        Act::Write(Flag::CreateCert),
        Act::Write(Flag::RevokeCert),
        Act::Write(Flag::ExportPrivateKey),
        Act::Write(Flag::DeleteCa),
    ];

    /// The action's name in the Cedar and casbin encodings.
    pub const fn name(self) -> &'static str {
        match self {
            Act::Read => "read",
            Act::Write(flag) => flag.action_name(),
        }
    }

    /// The orgtenancy-core action.
    pub const fn action(self) -> Action {
        match self {
            Act::Read => Action::Read,
            Act::Write(flag) => Action::Write(flag.capability()),
        }
    }
}

/// One §3 question: the principal's facts, the resource's facts and the act.
/// The principal is always user [`PRINCIPAL_ID`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Input {
    /// The principal's role.
    pub role: Role,
    /// Whether the principal's account is active.
    pub active: bool,
    /// The principal's organization.
    pub principal_org: Option<Org>,
    /// The resource's organization.
    pub resource_org: Option<Org>,
    /// Who created the resource.
    pub creator: Creator,
    /// What the principal wants to do.
    pub act: Act,
    /// The principal's capability flags.
    pub flags: FlagSet,
}

const ORGS: [Option<Org>; 3] = [None, Some(Org::A), Some(Org::B)];
const CREATORS: [Creator; 3] = [Creator::Nobody, Creator::Principal, Creator::Other];

impl Input {
    /// The number of inputs [`Input::all`] yields: 3 roles × 2 × 3 × 3 × 3 creators × 6 acts
    /// × 32 flag subsets.
    pub const SPACE: usize = 3 * 2 * 3 * 3 * 3 * 6 * 32;

    /// Every input of the finite space, once each.
    pub fn all() -> impl Iterator<Item = Input> {
        Role::ALL.into_iter().flat_map(|role| {
            [true, false].into_iter().flat_map(move |active| {
                ORGS.into_iter().flat_map(move |principal_org| {
                    ORGS.into_iter().flat_map(move |resource_org| {
                        CREATORS.into_iter().flat_map(move |creator| {
                            Act::ALL.into_iter().flat_map(move |act| {
                                (0u8..32).map(move |bits| Input {
                                    role,
                                    active,
                                    principal_org,
                                    resource_org,
                                    creator,
                                    act,
                                    flags: FlagSet::from_bits(bits),
                                })
                            })
                        })
                    })
                })
            })
        })
    }

    /// `len` inputs drawn by a fixed generator from `seed`: users, admins and superusers in the
    /// ratio 3:2:1, nine in ten principals active, organizations, creators and flag subsets
    /// uniform, reads half the acts. The same seed gives the same mix.
    pub fn mix(len: usize, seed: u64) -> Vec<Input> {
        let mut rng = Lcg(seed);
        (0..len)
            .map(|_| {
                let role = match rng.below(6) {
                    0 => Role::Superuser,
                    1 | 2 => Role::Admin,
                    _ => Role::User,
                };
                let active = rng.below(10) != 0;
                let principal_org = pick(&ORGS, rng.below(3)).unwrap_or(None);
                let resource_org = pick(&ORGS, rng.below(3)).unwrap_or(None);
                let creator = pick(&CREATORS, rng.below(3)).unwrap_or(Creator::Nobody);
                let act = if rng.below(2) == 0 {
                    Act::Read
                } else {
                    pick(&Flag::ALL, rng.below(5)).map_or(Act::Read, Act::Write)
                };
                let flags = FlagSet::from_bits(u8::try_from(rng.below(32)).unwrap_or(0));
                Input {
                    role,
                    active,
                    principal_org,
                    resource_org,
                    creator,
                    act,
                    flags,
                }
            })
            .collect()
    }

    /// The orgtenancy-core principal.
    pub fn principal(&self) -> Principal {
        Principal::new(
            UserId(PRINCIPAL_ID),
            self.role,
            self.principal_org.map(|org| OrgId(org.id())),
        )
        .with_capabilities(self.flags.capabilities())
        .with_active(self.active)
    }

    /// The orgtenancy-core resource.
    pub fn resource(&self) -> Resource {
        Resource::new(
            self.resource_org.map(|org| OrgId(org.id())),
            self.creator.id().map(UserId),
        )
    }
}

fn pick<T: Copy>(items: &[T], index: u64) -> Option<T> {
    usize::try_from(index)
        .ok()
        .and_then(|i| items.get(i))
        .copied()
}

/// A small deterministic generator (Knuth's MMIX constants), so every run sees the same mix.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}
