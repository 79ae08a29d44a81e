//! TLS for outgoing HTTP: rustls with the ring provider (no C toolchain beyond `cc`).

use std::sync::Once;

/// Installs ring as the process-wide rustls provider, once.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Another component may have installed one first; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
