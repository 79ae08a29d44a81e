//! The subscription state machine: whether a provider's view of a subscription replaces
//! the one Ava holds. Pure, so every ordering of events can be tested without a server.
//!
//! Webhooks arrive late, twice, concurrently and out of order. The rules:
//! 1. A state older than the one held changes nothing (`state_as_of`, the provider's event
//!    time). A tie is applied: same-second events are re-fetched from the provider first, so
//!    the later arrival carries the newer truth.
//! 2. `canceled` and `incomplete_expired` are final for a subscription: no later "active"
//!    about the same subscription revives it (Stripe never reactivates one either).
//! 3. News about another subscription than the one held (an old one, or a second checkout)
//!    never takes access away: it replaces the held one only when it grants access, or when
//!    neither grants access and it is newer.

use crate::db::subscriptions::{Subscription, status_grants_access};

/// A subscription as an event (or a re-fetch through the provider) describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub provider: String,
    pub subscription_id: Option<String>,
    pub customer_id: Option<String>,
    /// Stripe's vocabulary: `active`, `past_due`, `canceled`, ...
    pub status: String,
    pub current_period_end: Option<i64>,
    /// `None` when the event does not say: the held value stays.
    pub cancel_at_period_end: Option<bool>,
    pub price_id: Option<String>,
    /// When the provider created the event this state comes from (ms).
    pub as_of: i64,
}

/// What becomes of an event.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Store this row.
    Apply(Subscription),
    /// Keep the held row; the reason is recorded with the event.
    Keep(Outcome),
}

/// Why an event changed nothing, as recorded in `billing_events.outcome`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Applied,
    /// Older than the state held.
    Stale,
    /// About a subscription that has ended for good.
    Final,
    /// About another subscription, while the held one grants access.
    Superseded,
    /// No user could be matched to the event.
    Unmatched,
    /// Neither the event nor the provider said what the subscription is now.
    Uninformative,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Applied => "applied",
            Self::Stale => "stale",
            Self::Final => "final",
            Self::Superseded => "superseded",
            Self::Unmatched => "unmatched",
            Self::Uninformative => "uninformative",
        }
    }
}

/// Statuses a subscription never leaves.
fn is_final(status: &str) -> bool {
    matches!(status, "canceled" | "incomplete_expired")
}

