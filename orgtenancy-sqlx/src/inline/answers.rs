//! Answers of the inline reads, kept while nothing has been committed: [`Answers`].
//!
//! Every answer is kept under the [`Mark`] (the WAL index's header) taken *before* its
//! statement ran, and given again only while the database's mark is still that one. A
//! statement's snapshot begins after the mark was taken, so while the mark is unchanged no
//! transaction has committed since before the answer was read: the answer is the database's
//! answer now. The first commit of any connection, in this process or another, changes the
//! mark, and every kept answer is dropped. Nothing outlives the transaction that changed its
//! rows, and no write path has to remember to invalidate anything.

use std::{
    any::{Any, TypeId},
    collections::HashMap,
    sync::{Arc, Mutex},
};

use super::commits::Mark;

/// Rows kept at most (an answer of no row counts as one); all are dropped when full. A bound
/// on memory (a few MiB of users), not a policy: under a steady read load the same few
/// thousand answers come back.
const MAX_ROWS: usize = 8192;

/// One statement: the row type asked for, and the statement's text and values.
pub(crate) type Key = (TypeId, String);

/// The key of `text` with `values`, read as rows of `R`.
pub(crate) fn key<R: 'static>(text: &str, values: &[rusqlite::types::Value]) -> Key {
    // `Debug` quotes and escapes text values, so different values give different keys.
    (TypeId::of::<R>(), format!("{text}\u{0}{values:?}"))
}

type Answer = Arc<dyn Any + Send + Sync>;

#[derive(Default)]
struct Kept {
    mark: Option<Mark>,
    answers: HashMap<Key, Answer>,
    rows: usize,
}

/// The kept answers of one database.
#[derive(Default)]
pub(crate) struct Answers {
    kept: Mutex<Kept>,
}

impl std::fmt::Debug for Answers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answers").finish_non_exhaustive()
    }
}

impl Answers {
    /// The answer kept for `key` if the database's mark is still `now`.
    pub(crate) fn get<T: Clone + 'static>(&self, now: Mark, key: &Key) -> Option<T> {
        let kept = self.kept.lock().ok()?;
        if kept.mark != Some(now) {
            return None;
        }
        kept.answers.get(key)?.downcast_ref::<T>().cloned()
    }

    /// Keeps `answer` (`rows` rows), read by a statement that began after the mark `before`
    /// was taken.
    pub(crate) fn put<T: Send + Sync + 'static>(
        &self,
        before: Mark,
        key: Key,
        rows: usize,
        answer: T,
    ) {
        let rows = rows.max(1);
        if rows > MAX_ROWS {
            return;
        }
        let Ok(mut kept) = self.kept.lock() else {
            return;
        };
        if kept.mark != Some(before) || kept.rows + rows > MAX_ROWS {
            kept.answers.clear();
            kept.rows = 0;
            kept.mark = Some(before);
        }
        kept.rows += rows;
        kept.answers.insert(key, Arc::new(answer));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mark(byte: u8) -> Mark {
        Mark::for_tests(byte)
    }

    #[test]
    fn an_answer_is_given_only_under_its_mark() {
        let answers = Answers::default();
        let key = key::<i64>("SELECT ?", &[rusqlite::types::Value::Integer(1)]);
        answers.put(mark(1), key.clone(), 1, 10_i64);
        assert_eq!(answers.get::<i64>(mark(1), &key), Some(10));
        assert_eq!(answers.get::<i64>(mark(2), &key), None, "a commit since");
        assert_eq!(answers.get::<String>(mark(1), &key), None, "another type");
        answers.put(mark(2), key.clone(), 1, 20_i64);
        assert_eq!(
            answers.get::<i64>(mark(1), &key),
            None,
            "the old mark's are gone"
        );
        assert_eq!(answers.get::<i64>(mark(2), &key), Some(20));
    }

    #[test]
    fn keys_tell_values_and_types_apart() {
        use rusqlite::types::Value::{Integer, Null, Text};
        let text = |value: &str| Text(value.to_owned());
        let keys = [
            key::<i64>("SELECT ?", &[Integer(1)]),
            key::<i64>("SELECT ?", &[Integer(2)]),
            key::<i64>("SELECT ?", &[text("1")]),
            key::<i64>("SELECT ?", &[Null]),
            key::<i64>("SELECT ?, ?", &[text("a\", Text(\"b"), Null]),
            key::<i64>("SELECT ?, ?", &[text("a"), text("b")]),
            key::<u64>("SELECT ?", &[Integer(1)]),
        ];
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }

    #[test]
    fn the_answers_are_bounded() {
        let answers = Answers::default();
        for i in 0..=MAX_ROWS as i64 {
            let key = key::<i64>("SELECT ?", &[rusqlite::types::Value::Integer(i)]);
            answers.put(mark(1), key, 3, i);
        }
        let kept = answers.kept.lock().expect("lock");
        assert!(kept.rows <= MAX_ROWS, "{} rows kept", kept.rows);
        assert_eq!(kept.rows, 3 * kept.answers.len());
        drop(kept);
        let big = key::<i64>("SELECT 0", &[]);
        answers.put(mark(1), big.clone(), MAX_ROWS + 1, 0);
        assert_eq!(answers.get::<i64>(mark(1), &big), None, "too big to keep");
    }
}
