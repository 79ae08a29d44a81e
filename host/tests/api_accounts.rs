//! `/auth`, `/preferences` and `/avatars`, on SQLite and on PostgreSQL.

mod common;

use common::app::{Backend, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_databases!(
    registration_logs_in_and_me_describes_the_account,
    registration_refuses_bad_input_with_the_field_named,
    a_taken_email_is_409_whatever_its_case,
    login_does_not_say_which_part_was_wrong,
    logout_revokes_the_token,
    login_is_rate_limited_per_email,
    login_is_rate_limited_per_client_address,
    every_new_account_gets_ava,
    personas_can_be_created_read_updated_and_deleted,
    the_last_persona_cannot_be_deleted,
    intimate_mode_needs_an_adult_confirmation,
    another_users_records_are_404_everywhere,
    malformed_bodies_answer_json_errors,
);

async fn registration_logs_in_and_me_describes_the_account(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (status, body) = t
        .call(
            Method::POST,
            "/auth/register",
            None,
            Some(json!({ "email": " Sam@Example.COM ", "password": "correct horse battery", "display_name": "Sam" })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["user"]["email"], "sam@example.com");
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("ava_"));

    let (status, me) = t.get("/auth/me", token).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["user"]["display_name"], "Sam");
    assert_eq!(me["preferences"]["mode"], "secretary");
    assert_eq!(me["preferences"]["adult_confirmed"], false);
    assert_eq!(me["subscription"]["status"], "none");
    assert_eq!(me["subscription"]["active"], false);

    let (status, _) = t.call(Method::GET, "/auth/me", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, body) = t.get("/auth/me", "ava_not-a-real-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["detail"], "Not authenticated");
}

async fn registration_refuses_bad_input_with_the_field_named(backend: Backend) {
    let t = TestApp::start(backend).await;
    for (body, field) in [
        (
            json!({ "email": "not-an-email", "password": "correct horse battery" }),
            "email",
        ),
        (
            json!({ "email": "a@example.com", "password": "short" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": "correct horse", "display_name": "x".repeat(81) }),
            "display_name",
        ),
    ] {
        let (status, answer) = t
            .call(Method::POST, "/auth/register", None, Some(body))
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
        assert_eq!(answer["field"], field);
        assert!(
            answer["detail"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{field}: "))
        );
    }
}

async fn a_taken_email_is_409_whatever_its_case(backend: Backend) {
    let t = TestApp::start(backend).await;
    t.register("mia@example.com").await;
    let (status, body) = t
        .call(
            Method::POST,
            "/auth/register",
            None,
            Some(json!({ "email": "MIA@example.com", "password": "another password" })),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["detail"], "An account with this email already exists");
}

async fn login_does_not_say_which_part_was_wrong(backend: Backend) {
    let t = TestApp::start(backend).await;
    t.register("kim@example.com").await;
    let login = |email: &str, password: &str| {
        t.call(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({ "email": email, "password": password })),
        )
    };
    let (wrong_password, a) = login("kim@example.com", "wrong password!").await;
    let (unknown_email, b) = login("nobody@example.com", "correct horse battery").await;
    assert_eq!(wrong_password, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_email, StatusCode::UNAUTHORIZED);
    assert_eq!(a, b);
    let (ok, body) = login("KIM@example.com", "correct horse battery").await;
    assert_eq!(ok, StatusCode::OK);
    assert!(body["token"].as_str().unwrap().starts_with("ava_"));
}

async fn logout_revokes_the_token(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (first, _) = t.register("lee@example.com").await;
    let (_, second) = t
        .call(
            Method::POST,
            "/auth/login",
            None,
            Some(json!({ "email": "lee@example.com", "password": "correct horse battery" })),
        )
        .await;
    let second = second["token"].as_str().unwrap();
    let (status, _) = t
        .call(Method::POST, "/auth/logout", Some(&first), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(t.get("/auth/me", &first).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(t.get("/auth/me", second).await.0, StatusCode::OK);
}

async fn login_is_rate_limited_per_email(backend: Backend) {
    let t = TestApp::start(backend).await;
    t.register("target@example.com").await;
    for i in 0..10 {
        let (status, _) = t
            .call(
                Method::POST,
                "/auth/login",
                None,
                Some(
                    json!({ "email": "target@example.com", "password": format!("guess {i} here") }),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response = t
        .client
        .post(t.url("/auth/login"))
        .json(&json!({ "email": "target@example.com", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=30).contains(&retry), "{retry}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Too many login attempts")
    );
}

async fn login_is_rate_limited_per_client_address(backend: Backend) {
    let t = TestApp::start(backend).await;
    let attempt = |email: String, ip: &'static str| {
        t.client
            .post(t.url("/auth/login"))
            .header("x-real-ip", ip)
            .json(&json!({ "email": email, "password": "whatever123" }))
            .send()
    };
    // The first 30 are the burst; after it, one attempt per 2 s refills, so however slow
    // this machine hashes passwords, most of the next 10 are refused.
    for i in 0..30 {
        let status = attempt(format!("user{i}@example.com"), "198.51.100.9")
            .await
            .unwrap()
            .status();
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    let mut refused = 0;
    for i in 30..40 {
        let status = attempt(format!("user{i}@example.com"), "198.51.100.9")
            .await
            .unwrap()
            .status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            refused += 1;
        }
    }
    assert!(
        refused >= 5,
        "only {refused} of 10 attempts past the burst were refused"
    );
    let elsewhere = attempt("fresh@example.com".into(), "198.51.100.10")
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::UNAUTHORIZED);
}

async fn every_new_account_gets_ava(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (token, _) = t.register("new@example.com").await;
    let (_, list) = t.get("/avatars", &token).await;
    let avatars = list["avatars"].as_array().unwrap();
    assert_eq!(avatars.len(), 1);
    assert_eq!(avatars[0]["name"], "Ava");
    assert!(!avatars[0]["appearance"].as_str().unwrap().is_empty());
    let (_, prefs) = t.get("/preferences", &token).await;
    assert_eq!(prefs["active_persona_id"], avatars[0]["id"]);
}

async fn personas_can_be_created_read_updated_and_deleted(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (token, _) = t.register("maker@example.com").await;
    let (status, created) = t
        .post(
            "/avatars",
            &token,
            json!({ "name": "Mia", "style": "playful", "appearance": "short black hair", "tags": ["fun"] }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["description"], "");
    assert!(created["photo_seed"].as_i64().unwrap() > 0);

    let (status, got) = t.get(&format!("/avatars/{id}"), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got, created);

    let (status, patched) = t
        .call(
            Method::PATCH,
            &format!("/avatars/{id}"),
            Some(&token),
            Some(json!({ "description": "A musician." })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["description"], "A musician.");
    assert_eq!(
        patched["style"], "playful",
        "PATCH keeps what it does not name"
    );

    let (status, replaced) = t
        .call(
            Method::PUT,
            &format!("/avatars/{id}"),
            Some(&token),
            Some(json!({ "name": "Mia 2" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(replaced["name"], "Mia 2");
    assert_eq!(replaced["description"], "", "PUT replaces everything");

    let (status, invalid) = t
        .call(
            Method::PUT,
            &format!("/avatars/{id}"),
            Some(&token),
            Some(json!({ "name": "  " })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(invalid["field"], "name");

    let (status, _) = t
        .call(
            Method::DELETE,
            &format!("/avatars/{id}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        t.get(&format!("/avatars/{id}"), &token).await.0,
        StatusCode::NOT_FOUND
    );
}

async fn the_last_persona_cannot_be_deleted(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (token, _) = t.register("solo@example.com").await;
    let (_, list) = t.get("/avatars", &token).await;
    let ava = list["avatars"][0]["id"].as_str().unwrap().to_string();
    let (status, body) = t
        .call(
            Method::DELETE,
            &format!("/avatars/{ava}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // With a second one, deleting the active persona makes the other active.
    let (_, mia) = t.post("/avatars", &token, json!({ "name": "Mia" })).await;
    let (status, _) = t
        .call(
            Method::DELETE,
            &format!("/avatars/{ava}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, prefs) = t.get("/preferences", &token).await;
    assert_eq!(prefs["active_persona_id"], mia["id"]);
}

async fn intimate_mode_needs_an_adult_confirmation(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (token, _) = t.register("adult@example.com").await;
    let put =
        |body: serde_json::Value| t.call(Method::PUT, "/preferences", Some(&token), Some(body));

    let (status, body) = put(json!({ "mode": "intimate" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(body["detail"].as_str().unwrap().contains("18 or older"));
    assert_eq!(t.get("/preferences", &token).await.1["mode"], "secretary");

    let (status, body) = put(json!({ "mode": "intimate", "confirm_adult": true })).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["mode"], "intimate");
    let confirmed_at = body["adult_confirmed_at"].as_i64().unwrap();
    assert!(confirmed_at > 0);

    // Confirming again keeps the original time; withdrawing leaves intimate mode.
    let (_, body) = put(json!({ "confirm_adult": true, "photos_enabled": true })).await;
    assert_eq!(body["adult_confirmed_at"].as_i64().unwrap(), confirmed_at);
    assert_eq!(body["photos_enabled"], true);
    let (_, body) = put(json!({ "confirm_adult": false })).await;
    assert_eq!(body["mode"], "secretary");
    assert_eq!(body["adult_confirmed"], false);

    let (status, body) = put(json!({ "mode": "flirty" })).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "mode");
}

async fn another_users_records_are_404_everywhere(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (alice, alice_id) = t.subscriber("alice@example.com").await;
    let (bob, _) = t.subscriber("bob@example.com").await;
    let (_, list) = t.get("/avatars", &alice).await;
    let persona = list["avatars"][0]["id"].as_str().unwrap().to_string();
    let (status, turn) = t
        .post("/chat", &alice, json!({ "message": "hello there" }))
        .await;
    assert_eq!(status, StatusCode::OK, "{turn}");
    let message = turn["message"]["id"].as_str().unwrap().to_string();

    let avatar = format!("/avatars/{persona}");
    let cases: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, avatar.clone(), None),
        (
            Method::PUT,
            avatar.clone(),
            Some(json!({ "name": "Stolen" })),
        ),
        (
            Method::PATCH,
            avatar.clone(),
            Some(json!({ "name": "Stolen" })),
        ),
        (Method::DELETE, avatar.clone(), None),
        (Method::GET, format!("/messages?persona_id={persona}"), None),
        (
            Method::PUT,
            format!("/messages/{message}"),
            Some(json!({ "content": "rewritten" })),
        ),
        (
            Method::PUT,
            "/preferences".into(),
            Some(json!({ "active_persona_id": persona })),
        ),
        (
            Method::POST,
            "/chat".into(),
            Some(json!({ "message": "hi", "persona_id": persona })),
        ),
        (
            Method::POST,
            "/chat/regenerate".into(),
            Some(json!({ "persona_id": persona })),
        ),
    ];
    for (method, path, body) in cases {
        let (status, answer) = t.call(method.clone(), &path, Some(&bob), body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
        assert!(answer["detail"].is_string());
    }
    // Alice's records are untouched.
    let (status, still) = t.get(&avatar, &alice).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(still["name"], "Ava");
    let (_, history) = t.get("/messages", &alice).await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 2);
    assert_eq!(history["messages"][0]["content"], "hello there");
    let _ = alice_id;
}

async fn malformed_bodies_answer_json_errors(backend: Backend) {
    let t = TestApp::start(backend).await;
    let raw = |body: &'static str, content_type: &'static str| {
        t.client
            .post(t.url("/auth/register"))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let syntax = raw("{not json", "application/json").await.unwrap();
    assert_eq!(syntax.status(), StatusCode::BAD_REQUEST);
    assert!(
        syntax.json::<serde_json::Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .starts_with("Malformed JSON")
    );
    let shape = raw(r#"{"email": "a@b.co"}"#, "application/json")
        .await
        .unwrap();
    assert_eq!(shape.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        shape.json::<serde_json::Value>().await.unwrap()["detail"]
            .as_str()
            .unwrap()
            .contains("password")
    );
    let media = raw(r#"{"email": "a@b.co"}"#, "text/plain").await.unwrap();
    assert_eq!(media.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert!(media.json::<serde_json::Value>().await.unwrap()["detail"].is_string());

    // Over the 2 MB body limit: 413, not a 400 that reads like a syntax error.
    let huge = format!(
        r#"{{"email": "a@b.co", "password": "{}"}}"#,
        "x".repeat(3 << 20)
    );
    let too_large = t
        .client
        .post(t.url("/auth/register"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        too_large.json::<serde_json::Value>().await.unwrap()["detail"],
        "The request body is too large"
    );
}
