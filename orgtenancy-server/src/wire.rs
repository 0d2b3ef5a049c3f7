//! JSON answers to requests that are not HTTP at all (a garbled request line, a header
//! without a colon, a request line or headers beyond hyper's buffer, an unknown version).
//!
//! hyper refuses those itself, before poem or any middleware sees a request, with a bare
//! `400` (or `431`, `414`, `505`) that has `connection: close`, `content-length: 0` and no
//! body. poem lets an application bring its own [`Acceptor`], so the server wraps each
//! connection: a write that is exactly such a bare refusal (hyper writes the whole head at
//! once, and nothing of ours ever answers without a content type) is replaced with the same
//! status as `{"detail": ...}` with the security headers. Every other byte passes unchanged.

use std::{
    io::{self, IoSlice},
    pin::Pin,
    task::{Context, Poll},
};

use poem::{
    listener::Acceptor,
    web::{LocalAddr, RemoteAddr},
};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::headers::SECURITY_HEADERS;

/// An [`Acceptor`] whose connections answer protocol errors with JSON (see the module).
pub struct JsonProtocolErrors<A>(pub A);

impl<A: Acceptor> Acceptor for JsonProtocolErrors<A> {
    type Io = JsonErrorIo<A::Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.0.local_addr()
    }

    async fn accept(
        &mut self,
    ) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, poem::http::uri::Scheme)> {
        let (io, local, remote, scheme) = self.0.accept().await?;
        Ok((JsonErrorIo::new(io), local, remote, scheme))
    }
}

/// A connection whose bare protocol-error answers are rewritten as JSON.
pub struct JsonErrorIo<T> {
    inner: T,
    /// A rewritten answer not yet written whole, and the length of the write it replaces
    /// (reported as written once the replacement is out).
    pending: Option<(Vec<u8>, usize)>,
}

impl<T> JsonErrorIo<T> {
    fn new(inner: T) -> Self {
        JsonErrorIo {
            inner,
            pending: None,
        }
    }
}

/// The JSON answer replacing `head`, if `head` is hyper's bare refusal of a malformed request.
pub(crate) fn rewrite(head: &[u8]) -> Option<Vec<u8>> {
    // Cheap tests first: this looks at every write of every response.
    const LONGEST_BARE_HEAD: usize = 256;
    let refusal = head.starts_with(b"HTTP/1.1 4") || head.starts_with(b"HTTP/1.1 5");
    if !refusal || head.len() > LONGEST_BARE_HEAD {
        return None;
    }
    let text = std::str::from_utf8(head).ok()?;
    let status_line = text.strip_prefix("HTTP/1.1 ")?.split("\r\n").next()?;
    let (code, reason) = status_line.split_once(' ')?;
    let lower = text.to_ascii_lowercase();
    let bare = (code.starts_with('4') || code.starts_with('5'))
        && text.ends_with("\r\n\r\n")
        && lower.contains("\r\nconnection: close\r\n")
        && lower.contains("\r\ncontent-length: 0\r\n")
        && !lower.contains("\r\ncontent-type:");
    if !bare {
        return None;
    }
    let body = serde_json::json!({ "detail": detail(code, reason) }).to_string();
    let mut out = format!(
        "HTTP/1.1 {code} {reason}\r\nconnection: close\r\ncontent-type: application/json; \
         charset=utf-8\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in SECURITY_HEADERS {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    out.push_str(&body);
    Some(out.into_bytes())
}

fn detail(code: &str, reason: &str) -> String {
    match code {
        "400" => "malformed HTTP request".to_owned(),
        "414" => "request line too long".to_owned(),
        "431" => "request headers too large".to_owned(),
        "505" => "HTTP version not supported".to_owned(),
        _ => reason.to_lowercase(),
    }
}

impl<T: AsyncWrite + Unpin> JsonErrorIo<T> {
    /// Writes what is pending; `Ready(Ok(n))` with the replaced write's length when done.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<Option<usize>>> {
        while let Some((bytes, replaced)) = &mut self.pending {
            if bytes.is_empty() {
                let replaced = *replaced;
                self.pending = None;
                return Poll::Ready(Ok(Some(replaced)));
            }
            match Pin::new(&mut self.inner).poll_write(cx, bytes) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(written)) => {
                    bytes.drain(..written.min(bytes.len()));
                }
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(None))
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for JsonErrorIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for JsonErrorIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.pending.is_none() {
            match rewrite(buf) {
                Some(answer) => this.pending = Some((answer, buf.len())),
                None => return Pin::new(&mut this.inner).poll_write(cx, buf),
            }
        }
        match this.poll_pending(cx) {
            Poll::Ready(Ok(Some(replaced))) => Poll::Ready(Ok(replaced)),
            Poll::Ready(Ok(None)) => Pin::new(&mut this.inner).poll_write(cx, buf),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        // One buffer at a time, so each can be looked at whole.
        let first = bufs.iter().find(|buf| !buf.is_empty());
        self.poll_write(cx, first.map_or(&[][..], |buf| &buf[..]))
    }

    fn is_write_vectored(&self) -> bool {
        false
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.poll_pending(cx) {
            Poll::Ready(Ok(_)) => Pin::new(&mut self.inner).poll_flush(cx),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.poll_pending(cx) {
            Poll::Ready(Ok(_)) => Pin::new(&mut self.inner).poll_shutdown(cx),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewrites_only_bare_refusals() {
        let bare = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\
                     date: Thu, 03 Dec 2026 14:14:51 GMT\r\n\r\n";
        let answer = String::from_utf8(rewrite(bare).unwrap_or_default()).unwrap_or_default();
        assert!(
            answer.starts_with("HTTP/1.1 400 Bad Request\r\n"),
            "{answer}"
        );
        assert!(
            answer.contains("content-type: application/json"),
            "{answer}"
        );
        assert!(
            answer.contains("x-content-type-options: nosniff"),
            "{answer}"
        );
        let (_, body) = answer.split_once("\r\n\r\n").unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        assert_eq!(json["detail"], "malformed HTTP request");
        assert!(answer.contains(&format!("content-length: {}\r\n", body.len())));
        let kept: [&[u8]; 4] = [
            b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 2\r\n\r\n{}",
            b"{\"detail\": \"HTTP/1.1 400\"}",
        ];
        for head in kept {
            assert!(rewrite(head).is_none(), "{}", String::from_utf8_lossy(head));
        }
    }
}
