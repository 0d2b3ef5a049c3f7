//! Capabilities: write permissions that a plain `user` may be granted one by one.
//!
//! The engine does not know what a capability means. An application names its own
//! (up to 32) as constants and stores a [`CapabilitySet`] per user:
//!
//! ```
//! use orgtenancy_core::{Capability, CapabilitySet};
//!
//! const PUBLISH: Capability = Capability::of::<0>();
//! const MODERATE: Capability = Capability::of::<1>();
//!
//! let granted = CapabilitySet::EMPTY.with(PUBLISH);
//! assert!(granted.contains(PUBLISH));
//! assert!(!granted.contains(MODERATE));
//! ```

/// One capability: a bit position in `0..32` chosen by the application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Capability(u8);

impl Capability {
    /// The largest number of distinct capabilities an application can declare.
    pub const MAX: u8 = 32;

    /// The capability at bit `BIT`; a `BIT` of 32 or more is a compile-time error.
    pub const fn of<const BIT: u8>() -> Capability {
        const { assert!(BIT < Capability::MAX, "capability bit must be below 32") };
        Capability(BIT)
    }

    /// The capability at `bit`, or `None` when `bit` is 32 or more.
    pub const fn new(bit: u8) -> Option<Capability> {
        if bit < Self::MAX {
            Some(Capability(bit))
        } else {
            None
        }
    }

    /// The bit position of this capability.
    pub const fn bit(self) -> u8 {
        self.0
    }

    const fn mask(self) -> u32 {
        1u32 << (self.0 as u32 % 32)
    }
}

/// A set of capabilities, stored as a 32-bit mask so it is `Copy` and fits one database column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(transparent)
)]
pub struct CapabilitySet(u32);

impl CapabilitySet {
    /// No capabilities.
    pub const EMPTY: CapabilitySet = CapabilitySet(0);

    /// The set whose mask is `bits` (as stored in a database column).
    pub const fn from_bits(bits: u32) -> CapabilitySet {
        CapabilitySet(bits)
    }

    /// The mask, for storage.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether `capability` is in the set.
    pub const fn contains(self, capability: Capability) -> bool {
        self.0 & capability.mask() != 0
    }

    /// The set with `capability` added.
    #[must_use]
    pub const fn with(self, capability: Capability) -> CapabilitySet {
        CapabilitySet(self.0 | capability.mask())
    }

    /// The set with `capability` removed.
    #[must_use]
    pub const fn without(self, capability: Capability) -> CapabilitySet {
        CapabilitySet(self.0 & !capability.mask())
    }

    /// The set with `capability` present exactly when `present` is true.
    #[must_use]
    pub const fn set(self, capability: Capability, present: bool) -> CapabilitySet {
        if present {
            self.with(capability)
        } else {
            self.without(capability)
        }
    }

    /// Whether every capability of `self` is also in `other`.
    pub const fn is_subset_of(self, other: CapabilitySet) -> bool {
        self.0 & !other.0 == 0
    }
}

impl FromIterator<Capability> for CapabilitySet {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Self {
        iter.into_iter()
            .fold(CapabilitySet::EMPTY, CapabilitySet::with)
    }
}
