//! `personas`: the characters a user chats with.

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, Executor};

use super::{DbError, DbResult};

/// What a user can edit of a persona (Character Card V2/V3 fields, plus appearance).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PersonaData {
    pub name: String,
    pub style: String,
    pub description: String,
    pub personality: String,
    pub scenario: String,
    pub greeting: String,
    pub example_dialogue: String,
    pub system_prompt: String,
    pub post_history_instructions: String,
    pub appearance: String,
    pub alternate_greetings: Vec<String>,
    pub tags: Vec<String>,
    pub creator: String,
    pub creator_notes: String,
}

/// A stored persona.
#[derive(Debug, Clone, PartialEq)]
pub struct Persona {
    pub id: String,
    pub user_id: String,
    pub data: PersonaData,
    /// Keeps the persona's look the same across photos.
    pub photo_seed: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    user_id: String,
    name: String,
    style: String,
    description: String,
    personality: String,
    scenario: String,
    greeting: String,
    example_dialogue: String,
    system_prompt: String,
    post_history_instructions: String,
    appearance: String,
    alternate_greetings: String,
    tags: String,
    creator: String,
    creator_notes: String,
    photo_seed: i64,
    created_at: i64,
    updated_at: i64,
}

/// The columns of `Row`, as a literal so queries are built at compile time.
macro_rules! columns {
    () => {
        "id, user_id, name, style, description, personality, scenario, greeting, \
         example_dialogue, system_prompt, post_history_instructions, appearance, \
         alternate_greetings, tags, creator, creator_notes, photo_seed, created_at, updated_at"
    };
}

fn list_from(json: &str, field: &str) -> DbResult<Vec<String>> {
    serde_json::from_str(json).map_err(|e| DbError::Corrupt(format!("personas.{field}: {e}")))
}

fn list_to(list: &[String]) -> String {
    serde_json::to_string(list).expect("strings serialize")
}

impl TryFrom<Row> for Persona {
    type Error = DbError;
    fn try_from(r: Row) -> DbResult<Self> {
        Ok(Persona {
            data: PersonaData {
                alternate_greetings: list_from(&r.alternate_greetings, "alternate_greetings")?,
                tags: list_from(&r.tags, "tags")?,
                name: r.name,
                style: r.style,
                description: r.description,
                personality: r.personality,
                scenario: r.scenario,
                greeting: r.greeting,
                example_dialogue: r.example_dialogue,
                system_prompt: r.system_prompt,
                post_history_instructions: r.post_history_instructions,
                appearance: r.appearance,
                creator: r.creator,
                creator_notes: r.creator_notes,
            },
            id: r.id,
            user_id: r.user_id,
            photo_seed: r.photo_seed,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

/// Binds the editable fields, in the order both `insert` and `update` name them.
fn bind_data<'q>(
    query: Query<'q, Any, AnyArguments>,
    d: &'q PersonaData,
) -> Query<'q, Any, AnyArguments> {
    query
        .bind(&d.name)
        .bind(&d.style)
        .bind(&d.description)
        .bind(&d.personality)
        .bind(&d.scenario)
        .bind(&d.greeting)
        .bind(&d.example_dialogue)
        .bind(&d.system_prompt)
        .bind(&d.post_history_instructions)
        .bind(&d.appearance)
        .bind(list_to(&d.alternate_greetings))
        .bind(list_to(&d.tags))
        .bind(&d.creator)
        .bind(&d.creator_notes)
}

/// Stores a new persona.
pub async fn insert<'e>(e: impl Executor<'e, Database = Any>, p: &Persona) -> DbResult<()> {
    let d = &p.data;
    let query = sqlx::query(
        "INSERT INTO personas (id, user_id, name, style, description, personality, scenario,
            greeting, example_dialogue, system_prompt, post_history_instructions, appearance,
            alternate_greetings, tags, creator, creator_notes, photo_seed, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
    )
    .bind(&p.id)
    .bind(&p.user_id);
    bind_data(query, d)
        .bind(p.photo_seed)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(e)
        .await?;
    Ok(())
}

/// The user's personas, oldest first.
pub async fn list<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
) -> DbResult<Vec<Persona>> {
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM personas WHERE user_id = $1 ORDER BY created_at, id"
    ))
    .bind(user_id)
    .fetch_all(e)
    .await?;
    rows.into_iter().map(Persona::try_from).collect()
}

/// The user's persona `id`; `None` for another user's.
pub async fn get<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    id: &str,
) -> DbResult<Option<Persona>> {
    let row: Option<Row> = sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM personas WHERE id = $1 AND user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(e)
    .await?;
    row.map(Persona::try_from).transpose()
}

/// [`columns!`] qualified with the table name, for joins.
macro_rules! qualified_columns {
    () => {
        "personas.id, personas.user_id, personas.name, personas.style, personas.description, \
         personas.personality, personas.scenario, personas.greeting, personas.example_dialogue, \
         personas.system_prompt, personas.post_history_instructions, personas.appearance, \
         personas.alternate_greetings, personas.tags, personas.creator, personas.creator_notes, \
         personas.photo_seed, personas.created_at, personas.updated_at"
    };
}

/// The user's persona `id` with its conversation's memory, in one query.
pub async fn get_with_memory<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    id: &str,
) -> DbResult<Option<(Persona, Option<super::memories::Memory>)>> {
    #[derive(sqlx::FromRow)]
    struct WithMemory {
        #[sqlx(flatten)]
        persona: Row,
        summary: Option<String>,
        through_seq: Option<i64>,
    }
    let row: Option<WithMemory> = sqlx::query_as(concat!(
        "SELECT ",
        qualified_columns!(),
        ", m.summary, m.through_seq FROM personas
          LEFT JOIN memories m ON m.user_id = personas.user_id AND m.persona_id = personas.id
          WHERE personas.id = $1 AND personas.user_id = $2"
    ))
    .bind(id)
    .bind(user_id)
    .fetch_optional(e)
    .await?;
    row.map(|r| {
        let memory = match (r.summary, r.through_seq) {
            (Some(summary), Some(through_seq)) => Some(super::memories::Memory {
                summary,
                through_seq,
            }),
            _ => None,
        };
        Ok((Persona::try_from(r.persona)?, memory))
    })
    .transpose()
}

/// Replaces the editable fields of the user's persona `id`; false when there is none.
pub async fn update<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    id: &str,
    d: &PersonaData,
    now: i64,
) -> DbResult<bool> {
    let query = sqlx::query(
        "UPDATE personas SET name = $3, style = $4, description = $5, personality = $6,
            scenario = $7, greeting = $8, example_dialogue = $9, system_prompt = $10,
            post_history_instructions = $11, appearance = $12, alternate_greetings = $13,
            tags = $14, creator = $15, creator_notes = $16, updated_at = $17
         WHERE id = $1 AND user_id = $2",
    )
    .bind(id)
    .bind(user_id);
    let done = bind_data(query, d).bind(now).execute(e).await?;
    Ok(done.rows_affected() > 0)
}

/// Deletes the user's persona `id` (and, by cascade, its conversation); false when none.
pub async fn delete<'e>(
    e: impl Executor<'e, Database = Any>,
    user_id: &str,
    id: &str,
) -> DbResult<bool> {
    let done = sqlx::query("DELETE FROM personas WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// How many personas the user has.
pub async fn count<'e>(e: impl Executor<'e, Database = Any>, user_id: &str) -> DbResult<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM personas WHERE user_id = $1")
            .bind(user_id)
            .fetch_one(e)
            .await?,
    )
}
