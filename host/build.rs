//! `sqlx::migrate!` embeds `migrations/` at compile time; without this, adding or editing a
//! migration would not rebuild the host, and a stale binary would run the old set.
fn main() {
    println!("cargo:rerun-if-changed=../migrations");
}
