//! SIGHUP reloads the plugins. In a test binary of its own: the handler is process-wide.

mod common;

use std::time::{Duration, Instant};

use ava_host::plugins::watch;
use common::TestHost;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_plugins() {
    let config =
        "[plugins.persona]\nuse = \"p\"\n[plugin.p]\npath = \"{plugins}/local-persona.wasm\"\n";
    let host = TestHost::start(config, &[]).await;
    let _watcher = watch(host.registry.clone()).unwrap();
    // The handler is installed by a spawned task; give it a moment.
    tokio::time::sleep(Duration::from_millis(200)).await;

    // Nothing changes on disk, so only the signal can bring the second generation.
    // SAFETY: `kill` with our own pid and SIGHUP, which the watcher handles.
    assert_eq!(unsafe { libc_kill(std::process::id() as i32, 1) }, 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while host.registry.current().generation < 2 {
        assert!(Instant::now() < deadline, "SIGHUP did not reload");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
