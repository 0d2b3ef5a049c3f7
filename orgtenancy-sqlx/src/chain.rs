//! The tamper-evident audit chain: how an entry is hashed, and how a walk over the log in id
//! order decides whether the chain is intact. Pure code; the SQL is in `chain_sql`.
//!
//! Each chained entry stores `prev_hash` (the hash of the entry before it in the chain, or 32
//! zero bytes for the first) and `hash` = SHA-256 over a fixed, length-prefixed encoding of
//! `prev_hash` and every field of the entry, its id included. So changing any field, the id,
//! or either hash breaks the entry's own hash; deleting, inserting or reordering entries
//! breaks the link of the entry after them; deleting the newest entries is seen by comparing
//! the walk's end with the chain head the store keeps in the same transactions.
//!
//! What it cannot see: someone with write access to the database who recomputes every hash
//! after an edit (there is no secret in the hash). To catch that too, record the head hash
//! the verification reports somewhere the database's writers cannot change, and compare.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

/// The length of a chain hash (SHA-256).
pub const CHAIN_HASH_LEN: usize = 32;

/// The `prev_hash` of the first chained entry.
pub(crate) const GENESIS: [u8; CHAIN_HASH_LEN] = [0; CHAIN_HASH_LEN];

/// Names the encoding, so a future change of it cannot collide with this one.
const DOMAIN: &[u8] = b"orgtenancy audit chain v1\0";

/// The fields of an entry that its hash covers (all of them, SPEC §6).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChainedFields<'a> {
    pub(crate) id: i64,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) action: &'a str,
    pub(crate) user_id: Option<i64>,
    pub(crate) username: Option<&'a str>,
    pub(crate) organization_id: Option<i64>,
    pub(crate) resource_type: Option<&'a str>,
    pub(crate) resource_id: Option<&'a str>,
    pub(crate) detail: Option<&'a str>,
}

/// A hasher fed with an unambiguous encoding: every variable-length value is prefixed by its
/// length, every optional value by a presence byte, so no two different entries encode alike.
struct Encoder(Sha256);

impl Encoder {
    fn bytes(&mut self, value: &[u8]) {
        // usize → u64 never truncates on the platforms Rust supports.
        self.0.update((value.len() as u64).to_be_bytes());
        self.0.update(value);
    }

    fn int(&mut self, value: i64) {
        self.0.update(value.to_be_bytes());
    }

    fn opt_int(&mut self, value: Option<i64>) {
        match value {
            None => self.0.update([0]),
            Some(value) => {
                self.0.update([1]);
                self.int(value);
            }
        }
    }

    fn opt_text(&mut self, value: Option<&str>) {
        match value {
            None => self.0.update([0]),
            Some(value) => {
                self.0.update([1]);
                self.bytes(value.as_bytes());
            }
        }
    }
}

/// The hash of an entry whose predecessor's hash is `prev_hash`.
pub(crate) fn entry_hash(prev_hash: &[u8], fields: &ChainedFields<'_>) -> [u8; CHAIN_HASH_LEN] {
    let mut encoder = Encoder(Sha256::new());
    encoder.0.update(DOMAIN);
    encoder.bytes(prev_hash);
    encoder.int(fields.id);
    // Stored with microsecond precision on both backends, so this reads back exactly.
    encoder.int(fields.created_at.timestamp_micros());
    encoder.bytes(fields.action.as_bytes());
    encoder.opt_int(fields.user_id);
    encoder.opt_text(fields.username);
    encoder.opt_int(fields.organization_id);
    encoder.opt_text(fields.resource_type);
    encoder.opt_text(fields.resource_id);
    encoder.opt_text(fields.detail);
    encoder.0.finalize().into()
}

/// Lowercase hexadecimal, for reports.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut text, byte| {
        let _ = write!(text, "{byte:02x}");
        text
    })
}

