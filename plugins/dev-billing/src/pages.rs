//! The HTML of the development pages: complete, self-contained documents (inline CSS, dark
//! theme, no scripts) that work on a phone. Every interpolated value is escaped.

use crate::store::{Checkout, Subscription};

/// Text safe inside HTML content and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A link target that cannot run script: http(s) URLs and site paths pass, anything else
/// (`javascript:`, `data:`) becomes `#`.
pub fn safe_href(url: &str) -> String {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let allowed = lower.starts_with("https://")
        || lower.starts_with("http://")
        || (url.starts_with('/') && !url.starts_with("//"));
    escape(if allowed { url } else { "#" })
}

const STYLE: &str = "\
*{box-sizing:border-box}\
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;\
background:#0f0f17;color:#e9e7f5;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;padding:16px}\
main{width:100%;max-width:420px;background:#1a1926;border:1px solid #2c2a3d;border-radius:16px;padding:28px;\
box-shadow:0 10px 40px rgba(0,0,0,.45)}\
h1{font-size:1.35rem;margin:0 0 6px}\
p{margin:0 0 14px;color:#b9b6cf}\
.notice{background:#2a2140;border:1px solid #5b3fa0;color:#d9ccff;border-radius:10px;padding:10px 12px;font-size:.9rem}\
.price{font-size:2rem;font-weight:700;color:#fff;margin:6px 0 18px}\
dl{display:grid;grid-template-columns:auto 1fr;gap:6px 14px;margin:0 0 22px;font-size:.95rem}\
dt{color:#8d8aa6}dd{margin:0;word-break:break-all}\
form{margin:0 0 10px}\
button,.button{display:block;width:100%;border:0;border-radius:10px;padding:13px 16px;font:inherit;font-weight:600;\
cursor:pointer;text-align:center;text-decoration:none}\
.primary{background:#7c3aed;color:#fff}.primary:hover{background:#6d28d9}\
.secondary{background:transparent;color:#d4d0ea;border:1px solid #3d3a55}.secondary:hover{background:#24223a}\
.danger{background:transparent;color:#ff8a8a;border:1px solid #6b2f3a}.danger:hover{background:#2d1a22}\
.status{display:inline-block;padding:1px 10px;border-radius:999px;font-size:.85rem;font-weight:600;background:#2c2a3d}\
.status-active,.status-trialing{background:#173b2a;color:#7ee2a8}\
.status-past_due,.status-unpaid,.status-incomplete{background:#3b2f17;color:#f2c46b}\
.status-canceled,.status-incomplete_expired{background:#3b1a22;color:#ff8a8a}\
pre{white-space:pre-wrap;word-break:break-word;background:#11101a;border:1px solid #2c2a3d;border-radius:8px;\
padding:10px;font-size:.85rem;color:#d4d0ea}\
a{color:#b794ff}.small{font-size:.85rem;color:#8d8aa6;margin-top:16px}";

/// A complete page.
fn layout(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
<meta name=\"robots\" content=\"noindex\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n\
<body>\n<main>\n{body}\n</main>\n</body>\n</html>\n",
        escape(title)
    )
}

/// A form that posts to `action` with one button.
fn button(action: &str, class: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{}\"><button class=\"{class}\" type=\"submit\">{}</button></form>",
        escape(action),
        escape(label)
    )
}

const NOTICE: &str =
    "<p class=\"notice\">Development checkout — no real payment. Nothing is charged.</p>";

/// The checkout of an open session.
pub fn checkout(session: &Checkout, product: &str, price: &str) -> String {
    let base = format!("/dev/checkout/{}", session.id);
    let body = format!(
        "{NOTICE}\n<h1>{product}</h1>\n<p class=\"price\">{price}</p>\n\
<dl><dt>Email</dt><dd>{email}</dd><dt>Session</dt><dd>{id}</dd></dl>\n{pay}\n{cancel}\n\
<p class=\"small\">Served by Ava's dev-billing plugin. Paying creates a test subscription and \
sends a signed webhook to Ava.</p>",
        product = escape(product),
        price = escape(price),
        email = escape(&session.email),
        id = escape(&session.id),
        pay = button(&format!("{base}/pay"), "primary", &format!("Pay {price}")),
        cancel = button(&format!("{base}/cancel"), "secondary", "Cancel"),
    );
    layout(&format!("Checkout — {product}"), &body)
}

