//! How many bytes a call's result holds, to enforce each plugin's output limit.

use super::types::*;

/// The approximate size of a value returned by a plugin: the bytes of its strings and lists.
pub trait OutputSize {
    fn output_size(&self) -> u64;
}

fn len(s: &str) -> u64 {
    s.len() as u64
}

fn opt(s: &Option<String>) -> u64 {
    s.as_deref().map_or(0, len)
}

fn headers(h: &[(String, String)]) -> u64 {
    h.iter().map(|(k, v)| len(k) + len(v)).sum()
}

impl<T: OutputSize> OutputSize for Result<T, PluginError> {
    fn output_size(&self) -> u64 {
        match self {
            Ok(value) => value.output_size(),
            Err(err) => err.output_size(),
        }
    }
}

impl<T: OutputSize> OutputSize for Option<T> {
    fn output_size(&self) -> u64 {
        self.as_ref().map_or(0, OutputSize::output_size)
    }
}

impl OutputSize for PluginError {
    fn output_size(&self) -> u64 {
        match self {
            Self::InvalidInput(m)
            | Self::Unauthorized(m)
            | Self::Unsupported(m)
            | Self::Internal(m) => len(m),
            Self::Upstream(u) => len(&u.message) + opt(&u.code),
            Self::Unavailable(u) => len(&u.message),
        }
    }
}

impl OutputSize for () {
    fn output_size(&self) -> u64 {
        0
    }
}

impl OutputSize for usize {
    fn output_size(&self) -> u64 {
        0
    }
}

impl OutputSize for String {
    fn output_size(&self) -> u64 {
        len(self)
    }
}

impl OutputSize for Vec<String> {
    fn output_size(&self) -> u64 {
        self.iter().map(|s| len(s)).sum()
    }
}

impl OutputSize for PluginInfo {
    fn output_size(&self) -> u64 {
        len(&self.name)
            + len(&self.version)
            + len(&self.contract)
            + len(&self.description)
            + self
                .config
                .iter()
                .map(|k| len(&k.name) + len(&k.description))
                .sum::<u64>()
    }
}

impl OutputSize for ChatReply {
    fn output_size(&self) -> u64 {
        len(&self.text)
            + opt(&self.model)
            + self.photo.as_ref().map_or(0, |p| {
                len(&p.prompt) + opt(&p.negative_prompt) + opt(&p.caption)
            })
    }
}

impl OutputSize for CheckoutSession {
    fn output_size(&self) -> u64 {
        len(&self.id) + len(&self.url) + opt(&self.customer_id)
    }
}

impl OutputSize for PortalSession {
    fn output_size(&self) -> u64 {
        len(&self.url)
    }
}

impl OutputSize for Subscription {
    fn output_size(&self) -> u64 {
        len(&self.id) + len(&self.customer_id) + opt(&self.user_id) + opt(&self.price_id)
    }
}

impl OutputSize for WebhookOutcome {
    fn output_size(&self) -> u64 {
        match self {
            Self::Ignored(reason) => len(reason),
            Self::Event(e) => {
                len(&e.id)
                    + len(&e.provider_type)
                    + opt(&e.user_id)
                    + opt(&e.customer_id)
                    + opt(&e.subscription_id)
                    + e.subscription.output_size()
            }
        }
    }
}

impl OutputSize for PageResponse {
    fn output_size(&self) -> u64 {
        headers(&self.headers) + self.body.len() as u64
    }
}

impl OutputSize for ImageOutput {
    fn output_size(&self) -> u64 {
        opt(&self.model)
            + match &self.image {
                ImageData::Bytes(b) => len(&b.content_type) + b.data.len() as u64,
                ImageData::Url(url) => len(url),
            }
    }
}

impl OutputSize for JobOutcome {
    fn output_size(&self) -> u64 {
        match self {
            Self::Done => 0,
            Self::Retry(r) => len(&r.reason),
            Self::Failed(reason) => len(reason),
        }
    }
}
