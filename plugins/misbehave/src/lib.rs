//! A persona plugin for the host's sandbox tests. The user message picks what it does:
//!
//! | message | behaviour |
//! |---|---|
//! | `loop` | spins forever |
//! | `spin:<ms>` | burns CPU for `ms` milliseconds, then answers |
//! | `oom` | allocates until memory runs out |
//! | `recurse` | recurses without end |
//! | `huge:<n>` | answers `n` bytes |
//! | `stream:<n>` | streams `n` bytes in 64 KiB pieces |
//! | `panic` | panics |
//! | `sleep:<ms>` | sleeps in the host, then answers |
//! | `fetch:<url>` | GETs `url`; answers the status or the error |
//! | `fetch-log:<url>` | GETs `url` and logs the body |
//! | `secret-header:<secret>@<url>` | GETs `url` with `X-Secret: {secret:<secret>}` |
//! | `config:<key>` | answers the config value |
//! | `has-secret:<name>` | answers yes or no |
//! | `hmac:<name>` | answers the hex HMAC of `x` with that secret, or the error |
//! | `log-flood` | writes 5,000 log lines |
//! | `print-flood` | prints 5,000 lines to stdout and to stderr (about 250 KiB each) |
//! | `print-then-panic` | prints 5,000 lines to stderr, then panics |
//! | `kv-set:<k>=<v>` / `kv-get:<k>` | uses the key-value store |
//! | `count` | bumps a static counter and answers it (1 in a fresh instance) |
//! | `inspect` | answers JSON describing the request it received |
//! | `slow-stream:<pieces>:<ms>` | streams `pieces` words, sleeping `ms` between them |
//!
//! `summarize` answers `memory(<previous>|<n> turns)`, so tests can see the memory travel.
//! | anything else | answers `misbehave: <message>` |

use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};

use ava_sdk::chat::{ChatMode, ChatPersona, ChatReply, ChatRequest, Role, SummaryRequest};
use ava_sdk::http::Request;
use ava_sdk::{ConfigKey, PluginError, PluginInfo, config, crypto, kv, time};

struct Misbehave;

impl ChatPersona for Misbehave {
    fn metadata() -> PluginInfo {
        ava_sdk::plugin_info!("Test plugin: misbehaves on request")
            .key(ConfigKey::optional(
                "greeting",
                "any value, for config isolation tests",
            ))
            .key(ConfigKey::optional_secret(
                "api_key",
                "a secret, for secret isolation tests",
            ))
    }

