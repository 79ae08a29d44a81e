//! Character Card import and export through `/avatars`, on SQLite and on PostgreSQL.

mod common;

use common::app::{Backend, PLUGINS, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

on_both_databases!(
    a_v2_card_becomes_a_persona,
    a_v3_card_keeps_the_ava_extension,
    a_bad_card_is_422_and_stores_nothing,
    a_persona_exports_as_v2_and_v3_json,
    a_png_card_round_trips,
    another_users_persona_cannot_be_exported,
);

const WITH_IMAGES: &str = r#"
[plugins.images]
use = "local-images"

[plugin.local-images]
path = "{plugins}/local-images.wasm"
"#;

async fn import(
    t: &TestApp,
    token: &str,
    body: Vec<u8>,
    content_type: &str,
) -> (StatusCode, Value) {
    let response = t
        .client
        .post(t.url("/avatars/import"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn v2_card() -> Value {
    json!({
        "spec": "chara_card_v2",
        "spec_version": "2.0",
        "data": {
            "name": "Seraphina",
            "description": "A guardian of the forest.",
            "personality": "gentle, protective",
            "scenario": "{{user}} wakes up in {{char}}'s glade.",
            "first_mes": "You're safe now.",
            "mes_example": "<START>\n{{user}}: Who are you?\n{{char}}: A friend.",
            "creator_notes": "Made for testing.",
            "system_prompt": "",
            "post_history_instructions": "Stay gentle.",
            "alternate_greetings": ["Welcome back."],
            "tags": ["fantasy", "gentle"],
            "creator": "tester",
            "character_version": "1.2",
            "extensions": { "other_tool": { "x": 1 } }
        }
    })
}

async fn a_v2_card_becomes_a_persona(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (token, _) = t.register("importer@example.com").await;
    let (status, persona) = import(
        &t,
        &token,
        v2_card().to_string().into_bytes(),
        "application/json",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{persona}");
    assert_eq!(persona["imported_from"], "v2");
    assert_eq!(persona["name"], "Seraphina");
    assert_eq!(persona["greeting"], "You're safe now.");
    assert_eq!(
        persona["scenario"],
        "{{user}} wakes up in {{char}}'s glade."
    );
    assert_eq!(
        persona["example_dialogue"],
        "<START>\n{{user}}: Who are you?\n{{char}}: A friend."
    );
    assert_eq!(persona["alternate_greetings"], json!(["Welcome back."]));
    assert_eq!(persona["tags"], json!(["fantasy", "gentle"]));
    assert_eq!(persona["post_history_instructions"], "Stay gentle.");
    let (_, list) = t.get("/avatars", &token).await;
    assert_eq!(list["avatars"].as_array().unwrap().len(), 2);
}

async fn a_v3_card_keeps_the_ava_extension(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (token, _) = t.register("v3@example.com").await;
    let mut card = v2_card();
    card["spec"] = json!("chara_card_v3");
    card["spec_version"] = json!("3.0");
    card["data"]["group_only_greetings"] = json!([]);
    card["data"]["extensions"]["ava"] =
        json!({ "appearance": "silver hair, violet eyes", "style": "serene" });
    let (status, persona) = import(
        &t,
        &token,
        card.to_string().into_bytes(),
        "application/json",
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{persona}");
    assert_eq!(persona["imported_from"], "v3");
    assert_eq!(persona["appearance"], "silver hair, violet eyes");
    assert_eq!(persona["style"], "serene");
}

async fn a_bad_card_is_422_and_stores_nothing(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (token, _) = t.register("badcard@example.com").await;
    let mut nameless = v2_card();
    nameless["data"]["name"] = json!("  ");
    let mut mistyped = v2_card();
    mistyped["data"]["first_mes"] = json!(42);
    for (body, why) in [
        (nameless.to_string().into_bytes(), "name"),
        (mistyped.to_string().into_bytes(), "first_mes"),
        (b"\x89PNG\r\n\x1a\nnot really".to_vec(), "PNG"),
        (b"hello".to_vec(), "format"),
    ] {
        let (status, answer) = import(&t, &token, body, "application/octet-stream").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {answer}");
        assert!(answer["detail"].is_string(), "{answer}");
    }
    let (_, list) = t.get("/avatars", &token).await;
    assert_eq!(list["avatars"].as_array().unwrap().len(), 1);

    let huge = vec![b' '; 21 << 20];
    let (status, answer) = import(&t, &token, huge, "application/json").await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{answer}");
}

async fn a_persona_exports_as_v2_and_v3_json(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (token, _) = t.register("exporter@example.com").await;
    let (_, list) = t.get("/avatars", &token).await;
    let id = list["avatars"][0]["id"].as_str().unwrap();
    for (format, spec, version) in [
        ("v2", "chara_card_v2", "2.0"),
        ("v3", "chara_card_v3", "3.0"),
    ] {
        let response = t
            .client
            .get(t.url(&format!("/avatars/{id}/export?format={format}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()["content-disposition"],
            "attachment; filename=\"Ava.json\""
        );
        let card: Value = response.json().await.unwrap();
        assert_eq!(card["spec"], spec);
        assert_eq!(card["spec_version"], version);
        assert_eq!(card["data"]["name"], "Ava");
        assert_eq!(card["data"]["first_mes"], list["avatars"][0]["greeting"]);
        assert_eq!(
            card["data"]["extensions"]["ava"]["appearance"],
            list["avatars"][0]["appearance"]
        );
    }
    let (status, answer) = t
        .get(&format!("/avatars/{id}/export?format=pdf"), &token)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer["field"], "format");
}

async fn a_png_card_round_trips(backend: Backend) {
    let t = TestApp::with_config(backend, &format!("{PLUGINS}\n{WITH_IMAGES}")).await;
    let (token, _) = t.register("png@example.com").await;
    let (_, original) = t
        .post(
            "/avatars",
            &token,
            json!({ "name": "Luna", "appearance": "long silver hair, blue eyes", "greeting": "Hi {{user}}!", "tags": ["moon"] }),
        )
        .await;
    let id = original["id"].as_str().unwrap();
    let response = t
        .client
        .get(t.url(&format!("/avatars/{id}/export?format=png")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    let png = response.bytes().await.unwrap().to_vec();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));

    let (status, imported) = import(&t, &token, png, "image/png").await;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert_eq!(imported["imported_from"], "v3");
    for field in [
        "name",
        "appearance",
        "greeting",
        "tags",
        "description",
        "style",
    ] {
        assert_eq!(imported[field], original[field], "{field}");
    }
    assert_ne!(imported["id"], original["id"]);

    // Without an image plugin, a PNG card cannot be drawn.
    let plain = TestApp::start(backend).await;
    let (token, _) = plain.register("noimages@example.com").await;
    let (_, list) = plain.get("/avatars", &token).await;
    let id = list["avatars"][0]["id"].as_str().unwrap();
    let (status, answer) = plain
        .get(&format!("/avatars/{id}/export?format=png"), &token)
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
}

async fn another_users_persona_cannot_be_exported(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (alice, _) = t.register("alice2@example.com").await;
    let (bob, _) = t.register("bob2@example.com").await;
    let (_, list) = t.get("/avatars", &alice).await;
    let id = list["avatars"][0]["id"].as_str().unwrap();
    let (status, _) = t
        .call(
            Method::GET,
            &format!("/avatars/{id}/export"),
            Some(&bob),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
