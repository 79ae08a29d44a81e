//! A compiled, linked plugin binary: what is shared by every plugin entry that uses it.

use std::path::PathBuf;
use std::sync::OnceLock;

use semver::Version;
use wasmtime::component::InstancePre;

use super::bindings::{billing_provider, chat_persona, image_provider, job_handler};
use super::cache::Provenance;
use super::ctx::CallCtx;
use super::types::PluginInfo;

/// The plugin kinds, one per WIT world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum World {
    BillingProvider,
    ChatPersona,
    ImageProvider,
    JobHandler,
}

impl World {
    /// The world's WIT name.
    pub fn wit_name(self) -> &'static str {
        match self {
            Self::BillingProvider => "billing-provider",
            Self::ChatPersona => "chat-persona",
            Self::ImageProvider => "image-provider",
            Self::JobHandler => "job-handler",
        }
    }

    /// The `[plugins]` slot of `ava.toml` plugins of this world fill.
    pub fn slot(self) -> &'static str {
        match self {
            Self::BillingProvider => "billing",
            Self::ChatPersona => "persona",
            Self::ImageProvider => "images",
            Self::JobHandler => "jobs",
        }
    }
}

impl std::fmt::Display for World {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.wit_name())
    }
}

/// A pre-linked component, typed by its world: instantiating it is all a call has to do.
#[derive(Clone)]
pub enum WorldPre {
    BillingProvider(billing_provider::BillingProviderPre<CallCtx>),
    ChatPersona(chat_persona::ChatPersonaPre<CallCtx>),
    ImageProvider(image_provider::ImageProviderPre<CallCtx>),
    JobHandler(job_handler::JobHandlerPre<CallCtx>),
}

impl WorldPre {
    /// Checks that `pre`'s exports have `world`'s types.
    pub fn new(world: World, pre: InstancePre<CallCtx>) -> wasmtime::Result<Self> {
        Ok(match world {
            World::BillingProvider => {
                Self::BillingProvider(billing_provider::BillingProviderPre::new(pre)?)
            }
            World::ChatPersona => Self::ChatPersona(chat_persona::ChatPersonaPre::new(pre)?),
            World::ImageProvider => {
                Self::ImageProvider(image_provider::ImageProviderPre::new(pre)?)
            }
            World::JobHandler => Self::JobHandler(job_handler::JobHandlerPre::new(pre)?),
        })
    }

    /// The untyped pre-linked component, for exports not every contract line has.
    pub fn instance_pre(&self) -> &InstancePre<CallCtx> {
        match self {
            Self::BillingProvider(pre) => pre.instance_pre(),
            Self::ChatPersona(pre) => pre.instance_pre(),
            Self::ImageProvider(pre) => pre.instance_pre(),
            Self::JobHandler(pre) => pre.instance_pre(),
        }
    }
}

/// What a plugin said about itself at load time.
#[derive(Debug, Clone)]
pub struct Description {
    pub info: PluginInfo,
    /// The job kinds a job handler handles; empty for other worlds.
    pub kinds: Vec<String>,
}

/// One compiled binary.
pub struct Module {
    /// Hex SHA-256 of the binary.
    pub sha256: String,
    /// The contract version from its custom section.
    pub contract: Version,
    pub world: World,
    pub pre: WorldPre,
    /// Compiled now or loaded from the cache, and how long it took.
    pub provenance: Provenance,
    /// Where it was read from.
    pub path: PathBuf,
    /// Filled in after `metadata()` answered.
    pub description: OnceLock<Description>,
}
