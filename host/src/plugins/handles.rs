//! Typed handles on plugins of each kind: the rest of the host calls these.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::ctx::CallScope;
use super::error::CallError;
use super::module::WorldPre;
use super::plugin::LoadedPlugin;
use super::registry::PluginSet;
use super::types::*;

/// Instantiates a fresh instance of `$plugin`'s `$variant` world and runs `$call` on it.
macro_rules! call_export {
    ($plugin:expr, $variant:ident, $op:literal, $scope:expr, |$inst:ident, $store:ident| $call:expr) => {{
        let plugin: &LoadedPlugin = &$plugin;
        let WorldPre::$variant(pre) = &plugin.module.pre else {
            return Err(CallError::Host {
                plugin: plugin.name.clone(),
                message: format!("`{}` is not a {} plugin", $op, stringify!($variant)),
            });
        };
        let pre = pre.clone();
        plugin
            .invoke($op, $scope, move |mut $store| async move {
                let result = async {
                    let $inst = pre.instantiate_async(&mut $store).await?;
                    $call.await
                }
                .await;
                ($store, result)
            })
            .await
    }};
}

/// `Ok(Err(plugin error))` becomes `Err(CallError::Plugin)`, its text bounded
/// ([`super::error::bounded`]).
fn flatten<T>(
    plugin: &LoadedPlugin,
    result: Result<Result<T, PluginError>, CallError>,
) -> Result<T, CallError> {
    match result {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(CallError::Plugin {
            plugin: plugin.name.clone(),
            error: super::error::bounded(error),
        }),
        Err(err) => Err(err),
    }
}

impl LoadedPlugin {
    /// Asks the plugin who it is, in a fresh instance like any call.
    pub async fn metadata(&self) -> Result<PluginInfo, CallError> {
        let scope = CallScope::default();
        match &self.module.pre {
            WorldPre::BillingProvider(_) => {
                call_export!(self, BillingProvider, "metadata", scope, |i, store| i
                    .call_metadata(&mut store))
            }
            WorldPre::ChatPersona(_) => {
                call_export!(self, ChatPersona, "metadata", scope, |i, store| i
                    .call_metadata(&mut store))
            }
            WorldPre::ImageProvider(_) => {
                call_export!(self, ImageProvider, "metadata", scope, |i, store| i
                    .call_metadata(&mut store))
            }
            WorldPre::JobHandler(_) => {
                call_export!(self, JobHandler, "metadata", scope, |i, store| i
                    .call_metadata(&mut store))
            }
        }
    }

    /// Asks the plugin to verify that it can work as configured (its `check` export, since
    /// contract 0.2.0), in a fresh instance like any call. `Ok(false)` for a plugin built for
    /// 0.1.0, which has no such export: there is nothing to ask it.
    pub async fn check(&self) -> Result<bool, CallError> {
        if self.module.contract < semver::Version::new(0, 2, 0) {
            return Ok(false);
        }
        let pre = self.module.pre.instance_pre().clone();
        let result = self
            .invoke("check", CallScope::default(), move |mut store| async move {
                let result = async {
                    let instance = pre.instantiate_async(&mut store).await?;
                    let check = instance
                        .get_typed_func::<(), (Result<(), PluginError>,)>(&mut store, "check")?;
                    let (answer,) = check.call_async(&mut store, ()).await?;
                    Ok(answer)
                }
                .await;
                (store, result)
            })
            .await;
        flatten(self, result).map(|()| true)
    }

    /// Asks a job handler which kinds it handles, in a fresh instance.
    pub async fn job_kinds(&self) -> Result<Vec<String>, CallError> {
        call_export!(
            self,
            JobHandler,
            "kinds",
            CallScope::default(),
            |i, store| i.call_kinds(&mut store)
        )
    }

    /// Calls a job handler's `kinds()` `n` times on one instance: what calls would cost
    /// without a fresh instance each. For benchmarks only: real calls never reuse an
    /// instance, which would leak state between users.
    #[doc(hidden)]
    pub async fn kinds_on_one_instance(&self, n: usize) -> Result<usize, CallError> {
        call_export!(
            self,
            JobHandler,
            "kinds",
            CallScope::default(),
            |i, store| async {
                let mut kinds = 0;
                for _ in 0..n {
                    kinds += i.call_kinds(&mut store).await?.len();
                }
                Ok(kinds)
            }
        )
    }
}

/// A persona plugin.
#[derive(Clone, Debug)]
pub struct Persona(pub(crate) Arc<LoadedPlugin>);

impl Persona {
    /// The plugin's name.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// Answers one turn.
    pub async fn reply(&self, request: &ChatRequest) -> Result<ChatReply, CallError> {
        let result = call_export!(
            self.0,
            ChatPersona,
            "reply",
            CallScope::default(),
            |i, store| i.call_reply(&mut store, request)
        );
        flatten(&self.0, result)
    }

    /// Answers one turn, sending text to `sink` as it is produced. The reply is complete
    /// even when `sink`'s receiver has gone.
    pub async fn stream_reply(
        &self,
        request: &ChatRequest,
        sink: mpsc::UnboundedSender<String>,
    ) -> Result<ChatReply, CallError> {
        let scope = CallScope {
            stream: Some(sink),
            ..CallScope::default()
        };
        let result = call_export!(self.0, ChatPersona, "stream-reply", scope, |i, store| i
            .call_stream_reply(&mut store, request));
        flatten(&self.0, result)
    }