/// Why the chain is broken at an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChainBreakReason {
    /// The entry's fields and `prev_hash` do not hash to its stored `hash`: the entry (any
    /// field, its id, or a hash) was changed.
    HashMismatch,
    /// The entry's `prev_hash` is not the hash of the chained entry before it: an entry before
    /// it was deleted, inserted or moved (or this one is not where it was written).
    PrevHashMismatch,
    /// The entry has no hash although the chain had started before it.
    Unhashed,
    /// The chain does not end where the chain head says: the newest entries were deleted, or
    /// the head was changed (the break's id is the entry the head names).
    HeadMismatch,
}

impl ChainBreakReason {
    /// A stable snake_case code (`hash_mismatch`, …).
    pub fn code(self) -> &'static str {
        match self {
            ChainBreakReason::HashMismatch => "hash_mismatch",
            ChainBreakReason::PrevHashMismatch => "prev_hash_mismatch",
            ChainBreakReason::Unhashed => "unhashed",
            ChainBreakReason::HeadMismatch => "head_mismatch",
        }
    }

    /// What it means, for a person.
    pub fn describe(self) -> &'static str {
        match self {
            ChainBreakReason::HashMismatch => "the entry does not match its hash: it was changed",
            ChainBreakReason::PrevHashMismatch => {
                "the entry does not link to the entry before it: an entry was deleted, inserted \
                 or moved"
            }
            ChainBreakReason::Unhashed => "the entry has no hash although the chain had started",
            ChainBreakReason::HeadMismatch => {
                "the chain does not end at the recorded head: the newest entries were deleted or \
                 the head was changed"
            }
        }
    }
}

/// The first place where the chain is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChainBreak {
    /// The audit entry at which the chain breaks (for a deleted entry: the one after it).
    pub id: i64,
    /// Why.
    pub reason: ChainBreakReason,
}

/// The result of [`crate::Store::verify_audit_chain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditChainReport {
    /// Whether the whole chain is intact (`first_broken` is `None`).
    pub ok: bool,
    /// Chained entries found intact (up to the first break).
    pub entries_checked: u64,
    /// Entries written before the chain existed (before its migration); not covered.
    pub unchained_entries: u64,
    /// The newest chained entry according to the chain head, if any.
    pub head_id: Option<i64>,
    /// Its hash (hex; 64 zeros before the first chained entry). Record it outside the
    /// database to detect a later rewrite of the whole chain.
    pub head_hash: String,
    /// The first break, in id order.
    pub first_broken: Option<ChainBreak>,
}

/// The chain head as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) first_id: Option<i64>,
    pub(crate) last_id: Option<i64>,
    pub(crate) last_hash: Vec<u8>,
}

/// One stored entry with its chain columns, as the walk sees it.
pub(crate) struct Link<'a> {
    pub(crate) fields: ChainedFields<'a>,
    pub(crate) prev_hash: Option<&'a [u8]>,
    pub(crate) hash: Option<&'a [u8]>,
}

/// The state of a walk over the log in id order.
pub(crate) struct Walk {
    first_chained: Option<i64>,
    expected_prev: Vec<u8>,
    last_id: Option<i64>,
    checked: u64,
    unchained: u64,
}

impl Walk {
    /// A walk that knows where the head says the chain starts.
    pub(crate) fn new(head: Option<&Head>) -> Walk {
        Walk {
            first_chained: head.and_then(|head| head.first_id),
            expected_prev: GENESIS.to_vec(),
            last_id: None,
            checked: 0,
            unchained: 0,
        }
    }

