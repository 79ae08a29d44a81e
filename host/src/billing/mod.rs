//! Subscription billing, whatever the provider: checkout, the customer portal, the state a
//! user's access depends on, and the webhooks that change it.
//!
//! The active `billing-provider` plugin talks to the provider (Stripe, the development
//! provider, any other); this module keeps the state and decides what every verified event
//! does to it ([`machine`]). Each change is followed by [`Chat::forget_user`], so the paywall
//! sees it at once.

pub mod checkout;
pub mod machine;
pub mod webhook;
mod writer;

use std::sync::Arc;

use crate::chat::Chat;
use crate::db::{Db, DbError};
use crate::plugins::{CallError, Registry};

pub use webhook::Receipt;

/// Why a billing request failed.
#[derive(Debug, thiserror::Error)]
pub enum BillingError {
    /// The user already has a subscription that grants access.
    #[error("You already have an active subscription")]
    AlreadySubscribed,
    /// The user never checked out with the active provider: there is nothing to manage.
    #[error("No subscription to manage yet: subscribe first")]
    NoCustomer,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A webhook that is forged, stale, or not an event at all.
    #[error("{0}")]
    Rejected(String),
    /// The plugin answered something the host cannot use.
    #[error("the billing plugin {plugin} returned {what}")]
    BadAnswer { plugin: String, what: String },
    /// Another replica recorded the same event at the same moment; delivered again, it is a
    /// duplicate.
    #[error("the event was recorded concurrently")]
    Raced,
    #[error(transparent)]
    Plugin(#[from] CallError),
    #[error(transparent)]
    Db(#[from] DbError),
}

pub type BillingResult<T> = Result<T, BillingError>;

/// The billing service.
pub struct Billing {
    db: Db,
    registry: Arc<Registry>,
    chat: Arc<Chat>,
    writer: writer::EventWriter,
    /// The host's public base URL, without a trailing `/`.
    public_url: String,
}

impl Billing {
    pub fn new(db: Db, registry: Arc<Registry>, chat: Arc<Chat>, public_url: String) -> Self {
        Self {
            writer: writer::EventWriter::start(db.clone()),
            db,
            registry,
            chat,
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    /// The public base URL pages and redirects are resolved against.
    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The active billing provider.
    fn provider(&self) -> BillingResult<crate::plugins::Billing> {
        Ok(self.registry.current().billing()?)
    }
}
