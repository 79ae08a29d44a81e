//! Accounts: registration, login, logout and bearer-token authentication.

pub mod limiter;
pub mod password;
pub mod tokens;
pub mod validate;

use std::net::IpAddr;
use std::time::Duration;

use crate::db::preferences::Preferences;
use crate::db::users::User;
use crate::db::{Db, DbError, now_ms, preferences, sessions, users};
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
}

impl Accounts {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            limiter: LoginLimiter::default(),
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
        let token = tokens::generate();

        let mut tx = self.db.write().await?;
        match users::insert(&mut **tx, &user, &hash).await {
            Err(e) if e.is_unique_violation() => return Err(AccountError::EmailTaken),
            other => other?,
        }
        crate::db::personas::insert(&mut **tx, &persona).await?;
        preferences::upsert(&mut **tx, &prefs).await?;
        sessions::insert(
            &mut **tx,
            &tokens::hash(&token),
            &user.id,
            now,
            now + SESSION_TTL.as_millis() as i64,
        )
        .await?;
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
        let found = users::by_email(self.db.pool(), &email).await?;
        let (user, stored) = match found {
            Some((user, hash)) => (Some(user), Some(hash)),
            None => (None, None),
        };
        if !password::verify(password.to_string(), stored).await {
            return Err(AccountError::BadCredentials);
        }
        let user = user.ok_or(AccountError::BadCredentials)?;
        let token = tokens::generate();
        let now = now_ms();
        let mut tx = self.db.write().await?;
        sessions::insert(
            &mut **tx,
            &tokens::hash(&token),
            &user.id,
            now,
            now + SESSION_TTL.as_millis() as i64,
        )
        .await?;
        tx.commit().await?;
        Ok(Session { token, user })
    }

    /// Revokes the session of `token`.
    pub async fn logout(&self, token: &str) -> Result<(), AccountError> {
        let mut tx = self.db.write().await?;
        sessions::revoke(&mut **tx, &tokens::hash(token), now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user a token belongs to, while its session is live.
    pub async fn authenticate(&self, token: &str) -> Result<Option<String>, AccountError> {
        Ok(sessions::user_of(self.db.pool(), &tokens::hash(token), now_ms()).await?)
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
