//! Log lines written in batches, off the request's thread (SPEC §13: one line per request).
//!
//! A line is appended to a shared buffer under a mutex; a thread of its own writes the buffer
//! out [`FLUSH_DELAY`] after the first line of a batch arrives. So a request pays for a copy,
//! not for a `write(2)`, and does not wake a thread per line either: with a line per request,
//! tracing-appender's channel woke its writer thread once per request, and that wake-up and
//! the context switches it caused cost more than the line itself.
//!
//! Nothing is dropped: a line that brings the buffer to [`MAX_PENDING`] bytes writes the
//! buffer on the caller's thread, so a stalled sink slows logging requests down instead of
//! losing lines. Lines keep their order: whoever writes a batch takes the sink before it lets
//! go of the buffer. Dropping the [`FlushGuard`] writes what is left and stops the thread; a
//! process killed outright loses at most the last [`FLUSH_DELAY`] of lines.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

/// How long the writer thread waits after the first line of a batch before writing it.
pub const FLUSH_DELAY: Duration = Duration::from_millis(10);

/// The buffered bytes at which the logging thread writes the buffer itself.
pub const MAX_PENDING: usize = 1 << 20;

/// The `MakeWriter` handed to `tracing_subscriber::fmt`.
#[derive(Clone)]
pub struct BatchedWriter {
    shared: Arc<Shared>,
}

/// Writes what is left and stops the writer thread when dropped; keep it until exit.
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    pending: Mutex<Pending>,
    /// Signalled when a batch starts, and at shutdown.
    wake: Condvar,
    sink: Mutex<Sink>,
    max_pending: usize,
}

#[derive(Default)]
struct Pending {
    lines: Vec<u8>,
    stop: bool,
}

struct Sink {
    out: Box<dyn Write + Send>,
    /// The previous batch's buffer, kept for its capacity.
    spare: Vec<u8>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves whole lines behind; keep logging.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl BatchedWriter {
    /// A writer to `out` (standard error in the binary) and the guard of its thread.
    pub fn new(out: impl Write + Send + 'static) -> io::Result<(Self, FlushGuard)> {
        Self::with_max_pending(out, MAX_PENDING)
    }

    fn with_max_pending(
        out: impl Write + Send + 'static,
        max_pending: usize,
    ) -> io::Result<(Self, FlushGuard)> {
        let shared = Arc::new(Shared {
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            sink: Mutex::new(Sink {
                out: Box::new(out),
                spare: Vec::new(),
            }),
            max_pending,
        });
        let worker = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("orgtenancy-log".to_owned())
            .spawn(move || worker.run())?;
        let guard = FlushGuard {
            shared: Arc::clone(&shared),
            thread: Some(thread),
        };
        Ok((Self { shared }, guard))
    }
}

impl Shared {
    fn append(&self, line: &[u8]) {
        let mut pending = lock(&self.pending);
        let starts_batch = pending.lines.is_empty();
        pending.lines.extend_from_slice(line);
        if pending.lines.len() >= self.max_pending {
            self.write_out(pending);
        } else if starts_batch {
            self.wake.notify_one();
        }
    }

    /// Writes the buffered lines, taking the sink before letting go of the buffer.
    fn write_out(&self, mut pending: MutexGuard<'_, Pending>) {
        if pending.lines.is_empty() {
            return;
        }
        let mut sink = lock(&self.sink);
        let sink = &mut *sink;
        std::mem::swap(&mut pending.lines, &mut sink.spare);
        drop(pending);
        // A failed write of a log line has nowhere to be reported.
        let _ = sink
            .out
            .write_all(&sink.spare)
            .and_then(|()| sink.out.flush());
        sink.spare.clear();
    }

    fn run(&self) {
        loop {
            let mut pending = lock(&self.pending);
            while pending.lines.is_empty() && !pending.stop {
                pending = self
                    .wake
                    .wait(pending)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if pending.stop {
                self.write_out(pending);
                return;
            }
            drop(pending);
            std::thread::sleep(FLUSH_DELAY);
            self.write_out(lock(&self.pending));
        }
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        lock(&self.shared.pending).stop = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // The thread may be gone already (it panicked): write the rest here.
        self.shared.write_out(lock(&self.shared.pending));
    }
}

/// One event's writer: the formatter writes a whole line with one `write_all`.
pub struct LineWriter<'a> {
    shared: &'a Shared,
}

impl Write for LineWriter<'_> {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        self.shared.append(line);
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for BatchedWriter {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            shared: &self.shared,
        }
    }
}

#[cfg(test)]
#[path = "log_writer_tests.rs"]
mod tests;