/// A session that was already paid.
pub fn already_paid(success_url: &str) -> String {
    let body = format!(
        "{NOTICE}\n<h1>Already paid</h1>\n<p>This checkout is complete; your subscription is active.</p>\n\
<a class=\"button primary\" href=\"{}\">Continue to Ava</a>",
        safe_href(success_url)
    );
    layout("Already paid", &body)
}

/// Nothing here.
pub fn not_found(message: &str) -> String {
    let body = format!("<h1>Not found</h1>\n<p>{}</p>", escape(message));
    layout("Not found", &body)
}

/// The host did not take the event: what it answered, and a button to send it again.
pub fn webhook_refused(
    status: Option<u16>,
    detail: &str,
    retry_action: &str,
    back: Option<&str>,
) -> String {
    let answer = match status {
        Some(status) => format!("Ava's webhook endpoint answered <strong>HTTP {status}</strong>:"),
        None => "Ava's webhook endpoint could not be reached:".to_string(),
    };
    let back = back
        .map(|href| {
            format!(
                "<a class=\"button secondary\" href=\"{}\">Back</a>",
                safe_href(href)
            )
        })
        .unwrap_or_default();
    let body = format!(
        "{NOTICE}\n<h1>The webhook was refused</h1>\n<p>{answer}</p>\n<pre>{detail}</pre>\n\
<p>Ava did not confirm the event, so it may not know about this change yet. Check that Ava and this plugin share the same \
<code>webhook_secret</code>, then try again.</p>\n{retry}\n{back}",
        detail = escape(if detail.is_empty() {
            "(empty body)"
        } else {
            detail
        }),
        retry = button(retry_action, "primary", "Retry"),
    );
    layout("Webhook refused", &body)
}

/// The self-service portal of a customer.
pub fn portal(
    token: &str,
    subscription: Option<&Subscription>,
    product: &str,
    price: &str,
    return_url: &str,
) -> String {
    let base = format!("/dev/portal/{token}");
    let details = match subscription {
        None => "<p>You have no subscription yet.</p>".to_string(),
        Some(sub) => {
            let ends = ava_sdk::date::ymd(sub.current_period_end);
            let label = match (sub.status.as_str(), sub.cancel_at_period_end) {
                ("canceled", _) => "Ended",
                (_, true) => "Ends on",
                _ => "Renews on",
            };
            format!(
                "<dl><dt>Plan</dt><dd>{product} · {price}</dd>\
<dt>Status</dt><dd><span class=\"status status-{status}\">{status_text}</span></dd>\
<dt>{label}</dt><dd>{ends}</dd><dt>Subscription</dt><dd>{id}</dd></dl>\n{cancel}\n{fail}\n{renew}",
                product = escape(product),
                price = escape(price),
                status = escape(&sub.status),
                status_text = escape(&sub.status.replace('_', " ")),
                id = escape(&sub.id),
                cancel = button(&format!("{base}/cancel"), "danger", "Cancel subscription"),
                fail = button(
                    &format!("{base}/fail-payment"),
                    "secondary",
                    "Simulate failed payment"
                ),
                renew = button(&format!("{base}/renew"), "secondary", "Simulate renewal"),
            )
        }
    };
    let body = format!(
        "{NOTICE}\n<h1>Your subscription</h1>\n{details}\n\
<a class=\"button secondary\" href=\"{back}\">Back to Ava</a>",
        back = safe_href(return_url)
    );
    layout("Manage subscription", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<a href="x" onclick='y'>&</a>"#),
            "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn script_urls_are_not_links() {
        assert_eq!(safe_href("javascript:alert(1)"), "#");
        assert_eq!(safe_href("//evil.test"), "#");
        assert_eq!(
            safe_href("http://127.0.0.1:8080/settings?a=1&b=2"),
            "http://127.0.0.1:8080/settings?a=1&amp;b=2"
        );
    }

    #[test]
    fn the_refusal_page_shows_status_and_detail() {
        let page = webhook_refused(Some(500), "<boom>", "/dev/checkout/cs_1/pay", None);
        assert!(page.contains("HTTP 500"));
        assert!(page.contains("&lt;boom&gt;"));
        assert!(page.contains(r#"action="/dev/checkout/cs_1/pay""#));
    }
}
