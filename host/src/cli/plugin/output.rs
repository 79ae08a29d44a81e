//! `ava plugin call`: the contract's result records as JSON, fields in snake_case.

use serde_json::{Value, json};

use crate::plugins::types::{
    BillingEvent, ChatReply, CheckoutSession, EventKind, ImageData, ImageOutput, JobOutcome,
    PageResponse, PortalSession, Subscription, SubscriptionStatus, WebhookOutcome,
};

pub fn chat_reply(reply: &ChatReply) -> Value {
    json!({
        "text": reply.text,
        "photo": reply.photo.as_ref().map(|p| json!({
            "prompt": p.prompt,
            "negative_prompt": p.negative_prompt,
            "caption": p.caption,
        })),
        "model": reply.model,
        "usage": reply.usage.as_ref().map(|u| json!({
            "prompt_tokens": u.prompt_tokens,
            "completion_tokens": u.completion_tokens,
        })),
    })
}

/// An image output, its bytes as their size.
pub fn image_output(output: &ImageOutput) -> Value {
    let image = match &output.image {
        ImageData::Bytes(bytes) => json!({
            "content_type": bytes.content_type,
            "bytes": bytes.data.len(),
        }),
        ImageData::Url(url) => json!({ "url": url }),
    };
    json!({ "image": image, "seed": output.seed, "model": output.model })
}

pub fn job_outcome(outcome: &JobOutcome) -> Value {
    match outcome {
        JobOutcome::Done => json!({ "outcome": "done" }),
        JobOutcome::Retry(retry) => json!({
            "outcome": "retry",
            "delay_ms": retry.delay_ms,
            "reason": retry.reason,
        }),
        JobOutcome::Failed(reason) => json!({ "outcome": "failed", "reason": reason }),
    }
}

pub fn checkout_session(session: &CheckoutSession) -> Value {
    json!({ "id": session.id, "url": session.url, "customer_id": session.customer_id })
}

pub fn portal_session(session: &PortalSession) -> Value {
    json!({ "url": session.url })
}

pub fn webhook_outcome(outcome: &WebhookOutcome) -> Value {
    match outcome {
        WebhookOutcome::Event(event) => json!({ "event": billing_event(event) }),
        WebhookOutcome::Ignored(reason) => json!({ "ignored": reason }),
    }
}

fn billing_event(event: &BillingEvent) -> Value {
    let kind = match event.kind {
        EventKind::CheckoutCompleted => "checkout-completed",
        EventKind::SubscriptionUpdated => "subscription-updated",
        EventKind::SubscriptionDeleted => "subscription-deleted",
        EventKind::PaymentSucceeded => "payment-succeeded",
        EventKind::PaymentFailed => "payment-failed",
    };
    json!({
        "id": event.id,
        "kind": kind,
        "provider_type": event.provider_type,
        "created_at_ms": event.created_at_ms,
        "user_id": event.user_id,
        "customer_id": event.customer_id,
        "subscription_id": event.subscription_id,
        "subscription": event.subscription.as_ref().map(subscription),
    })
}

pub fn subscription(s: &Subscription) -> Value {
    let status = match s.status {
        SubscriptionStatus::Incomplete => "incomplete",
        SubscriptionStatus::IncompleteExpired => "incomplete-expired",
        SubscriptionStatus::Trialing => "trialing",
        SubscriptionStatus::Active => "active",
        SubscriptionStatus::PastDue => "past-due",
        SubscriptionStatus::Unpaid => "unpaid",
        SubscriptionStatus::Canceled => "canceled",
        SubscriptionStatus::Paused => "paused",
    };
    json!({
        "id": s.id,
        "customer_id": s.customer_id,
        "user_id": s.user_id,
        "status": status,
        "current_period_end_ms": s.current_period_end_ms,
        "cancel_at_period_end": s.cancel_at_period_end,
        "price_id": s.price_id,
    })
}

/// A page, its body as text.
pub fn page_response(page: &PageResponse) -> Value {
    json!({
        "status": page.status,
        "headers": page.headers,
        "body": String::from_utf8_lossy(&page.body),
    })
}
