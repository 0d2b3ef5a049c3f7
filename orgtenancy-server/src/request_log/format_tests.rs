use std::cell::Cell;

use orgtenancy_core::Reason;
use poem::http::Method;

use super::super::context::{self, RequestContext};
use super::{RequestJson, RequestText};
use crate::captured::Captured;

/// The lines written, each without its timestamp (text) or with it removed (JSON).
fn lines(captured: &Captured) -> Vec<String> {
    captured
        .text()
        .lines()
        .map(|line| match line.split_once(' ') {
            Some((_, rest)) if !line.starts_with('{') => rest.to_owned(),
            _ => {
                let mut json: serde_json::Value = serde_json::from_str(line).expect("JSON");
                json.as_object_mut()
                    .map(|object| object.remove("timestamp"));
                json.to_string()
            }
        })
        .collect()
}

fn context(user_id: Option<i64>, reason: Option<Reason>) -> RequestContext {
    RequestContext {
        id: "abc\"1".to_owned(),
        method: Method::GET,
        path: "/api/v1/organizations/7".to_owned(),
        user_id: Cell::new(user_id),
        reason: Cell::new(reason),
    }
}

fn events() {
    tracing::info!(status = 200u16, latency_ms = 0.5, "request");
    tracing::warn!(error = "boom", "database unavailable");
}

/// The lines of `events` logged in a request with `request`'s context by our formatter, and
/// by tracing's own in a `request` span with the same fields.
async fn ours_and_tracings(
    json: bool,
    user_id: Option<i64>,
    reason: Option<Reason>,
) -> (Vec<String>, Vec<String>) {
    let ours = Captured::default();
    let builder = tracing_subscriber::fmt()
        .with_writer(ours.clone())
        .with_ansi(false);
    let subscriber: Box<dyn tracing::Subscriber + Send + Sync> = if json {
        Box::new(builder.json().event_format(RequestJson::new()).finish())
    } else {
        Box::new(builder.event_format(RequestText::new()).finish())
    };
    {
        let _default = tracing::subscriber::set_default(subscriber);
        context::scope(context(user_id, reason), async { events() }).await;
    }
    let theirs = Captured::default();
    let builder = tracing_subscriber::fmt()
        .with_writer(theirs.clone())
        .with_ansi(false);
    let subscriber: Box<dyn tracing::Subscriber + Send + Sync> = if json {
        Box::new(builder.json().finish())
    } else {
        Box::new(builder.finish())
    };
    let _default = tracing::subscriber::set_default(subscriber);
    let request = context(user_id, reason);
    let span = tracing::info_span!(
        "request",
        request_id = %request.id,
        method = %request.method,
        path = %request.path,
        user_id = tracing::field::Empty,
        reason = tracing::field::Empty,
        rule = tracing::field::Empty,
    );
    if let Some(user_id) = user_id {
        span.record("user_id", user_id);
    }
    if let Some(reason) = reason {
        span.record("reason", tracing::field::display(reason));
        if let Some(rule) = reason.rule() {
            span.record("rule", rule);
        }
    }
    span.in_scope(events);
    (lines(&ours), lines(&theirs))
}

#[tokio::test]
async fn lines_in_a_request_are_those_of_tracings_formats_in_a_request_span() {
    for json in [false, true] {
        for (user_id, reason) in [
            (None, None),
            (Some(7), None),
            (Some(7), Some(Reason::RoleRequired)),
            (Some(8), Some(Reason::OtherOrganization)),
        ] {
            let (ours, theirs) = ours_and_tracings(json, user_id, reason).await;
            assert_eq!(ours.len(), 2);
            if json {
                let parse = |lines: &[String]| -> Vec<serde_json::Value> {
                    lines
                        .iter()
                        .map(|line| serde_json::from_str(line).expect("JSON"))
                        .collect()
                };
                assert_eq!(parse(&ours), parse(&theirs), "{user_id:?} {reason:?}");
            } else {
                assert_eq!(ours, theirs, "{user_id:?} {reason:?}");
            }
        }
    }
}

#[tokio::test]
async fn outside_a_request_lines_have_no_request_context() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .event_format(RequestText::new())
        .finish();
    tracing::subscriber::with_default(subscriber, events);
    assert_eq!(
        lines(&captured),
        [
            " INFO orgtenancy_server::request_log::format::tests: request status=200 latency_ms=0.5",
            " WARN orgtenancy_server::request_log::format::tests: database unavailable error=\"boom\"",
        ]
    );
}
