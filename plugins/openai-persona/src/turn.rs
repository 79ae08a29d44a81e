//! One turn of the conversation: decide about photos, ask the model, follow up after a photo
//! tool call without words, and assemble the reply. Shared by `reply` and `stream_reply`.

use ava_sdk::chat::{self, ChatReply, ChatRequest, PhotoRequest, TokenUsage};
use ava_sdk::{PluginError, info, warn};

use crate::client;
use crate::completion::{Body, Message, Outcome, ToolCall, add_usage};
use crate::photo::{self, PhotoIdea, PhotoPlan, Verdict};
use crate::prompt;
use crate::settings::{PhotoIntent, Settings};

/// The classify request answers a few dozen tokens of JSON, decided as surely as possible.
const CLASSIFY_MAX_TOKENS: u32 = 150;
const CLASSIFY_TEMPERATURE: f64 = 0.0;

/// Whether the reply text reaches the user at once or as it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Whole,
    Streamed,
}

/// Answers `request`.
pub fn answer(request: &ChatRequest, delivery: Delivery) -> Result<ChatReply, PluginError> {
    let settings = Settings::load()?;
    let (plan, classify_usage) = plan(&settings, request)?;
    let messages = prompt::messages(request, &plan);
    let mut body = Body::new(&settings, &messages);
    if plan == PhotoPlan::Offer {
        body = body.with_tool(photo::tool());
    }
    let first = send(&settings, body, delivery)?;

    let mut model = first.model.clone();
    let mut usage = add_usage(classify_usage, first.usage);
    let mut text = first.text.clone();
    let call = match plan {
        PhotoPlan::Offer => photo_call(&first),
        _ => None,
    };
    let idea = match (&plan, call) {
        (PhotoPlan::Chosen(idea), _) => Some(idea.clone()),
        (_, Some(call)) => Some(photo::from_arguments(&call.function.arguments)),
        _ => None,
    };
    if let Some(call) = call
        && text.trim().is_empty()
    {
        // The model only called the tool: ask once more for the words around the photo,
        // telling it the photo is on its way.
        let after = follow_up(&settings, &messages, call, delivery)?;
        model = after.model.or(model);
        usage = add_usage(usage, after.usage);
        text = after.text;
    }
    if let Some(idea) = &idea
        && text.trim().is_empty()
        && !idea.caption.is_empty()
    {
        // Words are still missing: the caption is the persona's own words.
        text = idea.caption.clone();
        if delivery == Delivery::Streamed {
            chat::push(&text);
        }
    }
    let photo = idea.map(|idea| photo::build(&request.persona.appearance, &idea));

    if text.trim().is_empty() && photo.is_none() {
        return Err(PluginError::upstream(
            None,
            None,
            "the model returned an empty reply",
        ));
    }
    let model = model.unwrap_or_else(|| settings.model.clone());
    log_reply(&model, usage, photo.as_ref());
    Ok(ChatReply {
        text: text.trim().to_string(),
        photo,
        model: Some(model),
        usage,
    })
}

/// What happens about photos this turn, and the tokens it took. In classify mode this is
/// where the model is asked.
fn plan(
    settings: &Settings,
    request: &ChatRequest,
) -> Result<(PhotoPlan, Option<TokenUsage>), PluginError> {
    if !request.photos_allowed {
        return Ok((PhotoPlan::Unavailable, None));
    }
    match settings.photo_intent {
        PhotoIntent::Tool => Ok((PhotoPlan::Offer, None)),
        PhotoIntent::Classify => {
            let (idea, usage) = classify(settings, request)?;
            let plan = match idea {
                Some(idea) => PhotoPlan::Chosen(idea),
                None => PhotoPlan::NotChosen,
            };
            Ok((plan, usage))
        }
    }
}

/// A small JSON request: does the user's last message ask for a photo, and of what?
fn classify(
    settings: &Settings,
    request: &ChatRequest,
) -> Result<(Option<PhotoIdea>, Option<TokenUsage>), PluginError> {
    let messages = photo::classify_messages(request);
    let mut body = Body::new(settings, &messages).json_object();
    body.temperature = CLASSIFY_TEMPERATURE;
    body.max_tokens = CLASSIFY_MAX_TOKENS;
    let outcome = client::complete(settings, &body)?;
    let idea = match photo::parse_classification(&outcome.text) {
        Verdict::Photo(idea) => Some(idea),
        Verdict::NoPhoto => None,
        Verdict::Unreadable => {
            // Worth the operator's attention: this server may not follow JSON instructions.
            warn!("the photo classifier did not answer in usable JSON; sending no photo");
            None
        }
    };
    Ok((idea, outcome.usage))
}

fn photo_call(outcome: &Outcome) -> Option<&ToolCall> {
    outcome
        .tool_calls
        .iter()
        .find(|c| c.function.name == photo::TOOL_NAME)
}

/// The request after a wordless tool call: the same messages, the assistant's call and the
/// tool's result, without tools so the model answers in words.
fn follow_up(
    settings: &Settings,
    messages: &[Message],
    call: &ToolCall,
    delivery: Delivery,
) -> Result<Outcome, PluginError> {
    let mut messages = messages.to_vec();
    messages.push(Message::assistant_calling(call.clone()));
    messages.push(Message::tool_result(&call.id, photo::TOOL_RESULT));
    send(settings, Body::new(settings, &messages), delivery)
}

fn send(settings: &Settings, body: Body, delivery: Delivery) -> Result<Outcome, PluginError> {
    match delivery {
        Delivery::Whole => client::complete(settings, &body),
        Delivery::Streamed => client::stream(settings, &body.streamed()),
    }
}

/// The model, the tokens and whether a photo was requested; never the conversation.
fn log_reply(model: &str, usage: Option<TokenUsage>, photo: Option<&PhotoRequest>) {
    let tokens = match usage {
        Some(u) => format!(
            "{} prompt + {} completion tokens",
            u.prompt_tokens, u.completion_tokens
        ),
        None => "token usage unknown".into(),
    };
    info!(
        "reply from {model}: {tokens}, photo requested: {}",
        photo.is_some()
    );
}
