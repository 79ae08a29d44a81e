//! The Chat Completions wire format: the request body, the messages, and the response (whole
//! or as stream chunks), parsed leniently enough for every OpenAI-compatible server.

use ava_sdk::PluginError;
use ava_sdk::chat::TokenUsage;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::errors;
use crate::settings::Settings;

/// One message of the conversation sent to the model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub role: &'static str,
    /// `null` only for an assistant message that carries tool calls, as OpenAI expects.
    pub content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
}

impl Message {
    fn new(role: &'static str, content: impl Into<String>) -> Self {
        Self {
            role,
            content: Some(content.into()),
            tool_calls: Vec::new(),
            tool_call_id: None,
        }
    }

    pub fn system(content: impl Into<String>) -> Self {
        Self::new("system", content)
    }

    pub fn user(content: impl Into<String>) -> Self {
        Self::new("user", content)
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        Self::new("assistant", content)
    }

    /// The assistant's turn that called `call`, replayed so the tool result has its call.
    pub fn assistant_calling(call: ToolCall) -> Self {
        Self {
            role: "assistant",
            content: None,
            tool_calls: vec![call],
            tool_call_id: None,
        }
    }

    /// The answer to tool call `id`.
    pub fn tool_result(id: &str, content: impl Into<String>) -> Self {
        Self {
            tool_call_id: Some(id.to_string()),
            ..Self::new("tool", content)
        }
    }
}

/// A function call made by the model, complete.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCall {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub function: FunctionCall,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionCall {
    pub name: String,
    /// The arguments as the JSON text the model wrote.
    pub arguments: String,
}

impl ToolCall {
    pub fn function(id: impl Into<String>, name: impl Into<String>, arguments: String) -> Self {
        Self {
            id: id.into(),
            kind: "function",
            function: FunctionCall {
                name: name.into(),
                arguments,
            },
        }
    }
}

/// The request body. Optional parts are left out rather than sent as `null`: several local
/// servers reject fields they do not know the `null` of.
#[derive(Debug, Serialize)]
pub struct Body<'a> {
    pub model: &'a str,
    pub messages: &'a [Message],
    pub temperature: f64,
    pub max_tokens: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response_format: Option<Value>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<Value>,
}

impl<'a> Body<'a> {
    /// A reply request with the configured model and sampling.
    pub fn new(settings: &'a Settings, messages: &'a [Message]) -> Self {
        Self {
            model: &settings.model,
            messages,
            temperature: settings.temperature,
            max_tokens: settings.max_tokens,
            tools: Vec::new(),
            tool_choice: None,
            response_format: None,
            stream: false,
            stream_options: None,
        }
    }

    /// Offers `tool`; the model decides whether to call it.
    pub fn with_tool(mut self, tool: Value) -> Self {
        self.tools.push(tool);
        self.tool_choice = Some("auto");
        self
    }

    /// Asks for a JSON object as the answer (OpenAI's JSON mode, also in Ollama, vLLM and
    /// llama.cpp).
    pub fn json_object(mut self) -> Self {
        self.response_format = Some(serde_json::json!({ "type": "json_object" }));
        self
    }

    /// Asks for server-sent events, with the token usage in a last chunk where supported.
    pub fn streamed(mut self) -> Self {
        self.stream = true;
        self.stream_options = Some(serde_json::json!({ "include_usage": true }));
        self
    }
}

/// What one request produced, whether it was streamed or not.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub text: String,
    pub model: Option<String>,
    pub usage: Option<TokenUsage>,
    pub tool_calls: Vec<ToolCall>,
}

/// Token usage of two requests made for one reply.
pub fn add_usage(a: Option<TokenUsage>, b: Option<TokenUsage>) -> Option<TokenUsage> {
    match (a, b) {
        (Some(a), Some(b)) => Some(TokenUsage {
            prompt_tokens: a.prompt_tokens.saturating_add(b.prompt_tokens),
            completion_tokens: a.completion_tokens.saturating_add(b.completion_tokens),
        }),
        (a, b) => a.or(b),
    }
}

// The response side. Every field is optional: servers differ in what they leave out or send
// as `null`, and a missing part is judged where it matters, not by serde.