    /// Checks the next entry; the first error is the chain's first break.
    pub(crate) fn step(&mut self, link: &Link<'_>) -> Result<(), ChainBreak> {
        let id = link.fields.id;
        let broken = |reason| ChainBreak { id, reason };
        let (Some(prev_hash), Some(hash)) = (link.prev_hash, link.hash) else {
            let before_chain = self.first_chained.is_none_or(|first| id < first);
            if self.last_id.is_none() && before_chain {
                self.unchained += 1;
                return Ok(());
            }
            return Err(broken(ChainBreakReason::Unhashed));
        };
        if entry_hash(prev_hash, &link.fields).as_slice() != hash {
            return Err(broken(ChainBreakReason::HashMismatch));
        }
        if prev_hash != self.expected_prev.as_slice() {
            return Err(broken(ChainBreakReason::PrevHashMismatch));
        }
        hash.clone_into(&mut self.expected_prev);
        self.last_id = Some(id);
        self.checked += 1;
        Ok(())
    }

    /// The report once every entry up to the head was walked (`broken`: the first break).
    pub(crate) fn finish(
        self,
        head: Option<&Head>,
        broken: Option<ChainBreak>,
    ) -> AuditChainReport {
        let first_broken = broken.or_else(|| self.head_break(head));
        AuditChainReport {
            ok: first_broken.is_none(),
            entries_checked: self.checked,
            unchained_entries: self.unchained,
            head_id: head.and_then(|head| head.last_id),
            head_hash: head.map_or_else(|| hex(&GENESIS), |head| hex(&head.last_hash)),
            first_broken,
        }
    }

    /// A break when the walk did not end at the head (or the head row is gone).
    fn head_break(&self, head: Option<&Head>) -> Option<ChainBreak> {
        let at_head = head.is_some_and(|head| {
            head.last_id == self.last_id && head.last_hash == self.expected_prev
        });
        if at_head {
            return None;
        }
        Some(ChainBreak {
            id: head
                .and_then(|head| head.last_id)
                .or(self.last_id)
                .unwrap_or(0),
            reason: ChainBreakReason::HeadMismatch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(id: i64) -> ChainedFields<'static> {
        ChainedFields {
            id,
            created_at: DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap_or_default(),
            action: "org_create",
            user_id: Some(1),
            username: Some("root"),
            organization_id: Some(2),
            resource_type: Some("organization"),
            resource_id: Some("2"),
            detail: Some("acme"),
        }
    }

    #[test]
    fn every_field_and_the_predecessor_change_the_hash() {
        let base = fields(7);
        let reference = entry_hash(&GENESIS, &base);
        let variants = [
            ChainedFields { id: 8, ..base },
            ChainedFields {
                created_at: base.created_at + chrono::Duration::microseconds(1),
                ..base
            },
            ChainedFields {
                action: "org_delete",
                ..base
            },
            ChainedFields {
                user_id: None,
                ..base
            },
            ChainedFields {
                username: Some("rooT"),
                ..base
            },
            ChainedFields {
                organization_id: Some(3),
                ..base
            },
            ChainedFields {
                resource_type: None,
                ..base
            },
            ChainedFields {
                resource_id: Some("20"),
                ..base
            },
            ChainedFields {
                detail: Some(""),
                ..base
            },
        ];
        for variant in variants {
            assert_ne!(entry_hash(&GENESIS, &variant), reference, "{variant:?}");
        }
        assert_ne!(entry_hash(&[1; 32], &base), reference);
    }

    #[test]
    fn adjacent_text_fields_cannot_trade_characters() {
        let base = fields(7);
        let one = ChainedFields {
            resource_type: Some("ab"),
            resource_id: Some("c"),
            ..base
        };
        let other = ChainedFields {
            resource_type: Some("a"),
            resource_id: Some("bc"),
            ..base
        };
        assert_ne!(entry_hash(&GENESIS, &one), entry_hash(&GENESIS, &other));
        let missing = ChainedFields {
            detail: None,
            ..base
        };
        let empty = ChainedFields {
            detail: Some(""),
            ..base
        };
        assert_ne!(entry_hash(&GENESIS, &missing), entry_hash(&GENESIS, &empty));
    }

    #[test]
    fn hex_is_lowercase_and_padded() {
        assert_eq!(hex(&[0, 10, 255]), "000aff");
    }
}
