//! The customer portal: a short-lived link to a page where the user cancels, or simulates a
//! failed payment or a renewal. Each action changes the subscription and tells the host with
//! a signed event.

use ava_sdk::billing::{PageResponse, PortalRequest, PortalSession};
use ava_sdk::{PluginError, time};
use serde_json::Value;

use crate::checkout::PERIOD_SECS;
use crate::delivery::{self, Delivery};
use crate::store::{self, Portal, Subscription};
use crate::{events, ids, pages, settings};

/// Opens a portal link for a known customer.
pub fn create(request: PortalRequest) -> Result<PortalSession, PluginError> {
    if store::load_customer(&request.customer_id)?.is_none() {
        return Err(PluginError::invalid_input(format!(
            "unknown customer `{}`",
            request.customer_id
        )));
    }
    let token = ids::portal(&request.customer_id, &request.return_url, time::now_ms())?;
    let portal = Portal {
        customer_id: request.customer_id,
        return_url: request.return_url,
    };
    store::save_portal(&token, &portal)?;
    Ok(PortalSession {
        url: format!("/dev/portal/{token}"),
    })
}

/// What a portal button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Cancel,
    FailPayment,
    Renew,
}

impl Action {
    fn parse(segment: &str) -> Option<Self> {
        match segment {
            "cancel" => Some(Self::Cancel),
            "fail-payment" => Some(Self::FailPayment),
            "renew" => Some(Self::Renew),
            _ => None,
        }
    }

    fn segment(self) -> &'static str {
        match self {
            Self::Cancel => "cancel",
            Self::FailPayment => "fail-payment",
            Self::Renew => "renew",
        }
    }

    /// Changes `subscription` and returns the event that tells the host.
    fn apply(self, subscription: &mut Subscription, now_ms: u64) -> Result<Value, PluginError> {
        match self {
            Self::Cancel => {
                subscription.status = "canceled".into();
                subscription.cancel_at_period_end = false;
                events::subscription_changed("customer.subscription.deleted", subscription, now_ms)
            }
            Self::FailPayment => {
                subscription.status = "past_due".into();
                events::invoice("invoice.payment_failed", subscription, now_ms)
            }
            Self::Renew => {
                subscription.status = "active".into();
                subscription.current_period_end += PERIOD_SECS;
                events::invoice("invoice.paid", subscription, now_ms)
            }
        }
    }
}

fn gone() -> PageResponse {
    PageResponse::html(
        404,
        pages::not_found("This portal link does not exist or has expired."),
    )
}

/// The portal's customer subscription, if the link is live.
fn open(token: &str) -> Result<Option<(Portal, Option<Subscription>)>, PluginError> {
    let Some(portal) = store::load_portal(token)? else {
        return Ok(None);
    };
    let subscription =
        match store::load_customer(&portal.customer_id)?.and_then(|c| c.subscription_id) {
            Some(id) => store::load_subscription(&id)?,
            None => None,
        };
    Ok(Some((portal, subscription)))
}

/// `GET /portal/<token>`.
pub fn view(token: &str) -> Result<PageResponse, PluginError> {
    let Some((portal, subscription)) = open(token)? else {
        return Ok(gone());
    };
    let page = pages::portal(
        token,
        subscription.as_ref(),
        &settings::product_name(),
        &settings::price_label(),
        &portal.return_url,
    );
    Ok(PageResponse::html(200, page))
}

