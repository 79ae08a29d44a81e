//! Host-side bindings of the `ava:plugin@0.1.0` worlds, generated from `sdk/wit/since_v0.1.0`.
//!
//! They serve 0.2.0 plugins too: 0.2.0 changed no interface and added one export per world
//! (`check`), and the component model compares types by structure, so these typed exports
//! accept a 0.2.0 component and the same host functions are linked under both versions'
//! names (`imports::add_to_linker`); `check` is looked up by name where it exists
//! (`LoadedPlugin::check`). A version that changes a record gets a sibling module generated
//! from its own frozen folder, and conversions between the two.
//!
//! Shared interfaces are generated once, in `job_handler` (the world that imports the most),
//! and the other worlds point at them with `with`, so a `PluginError` is one Rust type.

/// The `job-handler` world, and the shared `types`, `host`, `image-types`, `images` and
/// `photos` interfaces.
pub mod job_handler {
    wasmtime::component::bindgen!({
        path: "../sdk/wit/since_v0.1.0",
        world: "job-handler",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "ava:plugin/host.body-stream": crate::plugins::imports::http::BodyStream,
        },
    });
}

/// The `chat-persona` world and the `chat` and `reply-stream` interfaces.
pub mod chat_persona {
    wasmtime::component::bindgen!({
        path: "../sdk/wit/since_v0.1.0",
        world: "chat-persona",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "ava:plugin/types": super::job_handler::ava::plugin::types,
            "ava:plugin/host": super::job_handler::ava::plugin::host,
        },
    });
}

/// The `image-provider` world.
pub mod image_provider {
    wasmtime::component::bindgen!({
        path: "../sdk/wit/since_v0.1.0",
        world: "image-provider",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "ava:plugin/types": super::job_handler::ava::plugin::types,
            "ava:plugin/host": super::job_handler::ava::plugin::host,
            "ava:plugin/image-types": super::job_handler::ava::plugin::image_types,
        },
    });
}

/// The `billing-provider` world and the `billing` interface.
pub mod billing_provider {
    wasmtime::component::bindgen!({
        path: "../sdk/wit/since_v0.1.0",
        world: "billing-provider",
        imports: { default: async | trappable },
        exports: { default: async },
        with: {
            "ava:plugin/types": super::job_handler::ava::plugin::types,
            "ava:plugin/host": super::job_handler::ava::plugin::host,
        },
    });
}