    fn reply(request: ChatRequest) -> Result<ChatReply, PluginError> {
        let message = request.message.trim();
        let (verb, arg) = message.split_once(':').unwrap_or((message, ""));
        let text = match verb {
            "loop" => spin_forever(),
            "spin" => {
                let until = time::now_ms() + arg.parse::<u64>().unwrap_or(100);
                let mut x = 0u64;
                while time::now_ms() < until {
                    for _ in 0..10_000 {
                        x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                    }
                }
                format!("spun {x}")
            }
            "oom" => exhaust_memory(),
            "recurse" => format!("depth {}", recurse(black_box(1))),
            "huge" => "x".repeat(arg.parse().unwrap_or(0)),
            "stream" => {
                let total: usize = arg.parse().unwrap_or(0);
                let piece = "y".repeat(64 << 10);
                let mut sent = 0;
                while sent < total {
                    ava_sdk::chat::push(&piece);
                    sent += piece.len();
                }
                format!("streamed {sent}")
            }
            "panic" => panic!("misbehave panicked on purpose"),
            "sleep" => {
                time::sleep_ms(arg.parse().unwrap_or(0));
                "slept".into()
            }
            "fetch" => match Request::get(arg).send() {
                Ok(r) => format!("status {}", r.status),
                Err(e) => format!("error {}", e.message()),
            },
            "fetch-log" => match Request::get(arg).send() {
                Ok(r) => {
                    ava_sdk::info!("upstream said: {}", String::from_utf8_lossy(&r.body));
                    "logged".into()
                }
                Err(e) => format!("error {}", e.message()),
            },
            "secret-header" => {
                let (secret, url) = arg.split_once('@').unwrap_or((arg, ""));
                match Request::get(url)
                    .header("X-Secret", format!("{{secret:{secret}}}"))
                    .send()
                {
                    Ok(r) => format!("status {}", r.status),
                    Err(e) => format!("error {}", e.message()),
                }
            }
            "config" => config::get(arg).unwrap_or_else(|| "none".into()),
            "has-secret" => if config::has_secret(arg) { "yes" } else { "no" }.into(),
            "hmac" => match crypto::hmac_sha256(arg, b"x") {
                Ok(mac) => crypto::to_hex(&mac),
                Err(e) => format!("error {}", e.message()),
            },
            // Far past the host's 64 KiB capture of stdout and stderr: printing must go on.
            "print-flood" => {
                for i in 0..5_000 {
                    println!("stdout line {i} of a plugin that prints too much");
                    eprintln!("stderr line {i} of a plugin that prints too much");
                }
                "printed".into()
            }
            "print-then-panic" => {
                for i in 0..5_000 {
                    eprintln!("stderr line {i} before the panic");
                }
                panic!("misbehave panicked after printing")
            }
            "log-flood" => {
                for i in 0..5_000 {
                    ava_sdk::info!("flood line {i}");
                }
                "flooded".into()
            }
            "inspect" => serde_json::json!({
                "persona": request.persona.name,
                "mode": match request.mode {
                    ChatMode::Secretary => "secretary",
                    ChatMode::Intimate => "intimate",
                },
                "user_name": request.user_name,
                "memory": request.memory,
                "history": request.history.iter().map(|m| {
                    let role = match m.role { Role::User => "user", Role::Assistant => "assistant" };
                    format!("{role}: {}", m.content)
                }).collect::<Vec<_>>(),
                "photos_allowed": request.photos_allowed,
            })
            .to_string(),
            "slow-stream" => {
                let (pieces, ms) = arg.split_once(':').unwrap_or((arg, "0"));
                let pieces: usize = pieces.parse().unwrap_or(1);
                let mut text = String::new();
                for i in 0..pieces {
                    let piece = format!("word{i} ");
                    ava_sdk::chat::push(&piece);
                    text.push_str(&piece);
                    time::sleep_ms(ms.parse().unwrap_or(0));
                }
                return Ok(ChatReply::text(text));
            }
            "count" => {
                static CALLS: AtomicU32 = AtomicU32::new(0);
                (CALLS.fetch_add(1, Ordering::SeqCst) + 1).to_string()
            }
            "kv-set" => {
                let (k, v) = arg.split_once('=').unwrap_or((arg, ""));
                kv::set(k, v.as_bytes(), None)?;
                "stored".into()
            }
            "kv-get" => match kv::get(arg)? {
                Some(v) => String::from_utf8_lossy(&v).into_owned(),
                None => "none".into(),
            },
            _ => format!("misbehave: {message}"),
        };
        Ok(ChatReply::text(text))
    }

    fn stream_reply(request: ChatRequest) -> Result<ChatReply, PluginError> {
        // `slow-stream` pushes while it works; everything else answers in one piece.
        let streams_itself = request.message.trim().starts_with("slow-stream");
        let reply = Self::reply(request)?;
        if !streams_itself {
            ava_sdk::chat::push(&reply.text);
        }
        Ok(reply)
    }

    fn summarize(request: SummaryRequest) -> Result<String, PluginError> {
        Ok(format!(
            "memory({}|{} turns)",
            request.previous.unwrap_or_default(),
            request.turns.len()
        ))
    }
}

fn spin_forever() -> String {
    let mut x = 0u64;
    loop {
        x = black_box(x.wrapping_add(1));
    }
}

fn exhaust_memory() -> String {
    let mut hoard: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut block = vec![0u8; 1 << 20];
        // Touch every page so the memory is really used.
        for i in (0..block.len()).step_by(4096) {
            block[i] = 1;
        }
        hoard.push(black_box(block));
    }
}

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let local = black_box([depth; 16]);
    recurse(black_box(local[3] + 1)) + local[7]
}

ava_sdk::export_chat_persona!(Misbehave);
