//! Checkout: creating a session, its page, paying it (a subscription and a signed
//! `checkout.session.completed` to the host) and giving up.

use ava_sdk::billing::{CheckoutRequest, CheckoutSession, PageResponse};
use ava_sdk::{PluginError, time};

use crate::delivery::{self, Delivery};
use crate::store::{self, Checkout, Customer, Subscription};
use crate::{events, ids, pages, settings};

/// What a subscription costs, by the provider's one price.
pub const PRICE_ID: &str = "price_dev_monthly";
/// The length of a billing period.
pub const PERIOD_SECS: u64 = 30 * 24 * 60 * 60;

/// Starts a checkout, or returns the one already started with the same idempotency key.
pub fn create(request: CheckoutRequest) -> Result<CheckoutSession, PluginError> {
    request.check_required()?;
    let key = request.idempotency_key.trim();
    let mut key_taken = false;
    if !key.is_empty()
        && let Some(existing) = store::checkout_for_key(key)?
    {
        match store::load_checkout(&existing)? {
            Some(checkout) => return Ok(session(&checkout)),
            // The key outlived its session: start afresh under the same key.
            None => key_taken = true,
        }
    }

    let now = time::now_ms();
    let customer_id = match request.customer_id.as_deref().map(str::trim) {
        Some(id) if !id.is_empty() => id.to_string(),
        _ => ids::customer(&request.user_id)?,
    };
    let checkout = Checkout {
        id: ids::checkout(&request.user_id, key, now)?,
        user_id: request.user_id,
        email: request.email,
        customer_id,
        success_url: request.success_url,
        cancel_url: request.cancel_url,
        created_ms: now,
        complete: false,
        subscription_id: None,
    };
    store::save_checkout(&checkout, now)?;
    if key_taken {
        store::replace_key(key, &checkout.id)?;
    } else if !key.is_empty() && !store::claim_key(key, &checkout.id)? {
        // Another call with the same key won the race: answer with its session.
        if let Some(winner) = store::checkout_for_key(key)?
            .map(|id| store::load_checkout(&id))
            .transpose()?
            .flatten()
        {
            return Ok(session(&winner));
        }
    }
    ava_sdk::info!(
        "checkout {} started for user {}",
        checkout.id,
        checkout.user_id
    );
    Ok(session(&checkout))
}

fn session(checkout: &Checkout) -> CheckoutSession {
    CheckoutSession {
        id: checkout.id.clone(),
        url: format!("/dev/checkout/{}", checkout.id),
        customer_id: Some(checkout.customer_id.clone()),
    }
}

/// Where a paid checkout sends the user; Stripe's `{CHECKOUT_SESSION_ID}` is filled in.
fn success_url(checkout: &Checkout) -> String {
    checkout
        .success_url
        .replace("{CHECKOUT_SESSION_ID}", &checkout.id)
}

fn gone() -> PageResponse {
    PageResponse::html(
        404,
        pages::not_found("This checkout session does not exist or has expired."),
    )
}

/// `GET /checkout/<id>`.
pub fn view(id: &str) -> Result<PageResponse, PluginError> {
    let Some(checkout) = store::load_checkout(id)? else {
        return Ok(gone());
    };
    if checkout.complete {
        return Ok(PageResponse::html(
            200,
            pages::already_paid(&success_url(&checkout)),
        ));
    }
    let page = pages::checkout(
        &checkout,
        &settings::product_name(),
        &settings::price_label(),
    );
    Ok(PageResponse::html(200, page))
}

