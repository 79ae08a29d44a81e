//! How Ava's user id travels through Stripe: in the metadata of the checkout session and of
//! the subscription it creates, from where Stripe copies it into each invoice's
//! `subscription_details`.

/// The metadata key holding Ava's user id.
pub const USER_ID: &str = "user_id";
