//! The raw bindings generated from `wit/since_v0.2.0`. Plugin authors use the re-exports in
//! the crate root instead; this module is public only for the `export_*!` macros.
//!
//! The shared interfaces are generated once, in `base`, from a world that imports everything a
//! plugin may import and exports nothing. Each plugin kind's world is generated behind its own
//! feature and points its shared interfaces at `base` (`with`), so the Rust types are the same
//! whatever the kind. wit-component drops the imports a plugin never calls.

#[allow(missing_docs, clippy::all)]
pub mod base {
    wit_bindgen::generate!({
        inline: "
            package ava:sdk;
            world imports {
                import ava:plugin/host@0.2.0;
                import ava:plugin/reply-stream@0.2.0;
                import ava:plugin/images@0.2.0;
                import ava:plugin/photos@0.2.0;
            }
        ",
        path: "wit/since_v0.2.0",
        world: "ava:sdk/imports",
        generate_all,
        runtime_path: "::ava_sdk::__wit_bindgen::rt",
        additional_type_attributes: {
            "ava:plugin/types@0.2.0/upstream-failure": [#[derive(PartialEq)]],
            "ava:plugin/types@0.2.0/unavailable": [#[derive(PartialEq)]],
            "ava:plugin/types@0.2.0/plugin-error": [#[derive(PartialEq)]],
            "ava:plugin/types@0.2.0/config-key": [#[derive(PartialEq)]],
            "ava:plugin/types@0.2.0/plugin-info": [#[derive(PartialEq)]],
            "ava:plugin/host@0.2.0/secret-error": [#[derive(PartialEq)]],
            "ava:plugin/host@0.2.0/storage-error": [#[derive(PartialEq)]],
            "ava:plugin/host@0.2.0/http-request": [#[derive(PartialEq)]],
            "ava:plugin/host@0.2.0/http-response": [#[derive(PartialEq)]],
            "ava:plugin/host@0.2.0/http-error": [#[derive(PartialEq)]],
            "ava:plugin/image-types@0.2.0/image-request": [#[derive(PartialEq)]],
            "ava:plugin/image-types@0.2.0/image-bytes": [#[derive(PartialEq)]],
            "ava:plugin/image-types@0.2.0/image-data": [#[derive(PartialEq)]],
            "ava:plugin/image-types@0.2.0/image-output": [#[derive(PartialEq)]],
            "ava:plugin/image-types@0.2.0/generated-image": [#[derive(PartialEq)]],
            "ava:plugin/photos@0.2.0/photo-spec": [#[derive(PartialEq)]],
        },
    });
}

#[cfg(feature = "billing-provider")]
#[allow(missing_docs, clippy::all)]
pub mod billing_provider {
    wit_bindgen::generate!({
        path: "wit/since_v0.2.0",
        world: "ava:plugin/billing-provider@0.2.0",
        with: {
            "ava:plugin/types@0.2.0": crate::bindings::base::ava::plugin::types,
            "ava:plugin/host@0.2.0": crate::bindings::base::ava::plugin::host,
            "ava:plugin/billing@0.2.0": generate,
        },
        export_macro_name: "__export_billing_provider_world",
        pub_export_macro: true,
        default_bindings_module: "::ava_sdk::__bindings::billing_provider",
        runtime_path: "::ava_sdk::__wit_bindgen::rt",
        additional_derives: [PartialEq],
    });
}

#[cfg(feature = "chat-persona")]
#[allow(missing_docs, clippy::all)]
pub mod chat_persona {
    wit_bindgen::generate!({
        path: "wit/since_v0.2.0",
        world: "ava:plugin/chat-persona@0.2.0",
        with: {
            "ava:plugin/types@0.2.0": crate::bindings::base::ava::plugin::types,
            "ava:plugin/host@0.2.0": crate::bindings::base::ava::plugin::host,
            "ava:plugin/reply-stream@0.2.0": crate::bindings::base::ava::plugin::reply_stream,
            "ava:plugin/chat@0.2.0": generate,
        },
        export_macro_name: "__export_chat_persona_world",
        pub_export_macro: true,
        default_bindings_module: "::ava_sdk::__bindings::chat_persona",
        runtime_path: "::ava_sdk::__wit_bindgen::rt",
        additional_derives: [PartialEq],
    });
}

#[cfg(feature = "image-provider")]
#[allow(missing_docs, clippy::all)]
pub mod image_provider {
    wit_bindgen::generate!({
        path: "wit/since_v0.2.0",
        world: "ava:plugin/image-provider@0.2.0",
        with: {
            "ava:plugin/types@0.2.0": crate::bindings::base::ava::plugin::types,
            "ava:plugin/host@0.2.0": crate::bindings::base::ava::plugin::host,
            "ava:plugin/image-types@0.2.0": crate::bindings::base::ava::plugin::image_types,
        },
        export_macro_name: "__export_image_provider_world",
        pub_export_macro: true,
        default_bindings_module: "::ava_sdk::__bindings::image_provider",
        runtime_path: "::ava_sdk::__wit_bindgen::rt",
        additional_derives: [PartialEq],
    });
}

#[cfg(feature = "job-handler")]
#[allow(missing_docs, clippy::all)]
pub mod job_handler {
    wit_bindgen::generate!({
        path: "wit/since_v0.2.0",
        world: "ava:plugin/job-handler@0.2.0",
        with: {
            "ava:plugin/types@0.2.0": crate::bindings::base::ava::plugin::types,
            "ava:plugin/host@0.2.0": crate::bindings::base::ava::plugin::host,
            "ava:plugin/image-types@0.2.0": crate::bindings::base::ava::plugin::image_types,
            "ava:plugin/images@0.2.0": crate::bindings::base::ava::plugin::images,
            "ava:plugin/photos@0.2.0": crate::bindings::base::ava::plugin::photos,
            "ava:plugin/job-types@0.2.0": generate,
        },
        export_macro_name: "__export_job_handler_world",
        pub_export_macro: true,
        default_bindings_module: "::ava_sdk::__bindings::job_handler",
        runtime_path: "::ava_sdk::__wit_bindgen::rt",
        additional_derives: [PartialEq],
    });
}