/// A whole completion or one stream chunk (`message` in the former, `delta` in the latter).
#[derive(Debug, Deserialize)]
pub(crate) struct RawCompletion {
    pub model: Option<String>,
    pub choices: Option<Vec<RawChoice>>,
    pub usage: Option<RawUsage>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawChoice {
    pub message: Option<RawMessage>,
    pub delta: Option<RawMessage>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawMessage {
    pub content: Option<String>,
    pub tool_calls: Option<Vec<RawToolCall>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawToolCall {
    /// Which call a stream fragment belongs to.
    pub index: Option<usize>,
    pub id: Option<String>,
    pub function: Option<RawFunction>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawFunction {
    pub name: Option<String>,
    /// A JSON string per the spec; some servers send the object itself.
    pub arguments: Option<Value>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RawUsage {
    pub prompt_tokens: Option<u64>,
    pub completion_tokens: Option<u64>,
}

impl RawUsage {
    pub fn to_wit(&self) -> TokenUsage {
        let clamp = |n: Option<u64>| u32::try_from(n.unwrap_or(0)).unwrap_or(u32::MAX);
        TokenUsage {
            prompt_tokens: clamp(self.prompt_tokens),
            completion_tokens: clamp(self.completion_tokens),
        }
    }
}

impl RawFunction {
    /// The arguments as JSON text, whichever form the server used.
    pub fn arguments_text(&self) -> String {
        match &self.arguments {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        }
    }
}

/// Parses a whole (non-streamed) 2xx response body.
pub fn parse(status: u16, body: &[u8]) -> Result<Outcome, PluginError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        errors::malformed(
            Some(status),
            format!("expected JSON, got {}", errors::excerpt(body)),
        )
    })?;
    // Some gateways answer 200 with an error object.
    if let Some(err) = errors::from_error_value(&value) {
        return Err(err);
    }
    let raw: RawCompletion = serde_json::from_value(value)
        .map_err(|err| errors::malformed(Some(status), err.to_string()))?;
    let message = raw
        .choices
        .unwrap_or_default()
        .into_iter()
        .next()
        .ok_or_else(|| errors::malformed(Some(status), "no choices"))?
        .message
        .ok_or_else(|| errors::malformed(Some(status), "the first choice has no message"))?;
    let tool_calls = message
        .tool_calls
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .filter_map(|(i, call)| {
            let function = call.function?;
            let name = function.name.clone()?;
            let id = call.id.unwrap_or_else(|| format!("call_{i}"));
            Some(ToolCall::function(id, name, function.arguments_text()))
        })
        .collect();
    Ok(Outcome {
        text: message.content.unwrap_or_default(),
        model: raw.model.filter(|m| !m.is_empty()),
        usage: raw.usage.as_ref().map(RawUsage::to_wit),
        tool_calls,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_content_and_null_tool_calls_are_accepted() {
        let body = br#"{"model":"m","choices":[{"message":{"role":"assistant","content":null,"tool_calls":null}}],"usage":null}"#;
        let outcome = parse(200, body).unwrap();
        assert_eq!(outcome.text, "");
        assert!(outcome.tool_calls.is_empty());
        assert_eq!(outcome.usage, None);
    }

    #[test]
    fn tool_call_arguments_given_as_an_object_become_json_text() {
        let body = br#"{"choices":[{"message":{"content":"","tool_calls":[{"function":{"name":"send_photo","arguments":{"scene":"beach"}}}]}}]}"#;
        let outcome = parse(200, body).unwrap();
        assert_eq!(
            outcome.tool_calls,
            [ToolCall::function(
                "call_0",
                "send_photo",
                r#"{"scene":"beach"}"#.into()
            )]
        );
    }

    #[test]
    fn an_assistant_tool_call_message_serializes_with_null_content() {
        let message = Message::assistant_calling(ToolCall::function("c1", "f", "{}".into()));
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["content"], Value::Null);
        assert_eq!(json["tool_calls"][0]["type"], "function");
        assert!(json.get("tool_call_id").is_none());
    }

    #[test]
    fn usage_of_two_requests_adds_up() {
        let a = TokenUsage {
            prompt_tokens: 10,
            completion_tokens: 2,
        };
        let b = TokenUsage {
            prompt_tokens: 5,
            completion_tokens: 3,
        };
        assert_eq!(
            add_usage(Some(a), Some(b)),
            Some(TokenUsage {
                prompt_tokens: 15,
                completion_tokens: 5
            })
        );
        assert_eq!(add_usage(None, Some(b)), Some(b));
    }
}
