//! Assembling a streamed completion from its server-sent event chunks: text deltas, token
//! usage, and tool calls whose name and arguments arrive in fragments over many chunks.

use ava_sdk::PluginError;
use serde_json::Value;

use crate::completion::{Outcome, RawCompletion, RawToolCall, RawUsage, ToolCall};
use crate::errors;

/// What one event's data meant.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// Text to show the user now (may be empty).
    Text(String),
    /// `[DONE]`: the stream is over.
    Done,
}

/// A tool call being assembled.
#[derive(Debug, Default)]
struct PartialCall {
    index: usize,
    id: String,
    name: String,
    arguments: String,
}

/// The completion so far.
#[derive(Debug, Default)]
pub struct Accumulator {
    text: String,
    model: Option<String>,
    usage: Option<RawUsage>,
    calls: Vec<PartialCall>,
    saw_data: bool,
}

impl Accumulator {
    /// Takes the `data` of one event.
    pub fn feed(&mut self, data: &str) -> Result<Step, PluginError> {
        let data = data.trim();
        if data == "[DONE]" {
            return Ok(Step::Done);
        }
        if data.is_empty() {
            return Ok(Step::Text(String::new()));
        }
        self.saw_data = true;
        let value: Value = serde_json::from_str(data).map_err(|_| {
            errors::malformed(
                None,
                format!(
                    "a stream chunk is not JSON: {}",
                    errors::excerpt(data.as_bytes())
                ),
            )
        })?;
        if let Some(err) = errors::from_error_value(&value) {
            return Err(err);
        }
        let chunk: RawCompletion = serde_json::from_value(value)
            .map_err(|err| errors::malformed(None, format!("a stream chunk: {err}")))?;
        if let Some(model) = chunk.model.filter(|m| !m.is_empty()) {
            self.model = Some(model);
        }
        // With `include_usage` the usage comes in a last chunk without choices.
        if chunk.usage.is_some() {
            self.usage = chunk.usage;
        }
        let Some(delta) = chunk
            .choices
            .unwrap_or_default()
            .into_iter()
            .next()
            .and_then(|c| c.delta)
        else {
            return Ok(Step::Text(String::new()));
        };
        for (position, call) in delta.tool_calls.unwrap_or_default().into_iter().enumerate() {
            self.add_call_fragment(position, call);
        }
        let text = delta.content.unwrap_or_default();
        self.text.push_str(&text);
        Ok(Step::Text(text))
    }

    /// Fragments of one call share its `index`; the `id` and `name` come once, the
    /// `arguments` JSON in pieces. Servers that omit `index` send one whole call per entry.
    fn add_call_fragment(&mut self, position: usize, fragment: RawToolCall) {
        let index = fragment.index.unwrap_or(position);
        let at = match self.calls.iter().position(|c| c.index == index) {
            Some(at) => at,
            None => {
                self.calls.push(PartialCall {
                    index,
                    ..PartialCall::default()
                });
                self.calls.len() - 1
            }
        };
        let call = &mut self.calls[at];
        if let Some(id) = fragment.id.filter(|id| !id.is_empty()) {
            call.id = id;
        }
        if let Some(function) = fragment.function {
            if let Some(name) = function.name.as_deref().filter(|n| !n.is_empty()) {
                // Some servers repeat the whole name in every fragment.
                if call.name != name {
                    call.name.push_str(name);
                }
            }
            call.arguments.push_str(&function.arguments_text());
        }
    }

    /// The whole completion, once the stream has ended with or without `[DONE]`.
    pub fn finish(self) -> Result<Outcome, PluginError> {
        if !self.saw_data {
            return Err(errors::malformed(
                None,
                "the stream ended without any completion data",
            ));
        }
        let tool_calls = self
            .calls
            .into_iter()
            .filter(|c| !c.name.is_empty())
            .map(|c| {
                let id = if c.id.is_empty() {
                    format!("call_{}", c.index)
                } else {
                    c.id
                };
                ToolCall::function(id, c.name, c.arguments)
            })
            .collect();
        Ok(Outcome {
            text: self.text,
            model: self.model,
            usage: self.usage.as_ref().map(RawUsage::to_wit),
            tool_calls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_all(chunks: &[&str]) -> Accumulator {
        let mut acc = Accumulator::default();
        for chunk in chunks {
            acc.feed(chunk).unwrap();
        }
        acc
    }

    #[test]
    fn interleaved_calls_are_kept_apart_by_index() {
        let acc = feed_all(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"a","function":{"name":"send_photo","arguments":"{\"sc"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"b","function":{"name":"other","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"ene\":\"x\"}"}}]}}]}"#,
        ]);
        let outcome = acc.finish().unwrap();
        assert_eq!(
            outcome.tool_calls,
            [
                ToolCall::function("a", "send_photo", r#"{"scene":"x"}"#.into()),
                ToolCall::function("b", "other", "{}".into()),
            ]
        );
    }

    #[test]
    fn a_repeated_name_is_not_doubled() {
        let acc = feed_all(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"send_photo","arguments":"{"}}]}}]}"#,
            r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"send_photo","arguments":"}"}}]}}]}"#,
        ]);
        let calls = acc.finish().unwrap().tool_calls;
        assert_eq!(
            calls,
            [ToolCall::function("call_0", "send_photo", "{}".into())]
        );
    }

    #[test]
    fn usage_arrives_in_a_chunk_without_choices() {
        let acc = feed_all(&[
            r#"{"model":"m","choices":[{"delta":{"content":"hi"}}]}"#,
            r#"{"model":"m","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":1}}"#,
        ]);
        let outcome = acc.finish().unwrap();
        assert_eq!(outcome.usage.map(|u| u.prompt_tokens), Some(9));
        assert_eq!(outcome.model.as_deref(), Some("m"));
    }

    #[test]
    fn a_stream_with_no_data_is_malformed() {
        assert!(matches!(
            Accumulator::default().finish(),
            Err(PluginError::Upstream(u)) if u.message.starts_with("malformed response")
        ));
    }
}