/// Whether `candidate` replaces `held` for `user_id`, and the row to store if so.
pub fn decide(
    user_id: &str,
    held: Option<&Subscription>,
    candidate: &Candidate,
    now: i64,
) -> Decision {
    // The customer is the provider's, whatever became of the subscriptions.
    let known_customer = held
        .filter(|h| h.provider == candidate.provider)
        .and_then(|h| h.customer_id.clone());
    // A row with status `none` only remembers the customer of a checkout started.
    let held = held.filter(|h| h.subscription_id.is_some() || h.status != "none");
    // The held subscription when the candidate is about it (an event that names no
    // subscription is about the one held): its fields fill in what the event leaves out.
    let previous = held.filter(|h| {
        candidate.subscription_id.is_none() || h.subscription_id == candidate.subscription_id
    });
    match (held, previous) {
        (Some(held), Some(_)) => {
            if is_final(&held.status) && !is_final(&candidate.status) {
                return Decision::Keep(Outcome::Final);
            }
            if candidate.as_of < held.state_as_of {
                return Decision::Keep(Outcome::Stale);
            }
        }
        (Some(held), None) => {
            let held_grants = held.grants_access();
            let replaces = match (held_grants, status_grants_access(&candidate.status)) {
                (true, false) => false,
                (false, true) => true,
                _ => candidate.as_of >= held.state_as_of,
            };
            if !replaces {
                return Decision::Keep(if held_grants {
                    Outcome::Superseded
                } else {
                    Outcome::Stale
                });
            }
        }
        (None, _) => {}
    }
    Decision::Apply(Subscription {
        user_id: user_id.to_string(),
        provider: candidate.provider.clone(),
        customer_id: candidate.customer_id.clone().or(known_customer),
        subscription_id: candidate
            .subscription_id
            .clone()
            .or_else(|| previous.and_then(|h| h.subscription_id.clone())),
        status: candidate.status.clone(),
        current_period_end: candidate
            .current_period_end
            .or_else(|| previous.and_then(|h| h.current_period_end)),
        cancel_at_period_end: candidate
            .cancel_at_period_end
            .unwrap_or_else(|| previous.is_some_and(|h| h.cancel_at_period_end)),
        price_id: candidate
            .price_id
            .clone()
            .or_else(|| previous.and_then(|h| h.price_id.clone())),
        state_as_of: candidate.as_of.max(held.map_or(0, |h| h.state_as_of)),
        updated_at: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: &str = "user-1";

    fn held(sub: &str, status: &str, as_of: i64) -> Subscription {
        Subscription {
            user_id: USER.into(),
            provider: "stripe".into(),
            customer_id: Some("cus_1".into()),
            subscription_id: Some(sub.into()),
            status: status.into(),
            current_period_end: Some(5_000),
            cancel_at_period_end: true,
            price_id: Some("price_1".into()),
            state_as_of: as_of,
            updated_at: as_of,
        }
    }

    fn candidate(sub: &str, status: &str, as_of: i64) -> Candidate {
        Candidate {
            provider: "stripe".into(),
            subscription_id: Some(sub.into()),
            customer_id: None,
            status: status.into(),
            current_period_end: None,
            cancel_at_period_end: None,
            price_id: None,
            as_of,
        }
    }

    fn applied(decision: Decision) -> Subscription {
        match decision {
            Decision::Apply(s) => s,
            other => panic!("expected a new state, got {other:?}"),
        }
    }

    #[test]
    fn the_first_event_creates_the_state() {
        let s = applied(decide(USER, None, &candidate("sub_1", "active", 100), 7));
        assert_eq!(s.status, "active");
        assert_eq!(s.subscription_id.as_deref(), Some("sub_1"));
        assert_eq!((s.state_as_of, s.updated_at), (100, 7));
        assert!(!s.cancel_at_period_end);
    }

    #[test]
    fn a_checkout_placeholder_counts_as_no_state() {
        let mut placeholder = held("x", "none", 0);
        placeholder.subscription_id = None;
        placeholder.state_as_of = 500;
        let s = applied(decide(
            USER,
            Some(&placeholder),
            &candidate("sub_1", "active", 100),
            7,
        ));
        assert_eq!(s.status, "active");
        assert_eq!(
            s.customer_id.as_deref(),
            Some("cus_1"),
            "the customer is kept"
        );
    }

    #[test]
    fn an_older_event_changes_nothing() {
        let h = held("sub_1", "past_due", 200);
        assert_eq!(
            decide(USER, Some(&h), &candidate("sub_1", "active", 199), 7),
            Decision::Keep(Outcome::Stale)
        );
    }

    #[test]
    fn a_tie_is_applied() {
        let h = held("sub_1", "past_due", 200);
        assert_eq!(
            applied(decide(
                USER,
                Some(&h),
                &candidate("sub_1", "active", 200),
                7
            ))
            .status,
            "active"
        );
    }

    #[test]
    fn canceled_is_final_even_for_a_newer_active() {
        let h = held("sub_1", "canceled", 200);
        assert_eq!(
            decide(USER, Some(&h), &candidate("sub_1", "active", 300), 7),
            Decision::Keep(Outcome::Final)
        );
        // ... but a newer word that it is still canceled is taken (a new period end, say).
        assert_eq!(
            applied(decide(
                USER,
                Some(&h),
                &candidate("sub_1", "canceled", 300),
                7
            ))
            .status,
            "canceled"
        );
    }

    #[test]
    fn payment_failed_then_paid_ends_active() {
        let failed = applied(decide(
            USER,
            Some(&held("sub_1", "active", 100)),
            &candidate("sub_1", "past_due", 200),
            7,
        ));
        assert_eq!(failed.status, "past_due");
        let paid = applied(decide(
            USER,
            Some(&failed),
            &candidate("sub_1", "active", 300),
            8,
        ));
        assert_eq!(paid.status, "active");
        // Delivered the other way round, the failure is stale.
        assert_eq!(
            decide(USER, Some(&paid), &candidate("sub_1", "past_due", 200), 9),
            Decision::Keep(Outcome::Stale)
        );
    }

    #[test]
    fn fields_the_event_does_not_carry_are_kept_for_the_same_subscription() {
        let h = held("sub_1", "active", 100);
        let s = applied(decide(
            USER,
            Some(&h),
            &candidate("sub_1", "past_due", 200),
            7,
        ));
        assert_eq!(s.current_period_end, Some(5_000));
        assert!(s.cancel_at_period_end);
        assert_eq!(s.price_id.as_deref(), Some("price_1"));
        assert_eq!(s.customer_id.as_deref(), Some("cus_1"));
    }

    #[test]
    fn an_event_without_a_subscription_id_is_about_the_held_one() {
        let h = held("sub_1", "active", 100);
        let mut c = candidate("x", "past_due", 200);
        c.subscription_id = None;
        let s = applied(decide(USER, Some(&h), &c, 7));
        assert_eq!(s.subscription_id.as_deref(), Some("sub_1"));
        assert_eq!(s.status, "past_due");
    }

    #[test]
    fn the_end_of_an_old_subscription_does_not_touch_a_new_active_one() {
        let h = held("sub_2", "active", 100);
        assert_eq!(
            decide(USER, Some(&h), &candidate("sub_1", "canceled", 300), 7),
            Decision::Keep(Outcome::Superseded)
        );
    }

    #[test]
    fn a_new_subscription_replaces_an_ended_one_whatever_the_times() {
        let h = held("sub_1", "canceled", 300);
        let s = applied(decide(
            USER,
            Some(&h),
            &candidate("sub_2", "active", 200),
            7,
        ));
        assert_eq!(s.subscription_id.as_deref(), Some("sub_2"));
        assert_eq!(s.status, "active");
        assert_eq!(
            s.current_period_end, None,
            "the old period is not carried over"
        );
        assert!(!s.cancel_at_period_end);
        assert_eq!(s.price_id, None);
        assert_eq!(s.state_as_of, 300, "the clock never goes back");
    }

    #[test]
    fn between_two_ended_subscriptions_the_newer_word_wins() {
        let h = held("sub_1", "canceled", 300);
        assert_eq!(
            decide(
                USER,
                Some(&h),
                &candidate("sub_2", "incomplete_expired", 200),
                7
            ),
            Decision::Keep(Outcome::Stale)
        );
        assert_eq!(
            applied(decide(
                USER,
                Some(&h),
                &candidate("sub_2", "unpaid", 400),
                7
            ))
            .status,
            "unpaid"
        );
    }
}
