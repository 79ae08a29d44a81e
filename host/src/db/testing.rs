//! What the database's unit tests share: a migrated embedded database with users, and
//! messages to store in it.

use super::messages::Message;
use super::{Db, new_id};

/// User `user`'s message number `seq` to persona `persona` (odd: the user's, even: the reply).
pub fn message(user: &str, persona: &str, seq: i64, content: &str) -> Message {
    Message {
        id: new_id(),
        user_id: user.into(),
        persona_id: persona.into(),
        seq,
        role: if seq % 2 == 1 { "user" } else { "assistant" }.into(),
        content: content.into(),
        mode: "secretary".into(),
        photo_prompt: None,
        photo_caption: None,
        photo_id: None,
        created_at: 0,
    }
}

/// A migrated embedded database in `dir` with `users` users `u{n}`, each with persona `p{n}`.
pub async fn database(dir: &std::path::Path, users: usize) -> Db {
    let db = Db::connect_embedded(dir).await.unwrap();
    db.migrate().await.unwrap();
    for u in 0..users {
        let user = super::users::User {
            id: format!("u{u}"),
            email: format!("u{u}@example.com"),
            display_name: None,
            created_at: 0,
        };
        let mut persona =
            crate::personas::new_persona(&user.id, crate::personas::default_persona());
        persona.id = format!("p{u}");
        let mut tx = db.write().await.unwrap();
        super::users::insert(&mut **tx, &user, "x").await.unwrap();
        super::personas::insert(&mut **tx, &persona).await.unwrap();
        tx.commit().await.unwrap();
    }
    db
}
