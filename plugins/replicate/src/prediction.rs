//! Replicate's prediction object, as far as this plugin reads it, and what its output means.

use ava_sdk::PluginError;
use serde::Deserialize;
use serde_json::Value;

/// A prediction as `POST /v1/predictions` and `GET /v1/predictions/{id}` return it.
#[derive(Debug, Clone, Deserialize)]
pub struct Prediction {
    pub id: String,
    pub status: Status,
    /// A URL, a list of URLs, or null until the prediction has output.
    #[serde(default)]
    pub output: Value,
    /// Why a prediction failed: usually text, e.g. an NSFW refusal.
    #[serde(default)]
    pub error: Value,
    /// `owner/name` of the model that ran.
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub urls: Urls,
}

/// Where to follow a prediction up.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Urls {
    pub get: Option<String>,
    pub cancel: Option<String>,
}

/// Where a prediction is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Starting,
    Processing,
    Succeeded,
    Failed,
    /// Canceled by its creator, or by a deadline while it ran.
    Canceled,
    /// Ended by a deadline before it started running.
    Aborted,
    /// A status this plugin does not know; treated as still running until the deadline.
    #[serde(other)]
    Unknown,
}

impl Status {
    /// Whether the prediction may still change.
    pub fn is_running(self) -> bool {
        matches!(self, Self::Starting | Self::Processing | Self::Unknown)
    }
}

impl Prediction {
    /// The first output file's URL, when there is output.
    ///
    /// Image models answer one URL, or a list of them (`num_outputs`); the first is taken.
    pub fn output_url(&self) -> Option<&str> {
        match &self.output {
            Value::String(url) => Some(url.as_str()),
            Value::Array(items) => items.iter().find_map(Value::as_str),
            _ => None,
        }
        .map(str::trim)
        .filter(|url| !url.is_empty())
    }

    /// The output URL of a succeeded prediction; a success without one is an error.
    pub fn require_output_url(&self) -> Result<&str, PluginError> {
        self.output_url().ok_or_else(|| {
            let what = match &self.output {
                Value::Null => "no output (it may have been deleted already)".to_string(),
                other => format!("no file URL in its output: {}", excerpt(other)),
            };
            PluginError::upstream(
                None,
                None,
                format!("Replicate's prediction {} succeeded with {what}", self.id),
            )
        })
    }

    /// Replicate's reason for a failure, when it gave one.
    pub fn error_text(&self) -> Option<String> {
        let text = match &self.error {
            Value::Null => return None,
            Value::String(text) => text.trim().to_string(),
            other => other.to_string(),
        };
        (!text.is_empty()).then_some(text)
    }
}

/// A JSON value as a short line, for error messages.
fn excerpt(value: &Value) -> String {
    ava_sdk::text::truncate(&value.to_string(), 120).to_string()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn prediction(value: Value) -> Prediction {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn output_may_be_one_url_or_a_list() {
        let one = prediction(
            json!({"id": "p1", "status": "succeeded", "output": "https://replicate.delivery/a.png"}),
        );
        assert_eq!(one.output_url(), Some("https://replicate.delivery/a.png"));
        let many = prediction(
            json!({"id": "p1", "status": "succeeded", "output": ["https://replicate.delivery/a.webp", "https://replicate.delivery/b.webp"]}),
        );
        assert_eq!(many.output_url(), Some("https://replicate.delivery/a.webp"));
    }

    #[test]
    fn a_success_without_a_file_url_is_an_upstream_error() {
        let removed = prediction(json!({"id": "p1", "status": "succeeded", "output": null}));
        assert!(matches!(
            removed.require_output_url(),
            Err(PluginError::Upstream(u)) if u.message.contains("no output")
        ));
        let text =
            prediction(json!({"id": "p1", "status": "succeeded", "output": {"text": "hello"}}));
        assert!(matches!(
            text.require_output_url(),
            Err(PluginError::Upstream(u)) if u.message.contains("no file URL")
        ));
    }

    #[test]
    fn unknown_statuses_count_as_running() {
        let p = prediction(json!({"id": "p1", "status": "queued"}));
        assert_eq!(p.status, Status::Unknown);
        assert!(p.status.is_running());
        assert!(
            !prediction(json!({"id": "p1", "status": "aborted"}))
                .status
                .is_running()
        );
    }

    #[test]
    fn error_text_is_trimmed_and_blank_means_none() {
        let p = prediction(
            json!({"id": "p1", "status": "failed", "error": " NSFW content detected. "}),
        );
        assert_eq!(p.error_text().as_deref(), Some("NSFW content detected."));
        let blank = prediction(json!({"id": "p1", "status": "failed", "error": ""}));
        assert_eq!(blank.error_text(), None);
    }
}
