//! The request's context as a task-local value, read by this crate's log formatters.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

use orgtenancy_core::Reason;
use poem::http::Method;

/// Set once one of this crate's formatters is built: from then on the middleware keeps the
/// context in [`CONTEXT`] instead of a span, since the formatter is what reads it.
static FORMATTER_READS_CONTEXT: AtomicBool = AtomicBool::new(false);

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// What every line logged during one request carries.
pub(crate) struct RequestContext {
    pub(crate) id: String,
    pub(crate) method: Method,
    pub(crate) path: String,
    pub(crate) user_id: Cell<Option<i64>>,
    pub(crate) reason: Cell<Option<Reason>>,
}

pub(super) fn formatter_installed() {
    FORMATTER_READS_CONTEXT.store(true, Ordering::Relaxed);
}

pub(super) fn formatter_reads_context() -> bool {
    FORMATTER_READS_CONTEXT.load(Ordering::Relaxed)
}

/// Runs `future` with `context` as the request's context.
/// Not an `async fn`, which would hold `future` twice (see `orgtenancy_sqlx::one_connection`).
pub(super) fn scope<F: Future>(
    context: RequestContext,
    future: F,
) -> impl Future<Output = F::Output> {
    CONTEXT.scope(context, future)
}

/// `f` of the current request's context, if the current task serves a request in this mode.
pub(super) fn with_context<R>(f: impl FnOnce(&RequestContext) -> R) -> Option<R> {
    CONTEXT.try_with(f).ok()
}

/// Records the authenticated user for the request's log lines.
pub(crate) fn note_user(user_id: i64) {
    if with_context(|context| context.user_id.set(Some(user_id))).is_none() {
        tracing::Span::current().record("user_id", user_id);
    }
}

/// Records the engine's reason for a denial (and its §3 rule) for the request's log lines.
pub(crate) fn note_denial(reason: Reason) {
    if with_context(|context| context.reason.set(Some(reason))).is_none() {
        let span = tracing::Span::current();
        span.record("reason", tracing::field::display(reason));
        if let Some(rule) = reason.rule() {
            span.record("rule", rule);
        }
    }
}
