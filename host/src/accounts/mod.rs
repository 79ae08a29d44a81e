//! Accounts: registration, login, logout and bearer-token authentication.

pub mod limiter;
pub mod password;
pub mod tokens;
pub mod validate;

use std::net::IpAddr;
use std::time::Duration;

use crate::db::preferences::Preferences;
use crate::db::users::User;
use crate::db::{Db, DbError, WriteTx, now_ms, preferences, sessions, users};
use crate::personas;
use limiter::LoginLimiter;
use validate::Invalid;

/// How long a token lives.
pub const SESSION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("an account with this email already exists")]
    EmailTaken,
    /// Deliberately vague: it does not say whether the email or the password was wrong.
    #[error("invalid email or password")]
    BadCredentials,
    #[error("too many login attempts; try again in {} seconds", .0.as_secs().max(1))]
    RateLimited(Duration),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{0}")]
    Internal(String),
}

/// Stores a new session for `user_id` in `tx`; returns its token.
async fn open_session(tx: &mut WriteTx, user_id: &str, now: i64) -> Result<String, DbError> {
    let token = tokens::generate();
    let expires_at = now + SESSION_TTL.as_millis() as i64;
    sessions::insert(&mut ***tx, &tokens::hash(&token), user_id, now, expires_at).await?;
    Ok(token)
}

/// A signed-in user and their new token.
#[derive(Debug, Clone)]
pub struct Session {
    pub token: String,
    pub user: User,
}

/// The accounts service.
pub struct Accounts {
    db: Db,
    limiter: LoginLimiter,
    /// Live sessions recently seen, by token hash: every API call authenticates, and most
    /// come from the same few tokens. Logging out here removes the entry at once; a logout
    /// through another replica is seen within the cache's lifetime.
    sessions: Option<moka::sync::Cache<String, CachedSession>>,
}

#[derive(Debug, Clone)]
struct CachedSession {
    user_id: String,
    expires_at: i64,
}

impl Accounts {
    /// `cache_ttl` zero looks every token up in the database.
    pub fn new(db: Db, cache_ttl: Duration) -> Self {
        let sessions = (!cache_ttl.is_zero()).then(|| {
            moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(cache_ttl)
                .build()
        });
        Self {
            db,
            limiter: LoginLimiter::default(),
            sessions,
        }
    }

    /// Creates an account with its default persona, preferences and a first session, all
    /// in one transaction.
    pub async fn register(
        &self,
        email: &str,
        password: &str,
        display_name: Option<&str>,
    ) -> Result<Session, AccountError> {
        let email = validate::normalize_email(email);
        validate::email(&email)?;
        validate::password(password)?;
        let display_name = validate::display_name(display_name)?;
        let hash = password::hash(password.to_string())
            .await
            .map_err(AccountError::Internal)?;

        let now = now_ms();
        let user = User {
            id: crate::db::new_id(),
            email,
            display_name,
            created_at: now,
        };
        let persona = personas::new_persona(&user.id, personas::default_persona());
        let prefs = Preferences {
            user_id: user.id.clone(),
            mode: "secretary".into(),
            active_persona_id: Some(persona.id.clone()),
            photos_enabled: false,
            adult_confirmed_at: None,
            updated_at: now,
        };
        let mut tx = self.db.write().await?;
        match users::insert(&mut **tx, &user, &hash).await {
            Err(e) if e.is_unique_violation() => return Err(AccountError::EmailTaken),
            other => other?,
        }
        crate::db::personas::insert(&mut **tx, &persona).await?;
        preferences::upsert(&mut **tx, &prefs).await?;
        let token = open_session(&mut tx, &user.id, now).await?;
        tx.commit().await?;
        tracing::info!(user = %user.id, "account created");
        Ok(Session { token, user })
    }

    /// Checks the credentials and opens a session. Attempts are rate-limited per email
    /// and per client address, successful or not.
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<Session, AccountError> {
        let email = validate::normalize_email(email);
        self.limiter
            .attempt(&email, client)
            .map_err(AccountError::RateLimited)?;
        let (user, stored) = users::by_email(self.db.pool(), &email).await?.unzip();
        if !password::verify(password.to_string(), stored).await {
            return Err(AccountError::BadCredentials);
        }
        let user = user.ok_or(AccountError::BadCredentials)?;
        let mut tx = self.db.write().await?;
        let token = open_session(&mut tx, &user.id, now_ms()).await?;
        tx.commit().await?;
        Ok(Session { token, user })
    }

    /// Revokes the session of `token`.
    pub async fn logout(&self, token: &str) -> Result<(), AccountError> {
        let hash = tokens::hash(token);
        let mut tx = self.db.write().await?;
        sessions::revoke(&mut **tx, &hash, now_ms()).await?;
        tx.commit().await?;
        if let Some(cache) = &self.sessions {
            cache.invalidate(&hash);
        }
        Ok(())
    }

    /// The user a token belongs to, while its session is live.
    pub async fn authenticate(&self, token: &str) -> Result<Option<String>, AccountError> {
        let hash = tokens::hash(token);
        let now = now_ms();
        if let Some(hit) = self.sessions.as_ref().and_then(|c| c.get(&hash))
            && hit.expires_at > now
        {
            return Ok(Some(hit.user_id));
        }
        let Some((user_id, expires_at)) = sessions::live(self.db.pool(), &hash, now).await? else {
            return Ok(None);
        };
        if let Some(cache) = &self.sessions {
            cache.insert(
                hash,
                CachedSession {
                    user_id: user_id.clone(),
                    expires_at,
                },
            );
        }
        Ok(Some(user_id))
    }

    /// Forgets idle rate-limit keys and deletes sessions dead for a week; called hourly.
    pub async fn housekeeping(&self) -> Result<u64, AccountError> {
        self.limiter.forget_idle();
        let week = 7 * 24 * 3600 * 1000;
        let mut tx = self.db.write().await?;
        let purged = sessions::purge(&mut **tx, now_ms() - week).await?;
        tx.commit().await?;
        Ok(purged)
    }
}