/// `POST /portal/<token>/<action>`. A refused event stays in the outbox: the retry sends the
/// same event again instead of, say, renewing twice.
pub fn act(token: &str, action: &str, public_url: &str) -> Result<PageResponse, PluginError> {
    let Some(action) = Action::parse(action) else {
        return Ok(gone());
    };
    let Some((_, subscription)) = open(token)? else {
        return Ok(gone());
    };
    let Some(mut subscription) = subscription else {
        return Ok(PageResponse::html(
            404,
            pages::not_found("This customer has no subscription to change."),
        ));
    };
    let event = match store::load_outbox(&subscription.id, action.segment())? {
        Some(pending) => pending,
        None => {
            let event = action.apply(&mut subscription, time::now_ms())?;
            store::save_subscription(&subscription)?;
            store::save_outbox(&subscription.id, action.segment(), &event)?;
            ava_sdk::info!(
                "subscription {}: {} → {}",
                subscription.id,
                action.segment(),
                subscription.status
            );
            event
        }
    };
    let page = format!("/dev/portal/{token}");
    match delivery::deliver(public_url, &event)? {
        Delivery::Accepted => {
            store::clear_outbox(&subscription.id, action.segment())?;
            Ok(PageResponse::redirect(page))
        }
        Delivery::Refused { status, detail } => {
            let retry = format!("{page}/{}", action.segment());
            Ok(PageResponse::html(
                502,
                pages::webhook_refused(status, &detail, &retry, Some(&page)),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use ava_sdk::billing::{BillingProvider, EventKind, SubscriptionStatus};

    use super::*;
    use crate::DevBilling;
    use crate::testkit::{self, Fake, NOW_SECS, location, serve, text};

    const RETURN_URL: &str = "http://127.0.0.1:8080/settings";

    /// A paid subscription and a portal link for its customer: (fake, portal path).
    fn portal() -> (Fake, String) {
        let fake = testkit::fake();
        let session = testkit::paid(&fake, "k");
        let request = PortalRequest {
            customer_id: session.customer_id.unwrap(),
            return_url: RETURN_URL.into(),
        };
        let portal = fake
            .host
            .run(|| DevBilling::create_portal(request))
            .unwrap();
        let path = portal
            .url
            .strip_prefix("/dev")
            .expect("a /dev path")
            .to_string();
        (fake, path)
    }

    #[test]
    fn a_portal_for_an_unknown_customer_is_invalid_input() {
        let fake = testkit::fake();
        let request = PortalRequest {
            customer_id: "cus_nobody".into(),
            return_url: RETURN_URL.into(),
        };
        assert!(matches!(
            fake.host.run(|| DevBilling::create_portal(request)),
            Err(PluginError::InvalidInput(_))
        ));
    }

    #[test]
    fn the_portal_url_is_a_dev_path_with_a_token() {
        let (_, path) = portal();
        assert!(path.starts_with("/portal/bps_dev_"), "{path}");
    }

    #[test]
    fn the_portal_page_shows_status_period_end_and_buttons() {
        let (fake, path) = portal();
        let page = serve(&fake, "GET", &path);
        let html = text(&page);
        assert_eq!(page.status, 200);
        assert!(html.contains("status-active"));
        assert!(
            html.contains(&ava_sdk::date::ymd(NOW_SECS + crate::checkout::PERIOD_SECS)),
            "{html}"
        );
        assert!(html.contains("2026-01-31"));
        for (action, label) in [
            ("cancel", "Cancel subscription"),
            ("fail-payment", "Simulate failed payment"),
            ("renew", "Simulate renewal"),
        ] {
            assert!(
                html.contains(&format!(r#"action="/dev{path}/{action}""#)),
                "{action}"
            );
            assert!(html.contains(label), "{label}");
        }
        assert!(html.contains(&format!(r#"href="{RETURN_URL}""#)) && html.contains("Back to Ava"));
    }

    #[test]
    fn an_expired_portal_link_is_404() {
        let (fake, path) = portal();
        fake.host.advance(store::PORTAL_TTL_MS);
        assert_eq!(serve(&fake, "GET", &path).status, 404);
        assert_eq!(serve(&fake, "POST", &format!("{path}/cancel")).status, 404);
    }

    #[test]
    fn cancelling_sends_a_deleted_event_with_status_canceled() {
        let (fake, path) = portal();
        let response = serve(&fake, "POST", &format!("{path}/cancel"));
        assert_eq!(
            (response.status, location(&response)),
            (303, Some(format!("/dev{path}").as_str()))
        );
        let event = fake.events().pop().unwrap();
        assert_eq!(event.kind, EventKind::SubscriptionDeleted);
        assert_eq!(event.provider_type, "customer.subscription.deleted");
        assert_eq!(
            event.subscription.as_ref().map(|s| s.status),
            Some(SubscriptionStatus::Canceled)
        );
        assert_eq!(event.user_id.as_deref(), Some("user-1"));
        assert!(text(&serve(&fake, "GET", &path)).contains("status-canceled"));
    }

    #[test]
    fn a_failed_payment_sends_payment_failed_and_makes_the_subscription_past_due() {
        let (fake, path) = portal();
        assert_eq!(
            serve(&fake, "POST", &format!("{path}/fail-payment")).status,
            303
        );
        let event = fake.events().pop().unwrap();
        assert_eq!(event.kind, EventKind::PaymentFailed);
        assert_eq!(event.subscription, None);
        let sub_id = event.subscription_id.clone().unwrap();
        let stored = fake
            .host
            .run(|| DevBilling::get_subscription(sub_id))
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, SubscriptionStatus::PastDue);
    }

    #[test]
    fn a_renewal_sends_payment_succeeded_and_extends_the_period() {
        let (fake, path) = portal();
        assert_eq!(
            serve(&fake, "POST", &format!("{path}/fail-payment")).status,
            303
        );
        assert_eq!(serve(&fake, "POST", &format!("{path}/renew")).status, 303);
        let event = fake.events().pop().unwrap();
        assert_eq!(event.kind, EventKind::PaymentSucceeded);
        assert_eq!(event.provider_type, "invoice.paid");
        let stored = fake
            .host
            .run(|| DevBilling::get_subscription(event.subscription_id.unwrap()))
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, SubscriptionStatus::Active);
        assert_eq!(
            stored.current_period_end_ms,
            Some((NOW_SECS + 2 * crate::checkout::PERIOD_SECS) * 1000)
        );
    }

    #[test]
    fn the_invoice_event_has_stripes_shape() {
        let (fake, path) = portal();
        serve(&fake, "POST", &format!("{path}/renew"));
        let body = fake.host.requests().last().unwrap().json();
        let invoice = &body["data"]["object"];
        assert_eq!(body["type"], "invoice.paid");
        assert_eq!(invoice["object"], "invoice");
        assert_eq!(invoice["status"], "paid");
        assert_eq!(
            (&invoice["amount_due"], &invoice["currency"]),
            (&999.into(), &"eur".into())
        );
        assert!(invoice["id"].as_str().unwrap().starts_with("in_dev_"));
    }

    #[test]
    fn a_refused_renewal_is_retried_without_renewing_twice() {
        let (fake, path) = portal();
        fake.refuse(Some(503));
        let refused = serve(&fake, "POST", &format!("{path}/renew"));
        assert_eq!(refused.status, 502);
        assert!(text(&refused).contains(&format!(r#"action="/dev{path}/renew""#)));
        fake.refuse(None);
        assert_eq!(serve(&fake, "POST", &format!("{path}/renew")).status, 303);
        let event = fake.events().pop().unwrap();
        let stored = fake
            .host
            .run(|| DevBilling::get_subscription(event.subscription_id.unwrap()))
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.current_period_end_ms,
            Some((NOW_SECS + 2 * crate::checkout::PERIOD_SECS) * 1000)
        );
        // The outbox is empty again: the next renewal renews.
        assert_eq!(serve(&fake, "POST", &format!("{path}/renew")).status, 303);
        let stored = fake
            .host
            .run(|| DevBilling::get_subscription(stored.id))
            .unwrap()
            .unwrap();
        assert_eq!(
            stored.current_period_end_ms,
            Some((NOW_SECS + 3 * crate::checkout::PERIOD_SECS) * 1000)
        );
    }

    #[test]
    fn an_unknown_portal_action_is_404() {
        let (fake, path) = portal();
        assert_eq!(serve(&fake, "POST", &format!("{path}/refund")).status, 404);
    }
}
