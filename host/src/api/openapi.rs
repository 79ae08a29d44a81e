//! The OpenAPI 3.1 document of the whole API, generated from the route handlers'
//! `#[utoipa::path]` attributes and the views' `ToSchema` derives: `GET /openapi.json` and
//! `ava openapi` answer it, and the SPA's types are generated from it.

use std::sync::OnceLock;

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr, Schema};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Ava",
        description = "Ava's HTTP API: accounts, personas, chat (with streaming), billing, photos, and the operator's view. Errors answer `{\"detail\": \"...\"}` (ErrorBody).",
        license(name = "Apache-2.0"),
    ),
    components(schemas(super::chat::ChatStreamDelta, super::chat::ChatStreamError)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "auth", description = "Sign up, log in, log out"),
        (name = "chat", description = "The conversation with the active persona"),
        (name = "personas", description = "Personas and Character Cards"),
        (name = "preferences", description = "Mode, active persona, photos, the 18+ confirmation"),
        (name = "billing", description = "Checkout, the customer portal, the subscription, webhooks"),
        (name = "photos", description = "Photos personas send, and their live updates"),
        (name = "health", description = "Liveness and readiness"),
        (name = "admin", description = "The operator's view (AVA_OPERATOR_TOKEN)"),
        (name = "dev", description = "The dev billing provider's pages"),
        (name = "meta", description = "This document"),
    ),
)]
pub struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The `token` of `POST /auth/register` or `/auth/login`",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "operator",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("The host's AVA_OPERATOR_TOKEN"))
                    .build(),
            ),
        );
    }
}

/// Properties that responses leave out when empty (`skip_serializing_if`); every other
/// property of a response schema is always written, `null` or not.
const OPTIONAL_RESPONSE_FIELDS: &[(&str, &str)] = &[
    ("Persona", "imported_from"),
    ("ErrorBody", "field"),
    ("DependencyCheck", "backend"),
    ("DependencyCheck", "depth"),
    ("DependencyCheck", "error"),
];

/// The schemas of request bodies, whose optional fields may be left out.
const REQUEST_SCHEMAS: &[&str] = &[
    "Registration",
    "Credentials",
    "ChatSend",
    "ChatRegenerate",
    "MessageEdit",
    "PersonaFields",
    "PreferencesChanges",
];

/// The finished document: every property of a response schema is marked required (utoipa
/// leaves `Option` fields out of `required`, though the API always writes them, as `null`
/// when empty), and axum's wildcard `{*path}` becomes OpenAPI's `{path}`.
pub fn finish(mut doc: Document) -> Document {
    doc.openapi = utoipa::openapi::OpenApiVersion::Version31;
    if let Some(components) = doc.components.as_mut() {
        for (name, schema) in components.schemas.iter_mut() {
            if REQUEST_SCHEMAS.contains(&name.as_str()) {
                continue;
            }
            if let RefOr::T(Schema::Object(object)) = schema {
                let properties: Vec<String> = object.properties.keys().cloned().collect();
                for property in properties {
                    let optional = OPTIONAL_RESPONSE_FIELDS
                        .iter()
                        .any(|(s, p)| s == name && *p == property);
                    if !optional && !object.required.contains(&property) {
                        object.required.push(property);
                    }
                }
            }
        }
    }
    let paths = std::mem::take(&mut doc.paths.paths);
    doc.paths.paths = paths
        .into_iter()
        .map(|(path, mut item)| {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                // Handler names repeat across modules (`list`): the tag makes them unique.
                let tag = operation.tags.as_ref().and_then(|t| t.first()).cloned();
                if let (Some(tag), Some(id)) = (tag, operation.operation_id.as_mut()) {
                    *id = format!("{tag}_{id}");
                }
            }
            (path.replace("{*", "{"), item)
        })
        .collect();
    doc
}

/// The document as pretty JSON, built once.
pub fn json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(|| {
        let mut text = finish(super::routes().split_for_parts().1)
            .to_pretty_json()
            .expect("the OpenAPI document serializes");
        text.push('\n');
        text
    })
}
