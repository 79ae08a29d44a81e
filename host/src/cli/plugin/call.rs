//! `ava plugin call PATH.wasm --input JSON`: one call of a built plugin in the real runtime,
//! with the default limits of a server (no server, no database: key-value storage in
//! memory), and a trace of every host call it made.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, anyhow, bail};
use serde_json::Value;
use tokio::sync::mpsc;

use super::{input, output};
use crate::config::{ConfigValue, LimitsConfig, Settings};
use crate::plugins::types::{
    ChatRequest, CheckoutRequest, ImageData, ImageOutput, ImageRequest, Job, PageRequest,
    PortalRequest, SummaryRequest, WebhookRequest,
};
use crate::plugins::{
    Billing, CallError, HostCall, Images, JobHandler, LoadedPlugin, Persona, PluginSet, Recorder,
    World,
};

/// `ava plugin call`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The built component (`ava plugin build` prints its path).
    pub wasm: PathBuf,
    /// The request as JSON, or @FILE to read it from a file (@- reads standard input).
    #[arg(long, value_name = "JSON|@FILE")]
    pub input: String,
    /// The export to call [default: reply, generate or handle; billing providers need one of
    /// create-checkout, create-portal, handle-webhook, get-subscription, serve-page].
    #[arg(long, value_name = "NAME")]
    pub method: Option<String>,
    /// A configuration value of the plugin (repeatable). (`--config` is the path of
    /// ava.toml, as for every command.)
    #[arg(long = "set", value_name = "KEY=VALUE", value_parser = parse_pair)]
    pub set: Vec<(String, String)>,
    /// A secret of the plugin, read from environment variable ENV (repeatable); its value is
    /// never printed.
    #[arg(long, value_name = "KEY=ENV", value_parser = parse_pair)]
    pub secret: Vec<(String, String)>,
    /// A destination the plugin may reach, as in `allow_hosts` (repeatable).
    #[arg(long = "allow-host", value_name = "HOST|URL")]
    pub allow_host: Vec<String>,
    /// Writes the image to FILE (image providers).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Overrides the wall-clock limit of the call.
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<u64>,
    /// Gives the call an instruction budget.
    #[arg(long)]
    pub fuel: Option<u64>,
    /// Overrides the memory limit.
    #[arg(long, value_name = "MIB")]
    pub memory_mib: Option<u32>,
}

/// `KEY=VALUE`.
fn parse_pair(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_string(), value.to_string()))
        }
        _ => Err(format!("`{text}` is not KEY=VALUE")),
    }
}

/// The exports of each world, the default first (billing has none).
fn methods(world: World) -> &'static [&'static str] {
    match world {
        World::ChatPersona => &["reply", "stream-reply", "summarize"],
        World::ImageProvider => &["generate"],
        World::JobHandler => &["handle"],
        World::BillingProvider => &[
            "create-checkout",
            "create-portal",
            "handle-webhook",
            "get-subscription",
            "serve-page",
        ],
    }
}

fn method(world: World, given: Option<&str>) -> anyhow::Result<&'static str> {
    let known = methods(world);
    match given {
        Some(name) => {
            known.iter().copied().find(|m| *m == name).ok_or_else(|| {
                anyhow!("--method {name}: a {world} plugin has {}", known.join(", "))
            })
        }
        None if world == World::BillingProvider => bail!(
            "a billing provider has no default method: pass --method with one of {}",
            known.join(", ")
        ),
        None => Ok(known[0]),
    }
}

/// One call, its request parsed.
enum Call {
    Reply(ChatRequest),
    StreamReply(ChatRequest),
    Summarize(SummaryRequest),
    Generate(ImageRequest),
    Handle(Job),
    CreateCheckout(CheckoutRequest),
    CreatePortal(PortalRequest),
    HandleWebhook(WebhookRequest),
    GetSubscription(String),
    ServePage(PageRequest),
}

/// What a call answered.
enum Answer {
    Json(Value),
    Image(ImageOutput),
}

impl Call {
    fn parse(
        method: &str,
        value: &Value,
        plugin: &LoadedPlugin,
        public_url: &str,
    ) -> Result<Self, String> {
        let now = now_ms();
        Ok(match method {
            "reply" => Self::Reply(input::chat(value)?),
            "stream-reply" => Self::StreamReply(input::chat(value)?),
            "summarize" => Self::Summarize(input::summary(value)?),
            "generate" => Self::Generate(input::image(value)?),
            "handle" => Self::Handle(input::job(value, plugin.kinds(), now)?),
            "create-checkout" => Self::CreateCheckout(input::checkout(value, public_url)?),
            "create-portal" => Self::CreatePortal(input::portal(value, public_url)?),
            "handle-webhook" => Self::HandleWebhook(input::webhook(value, now)?),
            "get-subscription" => Self::GetSubscription(input::subscription_id(value)?),
            "serve-page" => Self::ServePage(input::page(value, public_url)?),
            other => unreachable!("unknown method {other}"),
        })
    }

