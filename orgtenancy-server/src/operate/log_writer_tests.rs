use std::io::Write;
use std::time::{Duration, Instant};

use tracing_subscriber::fmt::MakeWriter;

use super::BatchedWriter;
use crate::captured::Captured;

fn write_line(writer: &BatchedWriter, line: &str) {
    let result = writer.make_writer().write_all(line.as_bytes());
    assert!(result.is_ok(), "{result:?}");
}

#[test]
fn every_line_of_every_thread_is_written_in_its_order() {
    let captured = Captured::default();
    let (writer, guard) = BatchedWriter::new(captured.clone()).expect("thread");
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let writer = writer.clone();
            std::thread::spawn(move || {
                for line in 0..500 {
                    write_line(&writer, &format!("t{thread} {line}\n"));
                }
            })
        })
        .collect();
    for thread in threads {
        assert!(thread.join().is_ok());
    }
    drop(guard);
    let text = captured.text();
    assert_eq!(text.lines().count(), 2000);
    for thread in 0..4 {
        let prefix = format!("t{thread} ");
        let order: Vec<usize> = text
            .lines()
            .filter_map(|line| line.strip_prefix(&prefix))
            .map(|n| n.parse().expect("number"))
            .collect();
        assert_eq!(order, (0..500).collect::<Vec<_>>(), "thread {thread}");
    }
}

#[test]
fn a_line_is_written_while_the_server_runs() {
    let captured = Captured::default();
    let (writer, _guard) = BatchedWriter::new(captured.clone()).expect("thread");
    write_line(&writer, "started\n");
    let deadline = Instant::now() + Duration::from_secs(5);
    while captured.text().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(captured.text(), "started\n");
}

#[test]
fn a_full_buffer_is_written_by_the_logging_thread_before_it_goes_on() {
    let captured = Captured::default();
    let (writer, _guard) = BatchedWriter::with_max_pending(captured.clone(), 64).expect("thread");
    let long = format!("{}\n", "x".repeat(99));
    write_line(&writer, &long);
    assert_eq!(captured.text(), long);
}
