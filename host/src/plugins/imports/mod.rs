//! The host imports: one module per capability, each with its own grant check. `host.rs`
//! wires the generated `host` interface trait to them.

mod clock;
mod config;
mod host;
pub mod http;
mod images;
mod in_place;
mod kv;
mod log;
mod offload;
mod photos;
mod reply_stream;

use wasmtime::component::{HasSelf, Linker};

use super::bindings::{billing_provider, chat_persona, job_handler};
use super::ctx::CallCtx;

/// Adds WASI (with nothing granted) and every `ava:plugin` interface to `linker`. One linker
/// serves every world: a component only gets what it imports, and a world imports only what
/// its kind may use.
pub fn add_to_linker(linker: &mut Linker<CallCtx>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    use job_handler::ava::plugin as shared;
    shared::types::add_to_linker::<CallCtx, HasSelf<CallCtx>>(linker, |c| c)?;
    shared::host::add_to_linker::<CallCtx, HasSelf<CallCtx>>(linker, |c| c)?;
    shared::image_types::add_to_linker::<CallCtx, HasSelf<CallCtx>>(linker, |c| c)?;
    shared::images::add_to_linker::<CallCtx, HasSelf<CallCtx>>(linker, |c| c)?;
    shared::photos::add_to_linker::<CallCtx, HasSelf<CallCtx>>(linker, |c| c)?;
    shared::job_types::add_to_linker::<CallCtx, HasSelf<CallCtx>>(linker, |c| c)?;
    chat_persona::ava::plugin::chat::add_to_linker::<CallCtx, HasSelf<CallCtx>>(linker, |c| c)?;
    chat_persona::ava::plugin::reply_stream::add_to_linker::<CallCtx, HasSelf<CallCtx>>(
        linker,
        |c| c,
    )?;
    billing_provider::ava::plugin::billing::add_to_linker::<CallCtx, HasSelf<CallCtx>>(
        linker,
        |c| c,
    )?;
    add_v0_2_to_linker(linker)?;
    // Over bindgen's: the imports whose byte lists a plugin sizes read them in place.
    in_place::add_to_linker(linker)
}

/// The same interfaces under their `ava:plugin@0.2.0` names. 0.2.0 changed no interface,
/// only the worlds (each gained the `check` export), and the component model compares types
/// by structure, not by name: the functions generated from 0.1.0 serve a 0.2.0 plugin's
/// imports as they are, with no conversion. A line that changes an interface gets bindings
/// of its own for it, and a conversion here.
fn add_v0_2_to_linker(linker: &mut Linker<CallCtx>) -> wasmtime::Result<()> {
    use job_handler::ava::plugin as shared;
    shared::host::add_to_linker_instance::<CallCtx, HasSelf<CallCtx>>(
        &mut linker.instance("ava:plugin/host@0.2.0")?,
        |c| c,
    )?;
    shared::images::add_to_linker_instance::<CallCtx, HasSelf<CallCtx>>(
        &mut linker.instance("ava:plugin/images@0.2.0")?,
        |c| c,
    )?;
    shared::photos::add_to_linker_instance::<CallCtx, HasSelf<CallCtx>>(
        &mut linker.instance("ava:plugin/photos@0.2.0")?,
        |c| c,
    )?;
    chat_persona::ava::plugin::reply_stream::add_to_linker_instance::<CallCtx, HasSelf<CallCtx>>(
        &mut linker.instance("ava:plugin/reply-stream@0.2.0")?,
        |c| c,
    )?;
    // Interfaces that only define types are empty instances.
    for name in ["types", "image-types", "job-types", "chat", "billing"] {
        linker.instance(&format!("ava:plugin/{name}@0.2.0"))?;
    }
    Ok(())
}

// Interfaces that only define types.
impl job_handler::ava::plugin::types::Host for CallCtx {}
impl job_handler::ava::plugin::image_types::Host for CallCtx {}
impl job_handler::ava::plugin::job_types::Host for CallCtx {}
impl chat_persona::ava::plugin::chat::Host for CallCtx {}
impl billing_provider::ava::plugin::billing::Host for CallCtx {}
