//! The five capability flags of the reference server (SPEC §2) and their JSON booleans.
//!
//! The engine knows capabilities only as bit positions; this module names the five the
//! PKI server defines and is the only place that knows which bit is which.

use orgtenancy_core::{Capability, CapabilitySet};

/// May create certificate authorities (`can_create_ca`).
pub const CAN_CREATE_CA: Capability = Capability::of::<0>();
/// May issue certificates (`can_create_cert`).
pub const CAN_CREATE_CERT: Capability = Capability::of::<1>();
/// May revoke certificates (`can_revoke_cert`).
pub const CAN_REVOKE_CERT: Capability = Capability::of::<2>();
/// May export private keys (`can_export_private_key`).
pub const CAN_EXPORT_PRIVATE_KEY: Capability = Capability::of::<3>();
/// May delete certificate authorities (`can_delete_ca`).
pub const CAN_DELETE_CA: Capability = Capability::of::<4>();

/// The five flags as booleans, in the order and with the names of the JSON fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Flags {
    /// `can_create_ca`.
    pub can_create_ca: bool,
    /// `can_create_cert`.
    pub can_create_cert: bool,
    /// `can_revoke_cert`.
    pub can_revoke_cert: bool,
    /// `can_export_private_key`.
    pub can_export_private_key: bool,
    /// `can_delete_ca`.
    pub can_delete_ca: bool,
}

impl Flags {
    /// The flags held in `set` (bits the server does not define are ignored).
    pub const fn from_set(set: CapabilitySet) -> Flags {
        Flags {
            can_create_ca: set.contains(CAN_CREATE_CA),
            can_create_cert: set.contains(CAN_CREATE_CERT),
            can_revoke_cert: set.contains(CAN_REVOKE_CERT),
            can_export_private_key: set.contains(CAN_EXPORT_PRIVATE_KEY),
            can_delete_ca: set.contains(CAN_DELETE_CA),
        }
    }

    /// The set holding exactly these flags.
    pub const fn to_set(self) -> CapabilitySet {
        FlagChanges::all(self).apply(CapabilitySet::EMPTY)
    }
}

/// Requested changes to the flags: `None` leaves a flag as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FlagChanges {
    /// `can_create_ca`.
    pub can_create_ca: Option<bool>,
    /// `can_create_cert`.
    pub can_create_cert: Option<bool>,
    /// `can_revoke_cert`.
    pub can_revoke_cert: Option<bool>,
    /// `can_export_private_key`.
    pub can_export_private_key: Option<bool>,
    /// `can_delete_ca`.
    pub can_delete_ca: Option<bool>,
}

impl FlagChanges {
    /// Every flag set to its value in `flags`.
    pub const fn all(flags: Flags) -> FlagChanges {
        FlagChanges {
            can_create_ca: Some(flags.can_create_ca),
            can_create_cert: Some(flags.can_create_cert),
            can_revoke_cert: Some(flags.can_revoke_cert),
            can_export_private_key: Some(flags.can_export_private_key),
            can_delete_ca: Some(flags.can_delete_ca),
        }
    }

    /// Whether no flag is mentioned.
    pub const fn is_empty(&self) -> bool {
        self.can_create_ca.is_none()
            && self.can_create_cert.is_none()
            && self.can_revoke_cert.is_none()
            && self.can_export_private_key.is_none()
            && self.can_delete_ca.is_none()
    }

    /// `set` with the mentioned flags set or cleared.
    pub const fn apply(&self, set: CapabilitySet) -> CapabilitySet {
        let set = apply_one(set, CAN_CREATE_CA, self.can_create_ca);
        let set = apply_one(set, CAN_CREATE_CERT, self.can_create_cert);
        let set = apply_one(set, CAN_REVOKE_CERT, self.can_revoke_cert);
        let set = apply_one(set, CAN_EXPORT_PRIVATE_KEY, self.can_export_private_key);
        apply_one(set, CAN_DELETE_CA, self.can_delete_ca)
    }
}

const fn apply_one(
    set: CapabilitySet,
    capability: Capability,
    value: Option<bool>,
) -> CapabilitySet {
    match value {
        Some(present) => set.set(capability, present),
        None => set,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_round_trip_through_the_set() {
        for bits in 0u32..32 {
            let set = CapabilitySet::from_bits(bits);
            assert_eq!(Flags::from_set(set).to_set(), set);
        }
    }

    #[test]
    fn changes_touch_only_mentioned_flags() {
        let set = CapabilitySet::EMPTY.with(CAN_REVOKE_CERT);
        let changes = FlagChanges {
            can_create_ca: Some(true),
            ..FlagChanges::default()
        };
        let changed = changes.apply(set);
        assert!(changed.contains(CAN_CREATE_CA) && changed.contains(CAN_REVOKE_CERT));
        assert_eq!(FlagChanges::default().apply(set), set);
    }
}
