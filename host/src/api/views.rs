//! How domain records look in the API's JSON.

use serde::Serialize;
use serde_json::{Value, json};

use crate::db::messages::Message;
use crate::db::personas::Persona;
use crate::db::preferences::Preferences;
use crate::db::subscriptions::Subscription;
use crate::db::users::User;

pub fn user(u: &User) -> Value {
    json!({
        "id": u.id,
        "email": u.email,
        "display_name": u.display_name,
        "created_at": u.created_at,
    })
}

pub fn persona(p: &Persona) -> Value {
    let d = &p.data;
    json!({
        "id": p.id,
        "name": d.name,
        "style": d.style,
        "description": d.description,
        "personality": d.personality,
        "scenario": d.scenario,
        "greeting": d.greeting,
        "example_dialogue": d.example_dialogue,
        "system_prompt": d.system_prompt,
        "post_history_instructions": d.post_history_instructions,
        "appearance": d.appearance,
        "alternate_greetings": d.alternate_greetings,
        "tags": d.tags,
        "creator": d.creator,
        "creator_notes": d.creator_notes,
        "photo_seed": p.photo_seed,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    })
}

pub fn preferences(p: &Preferences) -> Value {
    json!({
        "mode": p.mode,
        "active_persona_id": p.active_persona_id,
        "photos_enabled": p.photos_enabled,
        "adult_confirmed": p.adult_confirmed_at.is_some(),
        "adult_confirmed_at": p.adult_confirmed_at,
        "updated_at": p.updated_at,
    })
}

/// The subscription, or `{"status": "none"}` for a user who never subscribed.
pub fn subscription(s: Option<&Subscription>) -> Value {
    match s {
        None => json!({
            "status": "none",
            "active": false,
            "current_period_end": null,
            "cancel_at_period_end": false,
        }),
        Some(s) => json!({
            "status": s.status,
            "active": s.grants_access(),
            "current_period_end": s.current_period_end,
            "cancel_at_period_end": s.cancel_at_period_end,
        }),
    }
}

/// A message as the API shows it. Serialized straight from the row (no `Value` in
/// between): a chat turn answers two of these, and building maps of them cost more than
/// writing them.
#[derive(Debug, Serialize)]
pub struct MessageView<'a> {
    id: &'a str,
    persona_id: &'a str,
    seq: i64,
    role: &'a str,
    content: &'a str,
    mode: &'a str,
    photo: Option<MessagePhoto<'a>>,
    created_at: i64,
}

/// The photo a message sends, as far as its state is known.
#[derive(Debug, Serialize)]
struct MessagePhoto<'a> {
    id: Option<&'a str>,
    caption: Option<&'a str>,
    prompt: Option<&'a str>,
    status: &'a str,
    image_url: Option<String>,
    failure_reason: Option<&'a str>,
}

pub fn message(m: &Message) -> MessageView<'_> {
    message_with_photo(m, None)
}

/// A message, with the state of the photo it sends when known (`photo` is that photo's
/// row); a photo just asked for is `pending`.
pub fn message_with_photo<'a>(
    m: &'a Message,
    photo: Option<&'a crate::db::photos::Photo>,
) -> MessageView<'a> {
    let photo = (m.photo_prompt.is_some() || m.photo_id.is_some()).then(|| {
        let status = photo.map_or("pending", |p| p.status.as_str());
        MessagePhoto {
            id: m.photo_id.as_deref(),
            caption: m.photo_caption.as_deref(),
            prompt: m.photo_prompt.as_deref(),
            status,
            image_url: (status == "ready").then(|| {
                format!(
                    "/photos/{}/image",
                    m.photo_id.as_deref().unwrap_or_default()
                )
            }),
            failure_reason: photo.and_then(|p| p.failure_reason.as_deref()),
        }
    });
    MessageView {
        id: &m.id,
        persona_id: &m.persona_id,
        seq: m.seq,
        role: &m.role,
        content: &m.content,
        mode: &m.mode,
        photo,
        created_at: m.created_at,
    }
}

/// A photo as the SPA shows it: `image_url` once it is ready.
pub fn photo(p: &crate::db::photos::Photo) -> Value {
    let ready = p.status == "ready";
    json!({
        "id": p.id,
        "persona_id": p.persona_id,
        "message_id": p.message_id,
        "status": p.status,
        "caption": p.caption,
        "prompt": p.prompt,
        "width": p.width,
        "height": p.height,
        "content_type": p.content_type,
        "byte_size": p.byte_size,
        "provider": p.provider,
        "model": p.model,
        "failure_reason": p.failure_reason,
        "image_url": ready.then(|| format!("/photos/{}/image", p.id)),
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    })
}
