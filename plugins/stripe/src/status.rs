//! Stripe's subscription statuses in the host's vocabulary.

use ava_sdk::PluginError;
use ava_sdk::billing::SubscriptionStatus;

/// The status Stripe spells `word`. A status this contract does not know is refused rather
/// than guessed: a wrong guess could grant or remove access.
pub fn from_stripe(word: &str) -> Result<SubscriptionStatus, PluginError> {
    Ok(match word {
        "active" => SubscriptionStatus::Active,
        "trialing" => SubscriptionStatus::Trialing,
        "past_due" => SubscriptionStatus::PastDue,
        "unpaid" => SubscriptionStatus::Unpaid,
        "canceled" => SubscriptionStatus::Canceled,
        "incomplete" => SubscriptionStatus::Incomplete,
        "incomplete_expired" => SubscriptionStatus::IncompleteExpired,
        "paused" => SubscriptionStatus::Paused,
        other => {
            return Err(PluginError::invalid_input(format!(
                "unknown subscription status `{other}`"
            )));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_stripe_documents_is_known() {
        for (word, status) in [
            ("active", SubscriptionStatus::Active),
            ("trialing", SubscriptionStatus::Trialing),
            ("past_due", SubscriptionStatus::PastDue),
            ("unpaid", SubscriptionStatus::Unpaid),
            ("canceled", SubscriptionStatus::Canceled),
            ("incomplete", SubscriptionStatus::Incomplete),
            ("incomplete_expired", SubscriptionStatus::IncompleteExpired),
            ("paused", SubscriptionStatus::Paused),
        ] {
            assert_eq!(from_stripe(word), Ok(status), "{word}");
        }
    }

    #[test]
    fn an_unknown_status_is_refused_by_name() {
        assert!(matches!(
            from_stripe("sleeping"),
            Err(PluginError::InvalidInput(m)) if m.contains("`sleeping`")
        ));
    }
}