/// `POST /checkout/<id>/pay`: idempotent. The subscription's id comes from the checkout's,
/// so a double click or a retry after a refused webhook never makes a second one.
pub fn pay(id: &str, public_url: &str) -> Result<PageResponse, PluginError> {
    let Some(mut checkout) = store::load_checkout(id)? else {
        return Ok(gone());
    };
    if checkout.complete {
        return Ok(PageResponse::redirect(success_url(&checkout)));
    }
    let now = time::now_ms();
    let subscription = subscribe(&mut checkout, now)?;
    let event = events::checkout_completed(&checkout, &subscription.id, now / 1000)?;
    match delivery::deliver(public_url, &event)? {
        Delivery::Accepted => {
            checkout.complete = true;
            store::save_checkout(&checkout, now)?;
            ava_sdk::info!(
                "checkout {} paid: subscription {}",
                checkout.id,
                subscription.id
            );
            Ok(PageResponse::redirect(success_url(&checkout)))
        }
        Delivery::Refused { status, detail } => {
            let retry = format!("/dev/checkout/{}/pay", checkout.id);
            Ok(PageResponse::html(
                502,
                pages::webhook_refused(status, &detail, &retry, None),
            ))
        }
    }
}

/// The checkout's subscription, created (active for one period) the first time.
fn subscribe(checkout: &mut Checkout, now_ms: u64) -> Result<Subscription, PluginError> {
    let id = ids::subscription(&checkout.id)?;
    let subscription = match store::load_subscription(&id)? {
        Some(existing) => existing,
        None => {
            let created = Subscription {
                id: id.clone(),
                customer_id: checkout.customer_id.clone(),
                user_id: checkout.user_id.clone(),
                status: "active".into(),
                current_period_end: now_ms / 1000 + PERIOD_SECS,
                cancel_at_period_end: false,
                price_id: PRICE_ID.into(),
            };
            store::save_subscription(&created)?;
            created
        }
    };
    let customer = Customer {
        user_id: checkout.user_id.clone(),
        email: checkout.email.clone(),
        subscription_id: Some(id.clone()),
    };
    store::save_customer(&checkout.customer_id, &customer)?;
    if checkout.subscription_id.as_deref() != Some(id.as_str()) {
        checkout.subscription_id = Some(id);
        store::save_checkout(checkout, now_ms)?;
    }
    Ok(subscription)
}

/// `POST /checkout/<id>/cancel`.
pub fn cancel(id: &str) -> Result<PageResponse, PluginError> {
    match store::load_checkout(id)? {
        Some(checkout) => Ok(PageResponse::redirect(checkout.cancel_url)),
        None => Ok(gone()),
    }
}

#[cfg(test)]
mod tests {
    use ava_sdk::billing::{BillingProvider, EventKind, SubscriptionStatus};

    use super::*;
    use crate::DevBilling;
    use crate::testkit::{self, CANCEL_URL, SUCCESS_URL, checkout_request, location, serve, text};

    #[test]
    fn the_same_idempotency_key_gives_the_same_session() {
        let fake = testkit::fake();
        let (a, b, c) = fake.host.run(|| {
            (
                DevBilling::create_checkout(checkout_request("key-1")).unwrap(),
                DevBilling::create_checkout(checkout_request("key-1")).unwrap(),
                DevBilling::create_checkout(checkout_request("key-2")).unwrap(),
            )
        });
        assert_eq!(a, b);
        assert_ne!(a.id, c.id);
        assert!(a.id.starts_with("cs_dev_"));
        assert_eq!(a.url, format!("/dev/checkout/{}", a.id));
        assert!(
            a.customer_id
                .as_deref()
                .is_some_and(|c| c.starts_with("cus_dev_"))
        );
    }

    #[test]
    fn a_given_customer_id_is_kept() {
        let fake = testkit::fake();
        let request = CheckoutRequest {
            customer_id: Some("cus_existing".into()),
            ..checkout_request("k")
        };
        let session = fake
            .host
            .run(|| DevBilling::create_checkout(request))
            .unwrap();
        assert_eq!(session.customer_id.as_deref(), Some("cus_existing"));
    }

    #[test]
    fn a_checkout_without_a_user_is_invalid_input() {
        let fake = testkit::fake();
        let request = CheckoutRequest {
            user_id: " ".into(),
            ..checkout_request("k")
        };
        assert!(matches!(
            fake.host.run(|| DevBilling::create_checkout(request)),
            Err(PluginError::InvalidInput(_))
        ));
    }

