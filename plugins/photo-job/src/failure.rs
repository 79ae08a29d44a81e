//! What a failed photo tells the user. The job's own failure reason goes to the logs and the
//! dead-letter queue; the user sees a short sentence that leaks no internals.

use ava_sdk::PluginError;

/// A sentence for the user about why their photo could not be made.
pub fn user_reason(err: &PluginError) -> String {
    match err {
        PluginError::Unavailable(_) => {
            "The image service is busy right now, so this photo could not be made. Please ask again later.".into()
        }
        // The contract marks an upstream failure's message as safe to show to users.
        PluginError::Upstream(u) if !u.message.trim().is_empty() => {
            format!("The image service could not make this photo: {}", u.message.trim())
        }
        PluginError::InvalidInput(_) => "The image service refused this photo's description.".into(),
        _ => "The image service is not working right now, so this photo could not be made.".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_details_are_not_shown() {
        let reason = user_reason(&PluginError::internal("panic at src/x.rs:12 token sk_123"));
        assert!(!reason.contains("sk_123"));
    }

    #[test]
    fn an_upstream_message_is_shown() {
        let reason = user_reason(&PluginError::upstream(
            Some(400),
            None,
            "content policy violation",
        ));
        assert!(reason.ends_with("content policy violation"));
    }
}
