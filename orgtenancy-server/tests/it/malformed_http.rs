//! Requests hyper cannot parse, against the real binary (issue 11 item 7): a garbled request
//! line, a header without a colon, headers beyond hyper's buffer, an unknown version, and
//! garbage after a good request on a kept-alive connection. Each is answered with its status,
//! `{"detail"}` and the security headers, never a bare empty response.

use std::{
    io::{Read, Write},
    net::TcpStream,
    time::Duration,
};

use orgtenancy_server::headers::SECURITY_HEADERS;

use crate::e2e::start;

/// What the server writes back for `raw`, until it closes the connection.
fn exchange(base: &str, raw: &[u8]) -> String {
    let address = base.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    // A peer that stops reading may reset the connection before all of `raw` is sent.
    let _ = stream.write_all(raw);
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// The last response of `answer` (after any earlier ones on the same connection).
fn last_response(answer: &str) -> &str {
    answer.rfind("HTTP/1.1 ").map_or(answer, |at| &answer[at..])
}

#[test]
fn malformed_requests_get_json_answers() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = start(dir.path(), None);
    let long_line = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(500_000));
    let cases: [(&str, Vec<u8>, u16); 5] = [
        ("garbled request line", b"GARBAGE\r\n\r\n".to_vec(), 400),
        (
            "header without a colon",
            b"GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n".to_vec(),
            400,
        ),
        (
            "request line beyond the buffer",
            long_line.into_bytes(),
            431,
        ),
        (
            "unknown version",
            b"GET / HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(),
            400,
        ),
        (
            "garbage after a good request",
            b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n".to_vec(),
            400,
        ),
    ];
    let mut failures = Vec::new();
    for (name, raw, status) in cases {
        let answer = exchange(&server.base, &raw);
        let response = last_response(&answer);
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((response, ""));
        let head = head.to_ascii_lowercase();
        let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        let problems = [
            (!head.starts_with(&format!("http/1.1 {status} ")), "status"),
            (
                !head.contains("content-type: application/json"),
                "content type",
            ),
            (!json["detail"].is_string(), "detail"),
            (
                SECURITY_HEADERS.iter().any(|(name, value)| {
                    !head.contains(&format!("{name}: {}", value.to_ascii_lowercase()))
                }),
                "security headers",
            ),
        ];
        for (failed, what) in problems {
            if failed {
                failures.push(format!("{name}: {what} wrong in {response:?}"));
            }
        }
    }
    // The good request before the garbage was answered normally.
    let answer = exchange(
        &server.base,
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n",
    );
    assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    assert!(answer.contains(r#"{"status":"ok"}"#), "{answer}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
