//! A plugin's stdout or stderr for one call: kept in memory within a cap, and never refused.
//!
//! wasmtime's `MemoryOutputPipe` reports the stream closed once its capacity is used, so a
//! plugin that prints more (a Rust `println!` in a loop) fails its next write and panics: a
//! call that was working ends as a crash because it was chatty. This pipe accepts every
//! write and keeps the first and the last half of the cap, dropping the middle, so the start
//! of the output and a panic message at its end are both kept.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamError};

/// What the plugin may write at once: any size works, the pipe drops what does not fit.
const WRITE_PERMIT: usize = 64 << 10;

/// The captured output, shared by the call's WASI context and the host that logs it.
#[derive(Clone, Debug)]
pub struct CapturePipe(Arc<Mutex<Capture>>);

#[derive(Debug)]
struct Capture {
    head: Vec<u8>,
    tail: VecDeque<u8>,
    /// The most `head` and `tail` each keep.
    half: usize,
    dropped: u64,
}

impl CapturePipe {
    /// A pipe keeping at most `cap` bytes (half from the start, half from the end).
    pub fn new(cap: usize) -> Self {
        Self(Arc::new(Mutex::new(Capture {
            head: Vec::new(),
            tail: VecDeque::new(),
            half: cap / 2,
            dropped: 0,
        })))
    }

    /// What was kept, with a line saying how much was dropped between its two halves.
    pub fn contents(&self) -> Vec<u8> {
        let capture = self.0.lock().expect("stdio lock");
        let mut out = capture.head.clone();
        if capture.dropped > 0 {
            out.extend_from_slice(format!("\n[{} bytes dropped]\n", capture.dropped).as_bytes());
        }
        out.extend(capture.tail.iter());
        out
    }

    fn write(&self, bytes: &[u8]) {
        let mut capture = self.0.lock().expect("stdio lock");
        let room = capture.half - capture.head.len();
        let (into_head, rest) = bytes.split_at(room.min(bytes.len()));
        capture.head.extend_from_slice(into_head);
        if rest.is_empty() {
            return;
        }
        let half = capture.half;
        let kept = &rest[rest.len().saturating_sub(half)..];
        let over = (capture.tail.len() + kept.len()).saturating_sub(half);
        capture.tail.drain(..over);
        capture.tail.extend(kept);
        capture.dropped += (over + rest.len() - kept.len()) as u64;
    }
}

impl IsTerminal for CapturePipe {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for CapturePipe {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

#[async_trait::async_trait]
impl OutputStream for CapturePipe {
    fn write(&mut self, bytes: Bytes) -> Result<(), StreamError> {
        CapturePipe::write(self, &bytes);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StreamError> {
        Ok(())
    }

    fn check_write(&mut self) -> Result<usize, StreamError> {
        Ok(WRITE_PERMIT)
    }
}

#[async_trait::async_trait]
impl Pollable for CapturePipe {
    async fn ready(&mut self) {}
}

impl AsyncWrite for CapturePipe {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        CapturePipe::write(&self, buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_within_the_cap_is_kept_whole() {
        let pipe = CapturePipe::new(16);
        pipe.write(b"hello ");
        pipe.write(b"world");
        assert_eq!(pipe.contents(), b"hello world");
    }

    #[test]
    fn past_the_cap_the_start_and_the_end_are_kept_and_the_middle_counted() {
        let pipe = CapturePipe::new(8);
        pipe.write(b"abcdef");
        pipe.write(b"ghij");
        pipe.write(b"klmnopqrstu");
        pipe.write(b"vwxyz");
        // 26 bytes: "abcd" kept at the start, "wxyz" at the end.
        assert_eq!(
            String::from_utf8(pipe.contents()).unwrap(),
            "abcd\n[18 bytes dropped]\nwxyz"
        );
    }

    #[test]
    fn one_large_write_keeps_its_own_end() {
        let pipe = CapturePipe::new(4);
        pipe.write(&[b'x'; 1000]);
        pipe.write(b"END");
        let text = String::from_utf8(pipe.contents()).unwrap();
        assert!(text.starts_with("xx\n[999 bytes dropped]\n"), "{text}");
        assert!(text.ends_with("ND"), "{text}");
    }
}
