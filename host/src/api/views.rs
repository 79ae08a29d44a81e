//! How domain records look in the API's JSON. Each view is a typed struct that is both what
//! is serialized and what the OpenAPI document describes (`ToSchema`), so the two cannot
//! disagree.

use serde::Serialize;
use utoipa::ToSchema;

use crate::db::messages::Message;
use crate::db::personas::Persona;
use crate::db::preferences::Preferences;
use crate::db::subscriptions::Subscription;
use crate::db::users::User;

/// An account.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = User)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub display_name: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub created_at: i64,
}

pub fn user(u: &User) -> UserView {
    UserView {
        id: u.id.clone(),
        email: u.email.clone(),
        display_name: u.display_name.clone(),
        created_at: u.created_at,
    }
}

/// A persona (a Character Card) of the user.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Persona)]
pub struct PersonaView {
    pub id: String,
    pub name: String,
    pub style: String,
    pub description: String,
    pub personality: String,
    pub scenario: String,
    pub greeting: String,
    pub example_dialogue: String,
    pub system_prompt: String,
    pub post_history_instructions: String,
    /// What the persona looks like: the prompt of the photos it sends.
    pub appearance: String,
    pub alternate_greetings: Vec<String>,
    pub tags: Vec<String>,
    pub creator: String,
    pub creator_notes: String,
    /// The seed its photos are drawn with, so they look like the same person.
    pub photo_seed: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// On an import only: the card version read (`v1`, `v2`, `v3`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<&'static str>,
}

pub fn persona(p: &Persona) -> PersonaView {
    let d = &p.data;
    PersonaView {
        id: p.id.clone(),
        name: d.name.clone(),
        style: d.style.clone(),
        description: d.description.clone(),
        personality: d.personality.clone(),
        scenario: d.scenario.clone(),
        greeting: d.greeting.clone(),
        example_dialogue: d.example_dialogue.clone(),
        system_prompt: d.system_prompt.clone(),
        post_history_instructions: d.post_history_instructions.clone(),
        appearance: d.appearance.clone(),
        alternate_greetings: d.alternate_greetings.clone(),
        tags: d.tags.clone(),
        creator: d.creator.clone(),
        creator_notes: d.creator_notes.clone(),
        photo_seed: p.photo_seed,
        created_at: p.created_at,
        updated_at: p.updated_at,
        imported_from: None,
    }
}

/// The user's preferences.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Preferences)]
pub struct PreferencesView {
    /// `secretary` or `intimate`.
    pub mode: String,
    pub active_persona_id: Option<String>,
    /// Whether personas may send photos.
    pub photos_enabled: bool,
    /// Whether the user confirmed being 18 or older (intimate mode needs it).
    pub adult_confirmed: bool,
    pub adult_confirmed_at: Option<i64>,
    pub updated_at: i64,
}

pub fn preferences(p: &Preferences) -> PreferencesView {
    PreferencesView {
        mode: p.mode.clone(),
        active_persona_id: p.active_persona_id.clone(),
        photos_enabled: p.photos_enabled,
        adult_confirmed: p.adult_confirmed_at.is_some(),
        adult_confirmed_at: p.adult_confirmed_at,
        updated_at: p.updated_at,
    }
}

/// The user's subscription; `status` is `none` for a user who never subscribed.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Subscription)]
pub struct SubscriptionView {
    /// `none`, `active`, `trialing`, `past_due`, `unpaid`, `canceled`, `incomplete`, ...
    pub status: String,
    /// Whether the status grants access to chat (`active`, `trialing`, `past_due`).
    pub active: bool,
    /// End of the paid period, ms since the epoch.
    pub current_period_end: Option<i64>,
    pub cancel_at_period_end: bool,
}

pub fn subscription(s: Option<&Subscription>) -> SubscriptionView {
    match s {
        None => SubscriptionView {
            status: "none".into(),
            active: false,
            current_period_end: None,
            cancel_at_period_end: false,
        },
        Some(s) => SubscriptionView {
            status: s.status.clone(),
            active: s.grants_access(),
            current_period_end: s.current_period_end,
            cancel_at_period_end: s.cancel_at_period_end,
        },
    }
}

/// A message as the API shows it. Serialized straight from the row (no `Value` in
/// between): a chat turn answers two of these, and building maps of them cost more than
/// writing them.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Message)]
pub struct MessageView<'a> {
    id: &'a str,
    persona_id: &'a str,
    /// The message's position in its conversation, from 1.
    seq: i64,
    /// `user` or `assistant`.
    role: &'a str,
    content: &'a str,
    /// The mode the message was written in.
    mode: &'a str,
    /// The photo this reply sends, if any.
    #[schema(nullable = true)]
    photo: Option<MessagePhoto<'a>>,
    created_at: i64,
}

/// The photo a message sends, as far as its state is known.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessagePhoto<'a> {
    id: Option<&'a str>,
    caption: Option<&'a str>,
    prompt: Option<&'a str>,
    /// `pending`, `ready` or `failed`.
    status: &'a str,
    /// Where the image is, once ready (needs the bearer token).
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

/// A photo a persona sent: `image_url` once it is ready.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Photo)]
pub struct PhotoView {
    pub id: String,
    pub persona_id: String,
    pub message_id: Option<String>,
    /// `pending`, `ready` or `failed`.
    pub status: String,
    pub caption: Option<String>,
    pub prompt: String,
    pub width: i64,
    pub height: i64,
    pub content_type: Option<String>,
    pub byte_size: Option<i64>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub failure_reason: Option<String>,
    /// Where the image is, once ready (needs the bearer token).
    pub image_url: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub fn photo(p: &crate::db::photos::Photo) -> PhotoView {
    let ready = p.status == "ready";
    PhotoView {
        id: p.id.clone(),
        persona_id: p.persona_id.clone(),
        message_id: p.message_id.clone(),
        status: p.status.clone(),
        caption: p.caption.clone(),
        prompt: p.prompt.clone(),
        width: p.width,
        height: p.height,
        content_type: p.content_type.clone(),
        byte_size: p.byte_size,
        provider: p.provider.clone(),
        model: p.model.clone(),
        failure_reason: p.failure_reason.clone(),
        image_url: ready.then(|| format!("/photos/{}/image", p.id)),
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

/// The error body of every failure.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// What went wrong, for the user.
    pub detail: String,
    /// On a 422 validation error: the field at fault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}