    /// Folds older turns into the rolling memory.
    pub async fn summarize(&self, request: &SummaryRequest) -> Result<String, CallError> {
        let result = call_export!(
            self.0,
            ChatPersona,
            "summarize",
            CallScope::default(),
            |i, store| i.call_summarize(&mut store, request)
        );
        flatten(&self.0, result)
    }
}

/// A billing provider plugin.
#[derive(Clone, Debug)]
pub struct Billing(pub(crate) Arc<LoadedPlugin>);

impl Billing {
    /// The plugin's name.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// Starts a checkout.
    pub async fn create_checkout(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutSession, CallError> {
        let result = call_export!(
            self.0,
            BillingProvider,
            "create-checkout",
            CallScope::default(),
            |i, store| i.call_create_checkout(&mut store, request)
        );
        flatten(&self.0, result)
    }

    /// Opens the customer portal.
    pub async fn create_portal(&self, request: &PortalRequest) -> Result<PortalSession, CallError> {
        let result = call_export!(
            self.0,
            BillingProvider,
            "create-portal",
            CallScope::default(),
            |i, store| i.call_create_portal(&mut store, request)
        );
        flatten(&self.0, result)
    }

    /// Verifies and normalizes a webhook.
    pub async fn handle_webhook(
        &self,
        request: &WebhookRequest,
    ) -> Result<WebhookOutcome, CallError> {
        let result = call_export!(
            self.0,
            BillingProvider,
            "handle-webhook",
            CallScope::default(),
            |i, store| i.call_handle_webhook(&mut store, request)
        );
        flatten(&self.0, result)
    }

    /// The provider's current state of a subscription.
    pub async fn get_subscription(&self, id: &str) -> Result<Option<Subscription>, CallError> {
        let result = call_export!(
            self.0,
            BillingProvider,
            "get-subscription",
            CallScope::default(),
            |i, store| i.call_get_subscription(&mut store, id)
        );
        flatten(&self.0, result)
    }

    /// Serves a page under `/dev/`.
    pub async fn serve_page(&self, request: &PageRequest) -> Result<PageResponse, CallError> {
        let result = call_export!(
            self.0,
            BillingProvider,
            "serve-page",
            CallScope::default(),
            |i, store| i.call_serve_page(&mut store, request)
        );
        flatten(&self.0, result)
    }
}

/// An image provider plugin.
#[derive(Clone, Debug)]
pub struct Images(pub(crate) Arc<LoadedPlugin>);

impl Images {
    /// The plugin's name.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// Draws an image.
    pub async fn generate(&self, request: &ImageRequest) -> Result<ImageOutput, CallError> {
        let result = call_export!(
            self.0,
            ImageProvider,
            "generate",
            CallScope::default(),
            |i, store| i.call_generate(&mut store, request)
        );
        flatten(&self.0, result)
    }

    /// Downloads an output URL with this plugin's grants.
    pub async fn download(&self, url: &str) -> Result<(Option<String>, Vec<u8>), HttpError> {
        self.0.download(url).await
    }

    /// Draws an image and returns its bytes: a URL output is downloaded with this plugin's
    /// grants, and the content type comes from the bytes themselves (they end up in users'
    /// browsers), never from the plugin's say-so.
    pub async fn draw(&self, request: &ImageRequest) -> Result<GeneratedImage, CallError> {
        let output = self.generate(request).await?;
        let fault = |message: String| CallError::Plugin {
            plugin: self.name().to_string(),
            error: PluginError::Unavailable(Unavailable {
                message,
                retry_after_ms: None,
            }),
        };
        let data = match output.image {
            ImageData::Bytes(bytes) => bytes.data,
            ImageData::Url(url) => {
                self.download(&url)
                    .await
                    .map_err(|e| fault(format!("cannot download the image: {}", e.message())))?
                    .1
            }
        };
        let content_type =
            ava_sdk::images::sniff_content_type(&data).ok_or_else(|| CallError::Plugin {
                plugin: self.name().to_string(),
                error: PluginError::Internal(
                    "the image is not a PNG, JPEG or WebP file".to_string(),
                ),
            })?;
        Ok(GeneratedImage {
            image: ImageBytes {
                content_type: content_type.to_string(),
                data,
            },
            seed: output.seed,
            model: output.model,
            provider: self.name().to_string(),
        })
    }
}

/// A job handler plugin.
#[derive(Clone, Debug)]
pub struct JobHandler(pub(crate) Arc<LoadedPlugin>);

impl JobHandler {
    /// The plugin's name.
    pub fn name(&self) -> &str {
        self.0.name()
    }

    /// The kinds it handles.
    pub fn kinds(&self) -> &[String] {
        self.0.kinds()
    }

    /// Handles one job. `photo_id` is the photo the job may touch; `set` is the plugin set
    /// whose image plugin serves its `images.generate` calls.
    pub async fn handle(
        &self,
        job: &Job,
        photo_id: Option<String>,
        set: Arc<PluginSet>,
    ) -> Result<JobOutcome, CallError> {
        let scope = CallScope {
            photo_id,
            set: Some(set),
            ..CallScope::default()
        };
        call_export!(self.0, JobHandler, "handle", scope, |i, store| i
            .call_handle(&mut store, job))
    }
}
