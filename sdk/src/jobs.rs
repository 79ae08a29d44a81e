//! Job handler plugins, run by the worker. Delivery is at least once: make every effect
//! idempotent by [`Job::id`].
//!
//! Implement [`JobHandler`] and export it with [`export_job_handler!`](crate::export_job_handler).

use serde::de::DeserializeOwned;

pub use crate::bindings::job_handler::ava::plugin::job_types::{Job, JobOutcome, Retry};
use crate::{PluginError, PluginInfo};

/// A job handler plugin.
pub trait JobHandler {
    /// Who the plugin is; see [`plugin_info!`](crate::plugin_info).
    fn metadata() -> PluginInfo;

    /// Verifies that the plugin can work as configured, as only it can: credentials
    /// accepted, the model or price there, the upstream answering (contract 0.2.0). Called by
    /// `ava plugin check --upstream`, never on a user's request. By default there is nothing
    /// to verify.
    fn check() -> Result<(), PluginError> {
        Ok(())
    }

    /// The job kinds this plugin handles.
    fn kinds() -> Vec<String>;

    /// Handles one job.
    fn handle(job: Job) -> JobOutcome;
}

impl Job {
    /// The payload parsed from JSON. A payload that does not parse can never succeed, so the
    /// error says so: turn it into [`JobOutcome::Failed`].
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        serde_json::from_str(&self.payload).map_err(|err| {
            PluginError::invalid_input(format!("job {} has a malformed payload: {err}", self.id))
        })
    }

    /// Whether no attempt follows this one.
    pub fn is_last_attempt(&self) -> bool {
        self.attempt >= self.max_attempts
    }
}

impl JobOutcome {
    /// Retry after at least `delay_ms`.
    pub fn retry(delay_ms: u64, reason: impl Into<String>) -> Self {
        Self::Retry(Retry {
            delay_ms,
            reason: reason.into(),
        })
    }

    /// What a plugin error means for a job: temporary errors are retried (after the
    /// upstream's delay when it gave one), the rest fail for good.
    pub fn from_error(err: &PluginError) -> Self {
        match err {
            PluginError::Unavailable(u) => {
                Self::retry(u.retry_after_ms.unwrap_or(1_000), &u.message)
            }
            _ if err.is_retryable() => Self::retry(1_000, err.message()),
            _ => Self::Failed(err.message()),
        }
    }
}

/// Exports a [`JobHandler`] implementation as this component's `job-handler` world.
#[macro_export]
macro_rules! export_job_handler {
    ($plugin:ty) => {
        $crate::__embed_contract_version!();

        #[doc(hidden)]
        pub struct __AvaJobHandlerExport;

        impl $crate::__bindings::job_handler::Guest for __AvaJobHandlerExport {
            fn metadata() -> $crate::PluginInfo {
                <$plugin as $crate::jobs::JobHandler>::metadata()
            }
            fn check() -> ::core::result::Result<(), $crate::PluginError> {
                <$plugin as $crate::jobs::JobHandler>::check()
            }
            fn kinds() -> ::std::vec::Vec<::std::string::String> {
                <$plugin as $crate::jobs::JobHandler>::kinds()
            }
            fn handle(job: $crate::jobs::Job) -> $crate::jobs::JobOutcome {
                <$plugin as $crate::jobs::JobHandler>::handle(job)
            }
        }

        $crate::__bindings::job_handler::__export_job_handler_world!(
            __AvaJobHandlerExport with_types_in $crate::__bindings::job_handler
        );
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_retry_after_the_upstream_delay() {
        let outcome = JobOutcome::from_error(&PluginError::unavailable("slow", Some(7_000)));
        assert_eq!(outcome, JobOutcome::retry(7_000, "slow"));
    }

    #[test]
    fn invalid_input_fails_for_good() {
        let outcome = JobOutcome::from_error(&PluginError::invalid_input("bad prompt"));
        assert!(matches!(outcome, JobOutcome::Failed(m) if m.contains("bad prompt")));
    }
}
