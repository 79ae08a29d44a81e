//! Filling the key-value store the host keeps for every plugin.

use ava_sdk::kv;

/// `keys:bytes`: writes `keys` values of `bytes` bytes under `fill:<i>`.
pub fn fill(arg: &str) -> String {
    let (keys, bytes) = arg.split_once(':').unwrap_or((arg, "1024"));
    let keys: usize = keys.parse().unwrap_or(0);
    let value = vec![b'k'; bytes.parse().unwrap_or(1024)];
    for i in 0..keys {
        if let Err(err) = kv::set(&format!("fill:{i}"), &value, None) {
            return format!("stored {i}; refused: {err}");
        }
    }
    format!("stored {keys}")
}
