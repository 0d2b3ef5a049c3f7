//! The capability catalog: the five flags of the reference server (SPEC §2), defined once.
//!
//! The engine knows capabilities only as bit positions. [`with_capability_catalog!`] holds the
//! one list of the server's flags — constant, bit, JSON field name, description — and hands it
//! to the macros that generate everything else from it: the constants and [`CATALOG`] here,
//! [`Flags`] and [`FlagChanges`], the flag fields of the user schemas (`schema.rs`, through
//! [`flagged_object!`] and [`flag_literal!`]), and so the AuthZEN action names and the test
//! tables, which read [`CATALOG`]. Adding a flag is one line in the list.

use orgtenancy_core::{Capability, CapabilitySet};

/// Hands the catalog to `$callback!`, as `[ CONST = bit, json_field, "description"; … ]`
/// followed by the caller's own tokens.
macro_rules! with_capability_catalog {
    ($callback:ident! { $($args:tt)* }) => {
        $callback! {
            [
                CAN_CREATE_CA = 0, can_create_ca, "May create certificate authorities.";
                CAN_CREATE_CERT = 1, can_create_cert, "May issue certificates.";
                CAN_REVOKE_CERT = 2, can_revoke_cert, "May revoke certificates.";
                CAN_EXPORT_PRIVATE_KEY = 3, can_export_private_key, "May export private keys.";
                CAN_DELETE_CA = 4, can_delete_ca, "May delete certificate authorities.";
            ]
            $($args)*
        }
    };
}
pub(crate) use with_capability_catalog;

/// One entry of the catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapabilityFlag {
    /// The engine's capability (its bit).
    pub capability: Capability,
    /// The JSON field of the user schemas, and the AuthZEN action name.
    pub name: &'static str,
    /// What it permits, for people (the schemas' descriptions).
    pub description: &'static str,
}

impl CapabilityFlag {
    /// The flag whose JSON name is `name`.
    pub fn named(name: &str) -> Option<CapabilityFlag> {
        CATALOG.iter().copied().find(|flag| flag.name == name)
    }
}

macro_rules! define_catalog {
    ([ $($konst:ident = $bit:literal, $field:ident, $desc:literal;)* ]) => {
        $(
            #[doc = $desc]
            pub const $konst: Capability = Capability::of::<$bit>();
        )*

        /// Every flag of the server, in bit order.
        pub const CATALOG: &[CapabilityFlag] = &[
            $(CapabilityFlag { capability: $konst, name: stringify!($field), description: $desc },)*
        ];

        /// The flags as booleans, with the names of the JSON fields.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct Flags {
            $(#[doc = $desc] pub $field: bool,)*
        }

        impl Flags {
            /// The flags held in `set` (bits the server does not define are ignored).
            pub const fn from_set(set: CapabilitySet) -> Flags {
                Flags { $($field: set.contains($konst),)* }
            }

            /// The set holding exactly these flags.
            pub const fn to_set(self) -> CapabilitySet {
                FlagChanges::all(self).apply(CapabilitySet::EMPTY)
            }
        }

        /// Requested changes to the flags: `None` leaves a flag as it is.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct FlagChanges {
            $(#[doc = $desc] pub $field: Option<bool>,)*
        }

        impl FlagChanges {
            /// Every flag set to its value in `flags`.
            pub const fn all(flags: Flags) -> FlagChanges {
                FlagChanges { $($field: Some(flags.$field),)* }
            }

            /// Whether no flag is mentioned.
            pub const fn is_empty(&self) -> bool {
                true $(&& self.$field.is_none())*
            }

            /// `set` with the mentioned flags set or cleared.
            pub const fn apply(&self, set: CapabilitySet) -> CapabilitySet {
                $(let set = apply_one(set, $konst, self.$field);)*
                set
            }
        }
    };
}

with_capability_catalog!(define_catalog! {});

/// A schema struct with the catalog's flag fields appended: `out` (booleans, as the server
/// answers), `create` (booleans defaulting to false, with `flags()`), `update` (optional
/// booleans, with `flag_changes()`).
macro_rules! flagged_object {
    ([ $($konst:ident = $bit:literal, $field:ident, $desc:literal;)* ]
     out $(#[$meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        pub struct $name { $($body)* $(#[doc = $desc] pub $field: bool,)* }
    };
    ([ $($konst:ident = $bit:literal, $field:ident, $desc:literal;)* ]
     create $(#[$meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        pub struct $name { $($body)* $(#[doc = $desc] #[oai(default)] pub $field: bool,)* }

        impl $name {
            /// The requested flags.
            pub fn flags(&self) -> $crate::capabilities::Flags {
                $crate::capabilities::Flags { $($field: self.$field,)* }
            }
        }
    };
    ([ $($konst:ident = $bit:literal, $field:ident, $desc:literal;)* ]
     update $(#[$meta:meta])* pub struct $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        pub struct $name { $($body)* $(#[doc = $desc] pub $field: Option<bool>,)* }

        impl $name {
            /// The requested flag changes.
            pub fn flag_changes(&self) -> $crate::capabilities::FlagChanges {
                $crate::capabilities::FlagChanges { $($field: self.$field,)* }
            }
        }
    };
}
pub(crate) use flagged_object;

/// A struct literal of a [`flagged_object!`] type: the given fields, and the flag fields from
/// `bools` (a [`Flags`]) or `changes` (a [`FlagChanges`]).
macro_rules! flag_literal {
    ([ $($konst:ident = $bit:literal, $field:ident, $desc:literal;)* ]
     $name:ident { $($body:tt)* } bools $flags:expr) => {{
        let flags: $crate::capabilities::Flags = $flags;
        $name { $($body)* $($field: flags.$field,)* }
    }};
    ([ $($konst:ident = $bit:literal, $field:ident, $desc:literal;)* ]
     $name:ident { $($body:tt)* } changes $changes:expr) => {{
        let changes: $crate::capabilities::FlagChanges = $changes;
        $name { $($body)* $($field: changes.$field,)* }
    }};
}
pub(crate) use flag_literal;

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
        assert!(FlagChanges::default().is_empty() && !changes.is_empty());
    }

    #[test]
    fn the_catalog_names_each_bit_once_in_order() {
        let bits: Vec<u8> = CATALOG.iter().map(|flag| flag.capability.bit()).collect();
        assert_eq!(bits, (0..5).collect::<Vec<u8>>());
        assert_eq!(
            CapabilityFlag::named("can_revoke_cert").map(|flag| flag.capability),
            Some(CAN_REVOKE_CERT)
        );
        assert_eq!(CapabilityFlag::named("read"), None);
        // Each flag is its own field of `Flags`.
        for flag in CATALOG {
            let one = Flags::from_set(CapabilitySet::EMPTY.with(flag.capability));
            assert_eq!(one.to_set(), CapabilitySet::EMPTY.with(flag.capability));
        }
    }
}
