//! A server-sent events parser (the WHATWG `text/event-stream` format), fed chunk by chunk.

/// One event of a `text/event-stream`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// The `event:` field; `message` when absent.
    pub event: String,
    /// The `data:` lines joined with `\n`.
    pub data: String,
    /// The `id:` field, when present.
    pub id: Option<String>,
}

/// Incremental parser: [`feed`](SseParser::feed) bytes as they arrive, take events with
/// [`next_event`](SseParser::next_event). Lines may end in `\n`, `\r\n` or `\r`, and a chunk
/// boundary may fall anywhere, even inside a UTF-8 character.
#[derive(Debug, Default)]
pub struct SseParser {
    buffer: Vec<u8>,
    /// A `\r` ended the last line; a `\n` at the start of the next chunk belongs to it.
    pending_cr: bool,
    event: Option<String>,
    data: Option<String>,
    id: Option<String>,
    ready: std::collections::VecDeque<SseEvent>,
}

impl SseParser {
    /// Adds bytes of the stream.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        if self.pending_cr {
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
            self.pending_cr = false;
        }
        self.buffer.extend_from_slice(bytes);
        let mut start = 0;
        let mut i = 0;
        while i < self.buffer.len() {
            match self.buffer[i] {
                b'\n' => {
                    self.line(start, i);
                    start = i + 1;
                }
                b'\r' => {
                    self.line(start, i);
                    if i + 1 < self.buffer.len() {
                        if self.buffer[i + 1] == b'\n' {
                            i += 1;
                        }
                    } else {
                        self.pending_cr = true;
                    }
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        self.buffer.drain(..start);
    }

    /// The next complete event, if any.
    pub fn next_event(&mut self) -> Option<SseEvent> {
        self.ready.pop_front()
    }

    /// Ends the stream: a last event without its blank line is dispatched, as browsers do not,
    /// but as LLM servers that forget the final blank line need.
    pub fn finish(&mut self) -> Option<SseEvent> {
        if !self.buffer.is_empty() {
            let end = self.buffer.len();
            self.line(0, end);
            self.buffer.clear();
        }
        self.dispatch();
        self.ready.pop_front()
    }

    fn line(&mut self, start: usize, end: usize) {
        let line = String::from_utf8_lossy(&self.buffer[start..end]).into_owned();
        if line.is_empty() {
            self.dispatch();
            return;
        }
        if line.starts_with(':') {
            return;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line.as_str(), ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => match &mut self.data {
                Some(data) => {
                    data.push('\n');
                    data.push_str(value);
                }
                None => self.data = Some(value.to_string()),
            },
            "id" if !value.contains('\0') => self.id = Some(value.to_string()),
            _ => {}
        }
    }

    fn dispatch(&mut self) {
        let event = self.event.take();
        if let Some(data) = self.data.take() {
            self.ready.push_back(SseEvent {
                event: event.unwrap_or_else(|| "message".into()),
                data,
                id: self.id.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_chunks(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut parser = SseParser::default();
        let mut out = Vec::new();
        for chunk in chunks {
            parser.feed(chunk);
            while let Some(e) = parser.next_event() {
                out.push(e);
            }
        }
        out.extend(parser.finish());
        out
    }

    #[test]
    fn openai_style_stream_parses_into_data_events() {
        let events = parse_chunks(&[b"data: {\"a\":1}\n\ndata: [DONE]\n\n"]);
        let data: Vec<_> = events.iter().map(|e| e.data.as_str()).collect();
        assert_eq!(data, ["{\"a\":1}", "[DONE]"]);
        assert!(events.iter().all(|e| e.event == "message"));
    }

    #[test]
    fn chunk_boundaries_anywhere_give_the_same_events() {
        let stream =
            "event: delta\r\ndata: héllo\r\ndata: world\r\nid: 7\r\n\r\n: comment\n\ndata: x\r\r";
        let whole = parse_chunks(&[stream.as_bytes()]);
        let bytes = stream.as_bytes();
        for split in 1..bytes.len() {
            let parts = parse_chunks(&[&bytes[..split], &bytes[split..]]);
            assert_eq!(parts, whole, "split at {split}");
        }
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0].event, "delta");
        assert_eq!(whole[0].data, "héllo\nworld");
        assert_eq!(whole[0].id.as_deref(), Some("7"));
        assert_eq!(whole[1].data, "x");
    }

    #[test]
    fn last_event_without_blank_line_is_kept() {
        let events = parse_chunks(&[b"data: tail"]);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].data, "tail");
    }

    #[test]
    fn comments_and_unknown_fields_are_ignored() {
        let events = parse_chunks(&[b": keep-alive\nretry: 100\nfoo: bar\n\n"]);
        assert!(events.is_empty());
    }
}
