//! Log formatters that put the request's context on each line logged while it runs: the
//! lines tracing's `Full` text and `Json` formats write for an event in a `request` span, with
//! the context read from the task-local value instead of a span.

use std::fmt;

use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{Format, Json, Writer};
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use super::context::{self, RequestContext, with_context};

/// Text lines as tracing's default format writes them (without colours):
/// `2026-12-06T18:17:23.267468Z  INFO request{request_id=… method=GET path=/… user_id=3}:
/// orgtenancy_server::request_log: request status=200 latency_ms=0.69`.
#[derive(Debug)]
pub struct RequestText(());

/// JSON lines as tracing's JSON format writes them, the request's context under `span` and
/// `spans` (or under `request` when a span of another crate is current, which has those).
#[derive(Debug)]
pub struct RequestJson(Format<Json>);

impl RequestText {
    /// The formatter; from now on requests keep their context where it reads it.
    pub fn new() -> RequestText {
        context::formatter_installed();
        RequestText(())
    }
}

impl Default for RequestText {
    fn default() -> Self {
        RequestText::new()
    }
}

impl RequestJson {
    /// The formatter; from now on requests keep their context where it reads it.
    pub fn new() -> RequestJson {
        context::formatter_installed();
        RequestJson(Format::default().json())
    }
}

impl Default for RequestJson {
    fn default() -> Self {
        RequestJson::new()
    }
}

impl<S, N> FormatEvent<S, N> for RequestText
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        SystemTime.format_time(&mut writer)?;
        write!(writer, " {:>5} ", meta.level().as_str())?;
        let mut scoped = with_context(|request| write_text_context(&mut writer, request))
            .transpose()?
            .is_some();
        for span in ctx
            .event_scope()
            .into_iter()
            .flat_map(|scope| scope.from_root())
        {
            writer.write_str(span.metadata().name())?;
            let extensions = span.extensions();
            if let Some(fields) = extensions.get::<FormattedFields<N>>()
                && !fields.is_empty()
            {
                write!(writer, "{{{fields}}}")?;
            }
            writer.write_char(':')?;
            scoped = true;
        }
        if scoped {
            writer.write_char(' ')?;
        }
        write!(writer, "{}: ", meta.target())?;
        ctx.format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}

fn write_text_context(writer: &mut Writer<'_>, request: &RequestContext) -> fmt::Result {
    write!(
        writer,
        "request{{request_id={} method={} path={}",
        request.id, request.method, request.path
    )?;
    if let Some(user_id) = request.user_id.get() {
        write!(writer, " user_id={user_id}")?;
    }
    if let Some(reason) = request.reason.get() {
        write!(writer, " reason={reason}")?;
        if let Some(rule) = reason.rule() {
            write!(writer, " rule={rule}")?;
        }
    }
    writer.write_str("}:")
}

impl<S, N> FormatEvent<S, N> for RequestJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let Some(span) = with_context(json_context) else {
            return self.0.format_event(ctx, writer, event);
        };
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        let Some(object) = line.trim_end().strip_suffix('}') else {
            return writer.write_str(&line);
        };
        if ctx.lookup_current().is_some() {
            writeln!(writer, "{object},\"request\":{span}}}")
        } else {
            writeln!(writer, "{object},\"span\":{span},\"spans\":[{span}]}}")
        }
    }
}

/// The context as tracing's JSON format writes a span: its fields, then its name.
fn json_context(request: &RequestContext) -> String {
    let mut span = serde_json::Map::new();
    span.insert("request_id".into(), request.id.as_str().into());
    span.insert("method".into(), request.method.as_str().into());
    span.insert("path".into(), request.path.as_str().into());
    if let Some(user_id) = request.user_id.get() {
        span.insert("user_id".into(), user_id.into());
    }
    if let Some(reason) = request.reason.get() {
        span.insert("reason".into(), reason.to_string().into());
        if let Some(rule) = reason.rule() {
            span.insert("rule".into(), rule.into());
        }
    }
    span.insert("name".into(), "request".into());
    serde_json::Value::Object(span).to_string()
}

#[cfg(test)]
#[path = "format_tests.rs"]
mod tests;