    async fn run(
        self,
        plugin: Arc<LoadedPlugin>,
        set: Arc<PluginSet>,
    ) -> Result<Answer, CallError> {
        let persona = || Persona(plugin.clone());
        let billing = || Billing(plugin.clone());
        let json = Answer::Json;
        Ok(match self {
            Self::Reply(r) => json(output::chat_reply(&persona().reply(&r).await?)),
            Self::StreamReply(r) => {
                // Pushes are recorded; the receiver only has to outlive the call.
                let (sink, _receiver) = mpsc::unbounded_channel();
                json(output::chat_reply(&persona().stream_reply(&r, sink).await?))
            }
            Self::Summarize(r) => json(Value::String(persona().summarize(&r).await?)),
            Self::Generate(r) => Answer::Image(Images(plugin.clone()).generate(&r).await?),
            Self::Handle(job) => json(output::job_outcome(
                &JobHandler(plugin.clone()).handle(&job, None, set).await?,
            )),
            Self::CreateCheckout(r) => json(output::checkout_session(
                &billing().create_checkout(&r).await?,
            )),
            Self::CreatePortal(r) => {
                json(output::portal_session(&billing().create_portal(&r).await?))
            }
            Self::HandleWebhook(r) => json(output::webhook_outcome(
                &billing().handle_webhook(&r).await?,
            )),
            Self::GetSubscription(id) => json(
                billing()
                    .get_subscription(&id)
                    .await?
                    .as_ref()
                    .map_or(Value::Null, output::subscription),
            ),
            Self::ServePage(r) => json(output::page_response(&billing().serve_page(&r).await?)),
        })
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The `--input` text: inline, `@FILE`, or `@-` for standard input.
fn read_input(text: &str) -> anyhow::Result<Value> {
    let (origin, raw) = match text.strip_prefix('@') {
        Some("-") => {
            let mut raw = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut raw)
                .context("cannot read --input from standard input")?;
            ("standard input".to_string(), raw)
        }
        Some(file) => (
            file.to_string(),
            std::fs::read_to_string(file)
                .with_context(|| format!("--input @{file}: cannot read it"))?,
        ),
        None => ("--input".to_string(), text.to_string()),
    };
    serde_json::from_str(&raw).with_context(|| format!("{origin} is not valid JSON"))
}

/// Runs the call and prints what happened; false when the call failed.
pub async fn run(settings: &Settings, args: &Args) -> anyhow::Result<bool> {
    let config_flag = settings.config.to_string_lossy();
    if config_flag.contains('=') && !settings.config.exists() {
        bail!(
            "`--config {config_flag}` is the path of ava.toml: pass the plugin's configuration \
             with --set KEY=VALUE"
        );
    }
    let value = read_input(&args.input)?;
    if !args.wasm.is_file() {
        bail!(
            "{}: no such file (`ava plugin build` prints where the component is)",
            args.wasm.display()
        );
    }
    for (key, var) in &args.secret {
        if std::env::var_os(var).is_none() {
            bail!("--secret {key}={var}: {var} is not set in the environment");
        }
    }
    let mut limits = LimitsConfig::default();
    if let Some(ms) = args.timeout_ms {
        limits.timeout_ms = ms.max(1);
    }
    if let Some(mib) = args.memory_mib {
        limits.memory_mib = mib.max(1);
    }
    limits.fuel = args.fuel.or(limits.fuel);

    let rt = super::author_runtime(settings, limits.memory_mib)?;
    let name = super::plugin_name(&args.wasm);
    let report = super::load(&rt, &name, &args.wasm, |plugin| {
        plugin.limits = limits;
        plugin.allow_hosts = args.allow_host.clone();
        for (key, value) in &args.set {
            plugin
                .config
                .insert(key.clone(), ConfigValue::String(value.clone()));
        }
        for (key, var) in &args.secret {
            plugin
                .config
                .insert(key.clone(), ConfigValue::Env { env: var.clone() });
        }
    })
    .await;
    let set = match report.into_set() {
        Ok(set) => Arc::new(set),
        Err(err) => bail!(
            "{err}\n(with `ava plugin call`: values with --set KEY=VALUE, secrets with \
             --secret KEY=ENV, destinations with --allow-host)"
        ),
    };
    let plugin = set.plugin(&name).cloned().expect("the plugin loaded");
    let method = method(plugin.world(), args.method.as_deref())?;
    if args.out.is_some() && plugin.world() != World::ImageProvider {
        bail!("--out writes an image: it is for image providers");
    }
    let public_url = settings.public_base_url();
    let call = Call::parse(method, &value, &plugin, &public_url)
        .map_err(|err| anyhow!("bad --input for {method}: {err}"))?;

    let info = plugin.info();
    println!(
        "plugin    {} {} ({}), {method}",
        info.name,
        info.version,
        plugin.world()
    );
    let recorder = Recorder::default();
    let started = Instant::now();
    let result = recorder.scope(call.run(plugin.clone(), set)).await;
    let elapsed = started.elapsed();
    let recording = recorder.recording();

    let ok = match &result {
        Ok(Answer::Json(value)) => {
            println!("result");
            println!("{}", serde_json::to_string_pretty(value)?);
            true
        }
        Ok(Answer::Image(image)) => {
            println!("result");
            println!(
                "{}",
                serde_json::to_string_pretty(&output::image_output(image))?
            );
            image_summary(&plugin, image, args.out.as_ref()).await?
        }
        Err(_) => false,
    };
    println!("host calls ({})", recording.calls.len());
    for (i, call) in recording.calls.iter().enumerate() {
        println!("  {:>2}. {}", i + 1, describe(call));
    }
    println!(
        "time      {} (wall, a fresh instance included)",
        millis(elapsed)
    );
    println!(
        "memory    {} peak, of {} allowed",
        super::human_bytes(recording.peak_memory_bytes as u64),
        super::human_bytes(plugin.limits().memory_bytes as u64)
    );
    if let Err(err) = &result {
        eprintln!("error: {err}");
    }
    Ok(ok)
}

/// Prints the image's type and size and writes it to `out`; false when it is unusable.
async fn image_summary(
    plugin: &Arc<LoadedPlugin>,
    image: &ImageOutput,
    out: Option<&PathBuf>,
) -> anyhow::Result<bool> {
    let (declared, data) = match &image.image {
        ImageData::Bytes(bytes) => (Some(bytes.content_type.clone()), bytes.data.clone()),
        ImageData::Url(url) => {
            if out.is_none() {
                println!("image     at {url} (pass --out FILE to download it as the host would)");
                return Ok(true);
            }
            match Images(plugin.clone()).download(url).await {
                Ok((content_type, data)) => {
                    println!("download  {url}");
                    (content_type, data)
                }
                Err(err) => {
                    eprintln!("error: cannot download the image: {}", err.message());
                    return Ok(false);
                }
            }
        }
    };
    let detected = ava_sdk::images::sniff_content_type(&data);
    println!(
        "image     {}, {} ({} bytes){}",
        detected.unwrap_or("not a PNG, JPEG or WebP image"),
        super::human_bytes(data.len() as u64),
        data.len(),
        match &declared {
            Some(d) if Some(d.as_str()) != detected => format!(", declared {d}"),
            _ => String::new(),
        }
    );
    if let Some(out) = out {
        std::fs::write(out, &data).with_context(|| format!("cannot write {}", out.display()))?;
        println!("wrote     {}", out.display());
    }
    if detected.is_none() {
        eprintln!("error: the host refuses images that are not PNG, JPEG or WebP files");
    }
    Ok(detected.is_some())
}

fn millis(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// One line per host call; secrets by name only.
fn describe(call: &HostCall) -> String {
    match call {
        HostCall::Http {
            method,
            url,
            outcome,
        } => match outcome {
            Ok(status) => format!("http {method} {url} -> {status}"),
            Err(err) => format!("http {method} {url} -> error: {err}"),
        },
        HostCall::Config { key, found } => {
            format!("config {key}: {}", if *found { "set" } else { "unset" })
        }
        HostCall::HasSecret { name, granted } => format!(
            "has-secret {name}: {}",
            if *granted { "granted" } else { "not granted" }
        ),
        HostCall::Hmac { secret, granted } => format!(
            "hmac-sha256 with secret {secret}{}",
            if *granted { "" } else { ": not granted" }
        ),
        HostCall::Kv { op, key, outcome } => format!("kv {op} {key:?}: {outcome}"),
        HostCall::Log { level, line } => format!("log {level}: {line}"),
        HostCall::Push { text } => format!("push {text:?}"),
        HostCall::Sleep { ms } => format!("sleep {ms} ms"),
        HostCall::Other { call, outcome } => format!("{call}: {outcome}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_split_at_the_first_equals_sign() {
        assert_eq!(
            parse_pair("url=http://x/?a=b"),
            Ok(("url".into(), "http://x/?a=b".into()))
        );
        assert_eq!(parse_pair("empty="), Ok(("empty".into(), String::new())));
        assert!(parse_pair("novalue").is_err());
        assert!(parse_pair("=x").is_err());
    }

    #[test]
    fn methods_default_per_kind_and_billing_needs_one() {
        assert_eq!(method(World::ChatPersona, None).unwrap(), "reply");
        assert_eq!(method(World::ImageProvider, None).unwrap(), "generate");
        assert_eq!(method(World::JobHandler, None).unwrap(), "handle");
        let err = method(World::BillingProvider, None)
            .unwrap_err()
            .to_string();
        assert!(err.contains("create-checkout"), "{err}");
        assert_eq!(
            method(World::BillingProvider, Some("handle-webhook")).unwrap(),
            "handle-webhook"
        );
        let err = method(World::ChatPersona, Some("generate"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("reply, stream-reply, summarize"), "{err}");
    }

    #[test]
    fn host_calls_name_secrets_but_never_show_values() {
        let line = describe(&HostCall::Hmac {
            secret: "webhook_secret".into(),
            granted: true,
        });
        assert_eq!(line, "hmac-sha256 with secret webhook_secret");
        let line = describe(&HostCall::Http {
            method: "GET",
            url: "http://x/".into(),
            outcome: Ok(200),
        });
        assert_eq!(line, "http GET http://x/ -> 200");
    }
}
