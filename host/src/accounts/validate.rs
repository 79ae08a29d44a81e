//! Input rules for accounts. Each failure names its field.

/// An input that breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Invalid {
    pub field: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// The canonical form of an email: trimmed and lowercased, so `Sam@Example.com ` and
/// `sam@example.com` are one account.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Checks a normalized email: one `@`, a non-empty local part, a domain with a dot and
/// well-formed labels, no spaces, within RFC 5321's lengths.
pub fn email(email: &str) -> Result<(), Invalid> {
    let bad = |why: &str| {
        Err(Invalid::new(
            "email",
            format!("not a valid email address ({why})"),
        ))
    };
    if email.is_empty() {
        return Err(Invalid::new("email", "is required"));
    }
    if email.len() > 254 {
        return bad("longer than 254 characters");
    }
    if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad("contains spaces");
    }
    let Some((local, domain)) = email.rsplit_once('@') else {
        return bad("no @");
    };
    if local.is_empty() || local.len() > 64 || local.contains('@') {
        return bad("bad part before @");
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2
        || labels
            .iter()
            .any(|l| l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-'))
    {
        return bad("bad domain");
    }
    Ok(())
}

/// A password: 8 to 128 characters, not only spaces.
pub fn password(password: &str) -> Result<(), Invalid> {
    let chars = password.chars().count();
    if chars < 8 {
        return Err(Invalid::new("password", "must be at least 8 characters"));
    }
    if chars > 128 {
        return Err(Invalid::new("password", "must be at most 128 characters"));
    }
    if password.trim().is_empty() {
        return Err(Invalid::new("password", "must not be only spaces"));
    }
    Ok(())
}

/// A display name, trimmed: at most 80 characters, no control characters; empty means none.
pub fn display_name(name: Option<&str>) -> Result<Option<String>, Invalid> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    if name.chars().count() > 80 {
        return Err(Invalid::new(
            "display_name",
            "must be at most 80 characters",
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Invalid::new(
            "display_name",
            "must not contain control characters",
        ));
    }
    Ok(Some(name.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalized_to_one_form() {
        assert_eq!(normalize_email("  Sam@Example.COM "), "sam@example.com");
    }

    #[test]
    fn plausible_emails_pass() {
        for ok in [
            "a@b.co",
            "first.last+tag@mail.example.org",
            "x_y@sub-domain.example.com",
        ] {
            assert_eq!(email(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn malformed_emails_fail_on_the_email_field() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@b",
            "a b@c.com",
            "a@-b.com",
            "a@b..com",
            "a@@b.com",
        ] {
            let err = email(bad).unwrap_err();
            assert_eq!(err.field, "email", "{bad}");
        }
        assert!(email(&format!("{}@example.com", "a".repeat(65))).is_err());
    }

    #[test]
    fn passwords_need_eight_characters_not_bytes() {
        assert!(password("short").is_err());
        assert!(password("        ").is_err());
        assert_eq!(password("éééééééé"), Ok(()));
        assert!(password(&"x".repeat(129)).is_err());
    }

    #[test]
    fn display_names_are_trimmed_and_optional() {
        assert_eq!(display_name(Some("  Sam ")), Ok(Some("Sam".into())));
        assert_eq!(display_name(Some("   ")), Ok(None));
        assert_eq!(display_name(None), Ok(None));
        assert!(display_name(Some("a\u{0}b")).is_err());
    }
}
