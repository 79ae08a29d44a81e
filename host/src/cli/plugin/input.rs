//! `ava plugin call --input JSON`: the request records of the contract from friendly JSON.
//!
//! Fields are the contract's, in snake_case; only what a method cannot do without is
//! required (a chat turn needs only `message`), the rest defaults to what a server would
//! send when it has nothing better. Unknown fields are refused, so a typo is not silently
//! ignored, and every error names its field.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::plugins::types::{
    ChatMessage, ChatMode, ChatRequest, CheckoutRequest, ImageRequest, Job, PageRequest, Persona,
    PortalRequest, Role, SummaryRequest, WebhookRequest,
};

/// `value` as `T`, or an error naming the field that does not fit.
fn parse<T: DeserializeOwned>(value: &Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|err| {
        let path = err.path().to_string();
        if path == "." {
            err.into_inner().to_string()
        } else {
            format!("field `{path}`: {}", err.into_inner())
        }
    })
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum ModeInput {
    #[default]
    Secretary,
    Intimate,
}

impl From<ModeInput> for ChatMode {
    fn from(mode: ModeInput) -> Self {
        match mode {
            ModeInput::Secretary => Self::Secretary,
            ModeInput::Intimate => Self::Intimate,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum RoleInput {
    User,
    Assistant,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageInput {
    role: RoleInput,
    content: String,
    #[serde(default)]
    sent_at_ms: u64,
}

impl From<MessageInput> for ChatMessage {
    fn from(m: MessageInput) -> Self {
        Self {
            role: match m.role {
                RoleInput::User => Role::User,
                RoleInput::Assistant => Role::Assistant,
            },
            content: m.content,
            sent_at_ms: m.sent_at_ms,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct PersonaInput {
    id: String,
    name: String,
    style: String,
    description: String,
    personality: String,
    scenario: String,
    greeting: String,
    example_dialogue: String,
    system_prompt: String,
    post_history_instructions: String,
    appearance: String,
}

impl Default for PersonaInput {
    fn default() -> Self {
        Self {
            id: "persona-1".into(),
            name: "Ava".into(),
            style: String::new(),
            description: String::new(),
            personality: String::new(),
            scenario: String::new(),
            greeting: String::new(),
            example_dialogue: String::new(),
            system_prompt: String::new(),
            post_history_instructions: String::new(),
            appearance: String::new(),
        }
    }
}

impl From<PersonaInput> for Persona {
    fn from(p: PersonaInput) -> Self {
        Self {
            id: p.id,
            name: p.name,
            style: p.style,
            description: p.description,
            personality: p.personality,
            scenario: p.scenario,
            greeting: p.greeting,
            example_dialogue: p.example_dialogue,
            system_prompt: p.system_prompt,
            post_history_instructions: p.post_history_instructions,
            appearance: p.appearance,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChatInput {
    message: String,
    #[serde(default)]
    persona: PersonaInput,
    #[serde(default)]
    mode: ModeInput,
    #[serde(default)]
    user_name: Option<String>,
    #[serde(default)]
    memory: Option<String>,
    #[serde(default)]
    history: Vec<MessageInput>,
    #[serde(default)]
    photos_allowed: bool,
}

/// A chat turn: only `message` is required.
pub fn chat(value: &Value) -> Result<ChatRequest, String> {
    let input: ChatInput = parse(value)?;
    Ok(ChatRequest {
        persona: input.persona.into(),
        mode: input.mode.into(),
        user_name: input.user_name,
        memory: input.memory,
        history: input.history.into_iter().map(Into::into).collect(),
        message: input.message,
        photos_allowed: input.photos_allowed,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SummaryInput {
    #[serde(default)]
    persona: PersonaInput,
    #[serde(default)]
    mode: ModeInput,
    #[serde(default)]
    previous: Option<String>,
    turns: Vec<MessageInput>,
}

/// A summary request: only `turns` is required.
pub fn summary(value: &Value) -> Result<SummaryRequest, String> {
    let input: SummaryInput = parse(value)?;
    Ok(SummaryRequest {
        persona: input.persona.into(),
        mode: input.mode.into(),
        previous: input.previous,
        turns: input.turns.into_iter().map(Into::into).collect(),
    })
}

fn default_width() -> u32 {
    crate::config::AppConfig::default().photo_width
}

fn default_height() -> u32 {
    crate::config::AppConfig::default().photo_height
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageInput {
    prompt: String,
    #[serde(default)]
    negative_prompt: Option<String>,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default = "default_width")]
    width: u32,
    #[serde(default = "default_height")]
    height: u32,
}

/// An image request: only `prompt` is required; the size defaults to the app's photo size.
pub fn image(value: &Value) -> Result<ImageRequest, String> {
    let input: ImageInput = parse(value)?;
    Ok(ImageRequest {
        prompt: input.prompt,
        negative_prompt: input.negative_prompt,
        seed: input.seed,
        width: input.width,
        height: input.height,
    })
}

fn one() -> u32 {
    1
}

fn five() -> u32 {
    5
}

fn job_id() -> String {
    "job-1".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JobInput {
    #[serde(default = "job_id")]
    id: String,
    #[serde(default)]
    kind: Option<String>,
    /// Any JSON; a string is passed as it is.
    #[serde(default)]
    payload: Option<Value>,
    #[serde(default = "one")]
    attempt: u32,
    #[serde(default = "five")]
    max_attempts: u32,
    #[serde(default)]
    enqueued_at_ms: Option<u64>,
}

/// A job: everything defaults; `kind` to the plugin's first, `payload` to `{}`.
pub fn job(value: &Value, kinds: &[String], now_ms: u64) -> Result<Job, String> {
    let input: JobInput = parse(value)?;
    let kind = match input.kind {
        Some(kind) if kinds.contains(&kind) => kind,
        Some(kind) => {
            return Err(format!(
                "field `kind`: the plugin does not handle `{kind}` jobs (it handles: {})",
                kinds.join(", ")
            ));
        }
        None => kinds
            .first()
            .cloned()
            .ok_or("the plugin handles no job kinds")?,
    };
    Ok(Job {
        id: input.id,
        kind,
        payload: text_or_json(
            input
                .payload
                .unwrap_or_else(|| Value::Object(Default::default())),
        ),
        attempt: input.attempt,
        max_attempts: input.max_attempts,
        enqueued_at_ms: input.enqueued_at_ms.unwrap_or(now_ms),
    })
}

/// A string as it is, anything else as compact JSON.
fn text_or_json(value: Value) -> String {
    match value {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

fn user_id() -> String {
    "user-1".into()
}

fn email() -> String {
    "user@example.com".into()
}

fn idempotency_key() -> String {
    "checkout-1".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckoutInput {
    #[serde(default = "user_id")]
    user_id: String,
    #[serde(default = "email")]
    email: String,
    #[serde(default)]
    customer_id: Option<String>,
    #[serde(default)]
    success_url: Option<String>,
    #[serde(default)]
    cancel_url: Option<String>,
    #[serde(default = "idempotency_key")]
    idempotency_key: String,
}

/// A checkout request: everything defaults (return URLs under `public_url`).
pub fn checkout(value: &Value, public_url: &str) -> Result<CheckoutRequest, String> {
    let input: CheckoutInput = parse(value)?;
    Ok(CheckoutRequest {
        user_id: input.user_id,
        email: input.email,
        customer_id: input.customer_id,
        success_url: input
            .success_url
            .unwrap_or_else(|| format!("{public_url}/billing/success")),
        cancel_url: input
            .cancel_url
            .unwrap_or_else(|| format!("{public_url}/billing/cancel")),
        idempotency_key: input.idempotency_key,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PortalInput {
    customer_id: String,
    #[serde(default)]
    return_url: Option<String>,
}

/// A portal request: `customer_id` is required.
pub fn portal(value: &Value, public_url: &str) -> Result<PortalRequest, String> {
    let input: PortalInput = parse(value)?;
    Ok(PortalRequest {
        customer_id: input.customer_id,
        return_url: input
            .return_url
            .unwrap_or_else(|| format!("{public_url}/account")),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookInput {
    #[serde(default)]
    headers: BTreeMap<String, String>,
    /// The raw body: a string as it is, anything else as compact JSON.
    body: Value,
    #[serde(default)]
    received_at_ms: Option<u64>,
}

/// A webhook: `body` is required; `headers` is an object of name → value.
pub fn webhook(value: &Value, now_ms: u64) -> Result<WebhookRequest, String> {
    let input: WebhookInput = parse(value)?;
    Ok(WebhookRequest {
        headers: input.headers.into_iter().collect(),
        body: text_or_json(input.body).into_bytes(),
        received_at_ms: input.received_at_ms.unwrap_or(now_ms),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscriptionInput {
    id: String,
}

/// A subscription id: `{"id": "..."}`.
pub fn subscription_id(value: &Value) -> Result<String, String> {
    parse::<SubscriptionInput>(value).map(|s| s.id)
}

fn get() -> String {
    "GET".into()
}

fn root() -> String {
    "/".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PageInput {
    #[serde(default = "get")]
    method: String,
    #[serde(default = "root")]
    path: String,
    #[serde(default)]
    query: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    body: Option<Value>,
}

/// A page request: everything defaults (`GET /`).
pub fn page(value: &Value, public_url: &str) -> Result<PageRequest, String> {
    let input: PageInput = parse(value)?;
    Ok(PageRequest {
        method: input.method,
        path: input.path,
        query: input.query,
        headers: input.headers.into_iter().collect(),
        body: input
            .body
            .map(text_or_json)
            .unwrap_or_default()
            .into_bytes(),
        public_url: public_url.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_chat_turn_needs_only_a_message() {
        let request = chat(&json!({"message": "hi"})).unwrap();
        assert_eq!(request.message, "hi");
        assert_eq!(request.persona.name, "Ava");
        assert_eq!(request.persona.description, "");
        assert_eq!(request.mode, ChatMode::Secretary);
        assert!(request.history.is_empty());
    }

    #[test]
    fn persona_fields_and_history_are_read() {
        let request = chat(&json!({
            "message": "hi",
            "mode": "intimate",
            "persona": {"name": "Mira", "personality": "warm"},
            "history": [{"role": "assistant", "content": "hello"}],
        }))
        .unwrap();
        assert_eq!(request.persona.name, "Mira");
        assert_eq!(request.persona.personality, "warm");
        assert_eq!(request.persona.id, "persona-1");
        assert_eq!(request.mode, ChatMode::Intimate);
        assert_eq!(request.history[0].role, Role::Assistant);
    }

    #[test]
    fn errors_name_the_field() {
        let missing = chat(&json!({})).unwrap_err();
        assert!(missing.contains("missing field `message`"), "{missing}");
        let typo = chat(&json!({"mesage": "hi"})).unwrap_err();
        assert!(typo.contains("unknown field `mesage`"), "{typo}");
        let nested = chat(&json!({"message": "hi", "persona": {"name": 3}})).unwrap_err();
        assert!(nested.starts_with("field `persona.name`"), "{nested}");
        let role = chat(&json!({"message": "hi", "history": [{"role": "bot", "content": ""}]}))
            .unwrap_err();
        assert!(role.starts_with("field `history[0].role`"), "{role}");
    }

    #[test]
    fn an_image_request_defaults_to_the_app_s_photo_size() {
        let request = image(&json!({"prompt": "a cat", "seed": 7})).unwrap();
        assert_eq!((request.width, request.height), (768, 1024));
        assert_eq!(request.seed, Some(7));
        assert!(image(&json!({"seed": 7})).unwrap_err().contains("prompt"));
    }

    #[test]
    fn a_job_defaults_to_the_plugin_s_first_kind_and_takes_any_payload() {
        let kinds = vec!["note.save".to_string()];
        let job = job(&json!({"payload": {"note": "x"}}), &kinds, 5).unwrap();
        assert_eq!(job.kind, "note.save");
        assert_eq!(job.payload, r#"{"note":"x"}"#);
        assert_eq!(
            (job.attempt, job.max_attempts, job.enqueued_at_ms),
            (1, 5, 5)
        );
        let err = super::job(&json!({"kind": "other"}), &kinds, 5).unwrap_err();
        assert!(err.contains("does not handle `other`"), "{err}");
    }

    #[test]
    fn a_webhook_body_is_a_string_or_json_and_headers_an_object() {
        let request =
            webhook(&json!({"headers": {"x-signature": "ab"}, "body": "raw"}), 9).unwrap();
        assert_eq!(request.body, b"raw");
        assert_eq!(
            request.headers,
            [("x-signature".to_string(), "ab".to_string())]
        );
        let request = webhook(&json!({"body": {"id": 1}}), 9).unwrap();
        assert_eq!(request.body, br#"{"id":1}"#);
        assert!(webhook(&json!({}), 9).unwrap_err().contains("body"));
    }

    #[test]
    fn checkout_return_urls_default_to_the_public_url() {
        let request = checkout(&json!({}), "http://localhost:8080").unwrap();
        assert_eq!(request.success_url, "http://localhost:8080/billing/success");
        assert_eq!(request.user_id, "user-1");
        assert!(portal(&json!({}), "x").unwrap_err().contains("customer_id"));
    }
}