    #[test]
    fn the_checkout_page_shows_product_price_and_email() {
        let fake = testkit::fake();
        fake.config("price_label", "$5 / week");
        let session = fake
            .host
            .run(|| DevBilling::create_checkout(checkout_request("k")))
            .unwrap();
        let page = serve(&fake, "GET", &format!("/checkout/{}", session.id));
        let html = text(&page);
        assert_eq!(page.status, 200);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("Ava — monthly"));
        assert!(html.contains("Pay $5 / week"));
        assert!(html.contains("sam@example.test"));
        assert!(html.contains("no real payment"));
        assert!(html.contains(&format!(r#"action="/dev/checkout/{}/pay""#, session.id)));
        assert!(html.contains(&format!(r#"action="/dev/checkout/{}/cancel""#, session.id)));
    }

    #[test]
    fn the_checkout_page_escapes_the_email() {
        let fake = testkit::fake();
        let request = CheckoutRequest {
            email: "<script>alert(1)</script>@x.test".into(),
            ..checkout_request("k")
        };
        let session = fake
            .host
            .run(|| DevBilling::create_checkout(request))
            .unwrap();
        let html = text(&serve(&fake, "GET", &format!("/checkout/{}", session.id)));
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;@x.test"));
    }

    #[test]
    fn an_unknown_or_expired_checkout_is_404() {
        let fake = testkit::fake();
        assert_eq!(serve(&fake, "GET", "/checkout/cs_dev_nope").status, 404);
        let session = fake
            .host
            .run(|| DevBilling::create_checkout(checkout_request("k")))
            .unwrap();
        fake.host.advance(store::CHECKOUT_TTL_MS);
        assert_eq!(
            serve(&fake, "GET", &format!("/checkout/{}", session.id)).status,
            404
        );
        assert_eq!(
            serve(&fake, "POST", &format!("/checkout/{}/pay", session.id)).status,
            404
        );
    }

    #[test]
    fn paying_sends_one_signed_completed_event_and_redirects_to_success() {
        let fake = testkit::fake();
        let session = fake
            .host
            .run(|| DevBilling::create_checkout(checkout_request("k")))
            .unwrap();
        let response = serve(&fake, "POST", &format!("/checkout/{}/pay", session.id));
        assert_eq!(response.status, 303);
        assert_eq!(location(&response), Some(SUCCESS_URL));
        assert_eq!(fake.posts(), 1);
        let events = fake.events();
        assert_eq!(events.len(), 1, "the host verified and accepted the event");
        let event = &events[0];
        assert_eq!(event.kind, EventKind::CheckoutCompleted);
        assert_eq!(event.provider_type, "checkout.session.completed");
        assert_eq!(event.user_id.as_deref(), Some("user-1"));
        assert_eq!(event.customer_id, session.customer_id);
        assert!(event.id.starts_with("evt_dev_"));
        let subscription = event
            .subscription
            .as_ref()
            .expect("a subscription snapshot");
        assert_eq!(Some(&subscription.id), event.subscription_id.as_ref());
        assert_eq!(subscription.status, SubscriptionStatus::Active);
    }

    #[test]
    fn the_posted_event_has_stripes_shape() {
        let fake = testkit::fake();
        let session = testkit::paid(&fake, "k");
        let body = fake.host.requests()[0].json();
        assert_eq!(body["object"], "event");
        assert_eq!(body["livemode"], false);
        assert_eq!(body["created"], testkit::NOW_SECS);
        let object = &body["data"]["object"];
        assert_eq!(object["object"], "checkout.session");
        assert_eq!(object["id"], session.id.as_str());
        assert_eq!(object["client_reference_id"], "user-1");
        assert_eq!(object["customer_email"], "sam@example.test");
        assert_eq!(object["metadata"]["user_id"], "user-1");
        assert_eq!(
            (
                &object["mode"],
                &object["payment_status"],
                &object["status"]
            ),
            (&"subscription".into(), &"paid".into(), &"complete".into())
        );
    }

    #[test]
    fn paying_twice_makes_one_subscription_and_one_event() {
        let fake = testkit::fake();
        let session = testkit::paid(&fake, "k");
        let again = serve(&fake, "POST", &format!("/checkout/{}/pay", session.id));
        assert_eq!((again.status, location(&again)), (303, Some(SUCCESS_URL)));
        assert_eq!(fake.posts(), 1);
        assert_eq!(fake.events().len(), 1);
    }

    #[test]
    fn a_refused_webhook_shows_502_and_the_retry_succeeds_with_one_subscription() {
        let fake = testkit::fake();
        let session = fake
            .host
            .run(|| DevBilling::create_checkout(checkout_request("k")))
            .unwrap();
        fake.refuse(Some(500));
        let refused = serve(&fake, "POST", &format!("/checkout/{}/pay", session.id));
        assert_eq!(refused.status, 502);
        let html = text(&refused);
        assert!(
            html.contains("HTTP 500") && html.contains("webhook handler exploded"),
            "{html}"
        );
        assert!(html.contains(&format!(r#"action="/dev/checkout/{}/pay""#, session.id)));
        // Still open: the page offers to pay again.
        assert!(text(&serve(&fake, "GET", &format!("/checkout/{}", session.id))).contains("Pay "));

        fake.refuse(None);
        let retried = serve(&fake, "POST", &format!("/checkout/{}/pay", session.id));
        assert_eq!(
            (retried.status, location(&retried)),
            (303, Some(SUCCESS_URL))
        );
        let first = fake.host.requests()[0].json();
        let second = fake.host.requests()[1].json();
        assert_eq!(
            first["data"]["object"]["subscription"],
            second["data"]["object"]["subscription"]
        );
        assert_eq!(
            first["id"], second["id"],
            "the retry is the same event for the host"
        );
        assert_eq!(fake.events().len(), 1);
    }

    #[test]
    fn an_unreachable_host_also_shows_502() {
        let fake = testkit::Fake::with_host(
            ava_sdk::testing::TestHost::new().secret("webhook_secret", "whsec_test"),
        );
        let session = fake
            .host
            .run(|| DevBilling::create_checkout(checkout_request("k")))
            .unwrap();
        let response = serve(&fake, "POST", &format!("/checkout/{}/pay", session.id));
        assert_eq!(response.status, 502);
        assert!(text(&response).contains("could not be reached"));
    }

    #[test]
    fn a_paid_checkout_page_says_so_with_a_link_to_success() {
        let fake = testkit::fake();
        let session = testkit::paid(&fake, "k");
        let html = text(&serve(&fake, "GET", &format!("/checkout/{}", session.id)));
        assert!(html.contains("Already paid"));
        assert!(html.contains(&format!(r#"href="{SUCCESS_URL}""#)));
    }

    #[test]
    fn cancel_redirects_to_the_cancel_url() {
        let fake = testkit::fake();
        let session = fake
            .host
            .run(|| DevBilling::create_checkout(checkout_request("k")))
            .unwrap();
        let response = serve(&fake, "POST", &format!("/checkout/{}/cancel", session.id));
        assert_eq!(
            (response.status, location(&response)),
            (303, Some(CANCEL_URL))
        );
        assert_eq!(fake.posts(), 0);
    }

    #[test]
    fn the_session_id_placeholder_of_the_success_url_is_filled_in() {
        let fake = testkit::fake();
        let request = CheckoutRequest {
            success_url: format!("{SUCCESS_URL}?session={{CHECKOUT_SESSION_ID}}"),
            ..checkout_request("k")
        };
        let session = fake
            .host
            .run(|| DevBilling::create_checkout(request))
            .unwrap();
        let response = serve(&fake, "POST", &format!("/checkout/{}/pay", session.id));
        assert_eq!(
            location(&response),
            Some(format!("{SUCCESS_URL}?session={}", session.id).as_str())
        );
    }
}
