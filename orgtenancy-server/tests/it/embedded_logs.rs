//! An application that embeds the route with its own tracing subscriber, not this crate's
//! formatters, still gets each request's context on its lines: as a `request` span
//! (`request_log` makes one unless `RequestText` or `RequestJson` was built, which only the
//! binary does).

use std::sync::{Arc, Mutex, PoisonError};

use tracing_subscriber::fmt::MakeWriter;

use crate::support::{Backend, Who, World};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

#[tokio::test]
async fn an_embedding_applications_subscriber_gets_the_request_span() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_ansi(false)
        .with_env_filter(tracing_subscriber::EnvFilter::new("orgtenancy_server=info"))
        .finish();
    // The test's runtime runs the app on this thread, so this default sees its lines.
    let _default = tracing::subscriber::set_default(subscriber);
    let world = World::new(&Backend::Sqlite).await;
    let me = world.id(Who::UserA);
    let path = format!("/api/v1/organizations/{}", world.org_a);
    world
        .h
        .get(
            &format!("/organizations/{}", world.org_a),
            world.token(Who::UserA),
        )
        .await
        .expect(200);
    let log = String::from_utf8(
        captured
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone(),
    )
    .expect("UTF-8");
    let line = log
        .lines()
        .find(|line| line.contains(&format!("path={path}")))
        .unwrap_or_else(|| panic!("no line for {path} in:\n{log}"));
    for expected in [
        " INFO request{request_id=",
        " method=GET ",
        &format!(" user_id={me}}}: orgtenancy_server::request_log: request status=200 "),
    ] {
        assert!(line.contains(expected), "{expected:?} missing in {line}");
    }
}
