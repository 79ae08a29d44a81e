//! The contract's records, as the host sees them. The rest of the host uses these names, not
//! the generated modules.

pub use super::bindings::billing_provider::ava::plugin::billing::{
    BillingEvent, CheckoutRequest, CheckoutSession, EventKind, PageRequest, PageResponse,
    PortalRequest, PortalSession, Subscription, SubscriptionStatus, WebhookOutcome, WebhookRequest,
};
pub use super::bindings::chat_persona::ava::plugin::chat::{
    ChatMessage, ChatMode, ChatReply, ChatRequest, Persona, PhotoRequest, Role, SummaryRequest,
    TokenUsage,
};
pub use super::bindings::job_handler::ava::plugin::host::{
    HttpError, HttpMethod, HttpRequest, HttpResponse, SecretError, StorageError,
};
pub use super::bindings::job_handler::ava::plugin::image_types::{
    GeneratedImage, ImageBytes, ImageData, ImageOutput, ImageRequest,
};
pub use super::bindings::job_handler::ava::plugin::job_types::{Job, JobOutcome, Retry};
pub use super::bindings::job_handler::ava::plugin::photos::PhotoSpec;
pub use super::bindings::job_handler::ava::plugin::types::{
    ConfigKey, LogLevel, PluginError, PluginInfo, Unavailable, UpstreamFailure,
};
