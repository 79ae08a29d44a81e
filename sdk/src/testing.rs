//! A stand-in host for testing plugin logic natively with `cargo test`.
//!
//! Build a [`TestHost`] with configuration, secrets and a fake upstream, then call the
//! plugin's trait methods inside [`TestHost::run`]. Every host import behaves as in Ava,
//! and what the plugin did is recorded: the requests exactly as a server would receive them
//! (secrets filled in), log lines, streamed text, stored values, saved photos.
//!
//! ```
//! use ava_sdk::testing::{MockResponse, TestHost};
//! use ava_sdk::http::Request;
//!
//! let host = TestHost::new()
//!     .secret("api_key", "sk_test_1")
//!     .on_http(|req| {
//!         assert_eq!(req.url, "https://api.example.com/v1/ping");
//!         MockResponse::json(200, &serde_json::json!({"ok": true}))
//!     });
//! let status = host.run(|| Request::get("https://api.example.com/v1/ping")
//!     .bearer_secret("api_key")
//!     .send()
//!     .map(|r| r.status));
//! assert_eq!(status, Ok(200));
//! assert_eq!(host.requests()[0].header("authorization"), Some("Bearer sk_test_1"));
//! ```
//!
//! This module exists only on native targets; inside a component the real host answers.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use crate::{HttpError, HttpMethod, HttpRequest, LogLevel, SecretError, StorageError};

/// What a fake upstream answers to one request.
#[derive(Debug, Clone)]
pub struct MockResponse {
    outcome: Result<MockBody, HttpError>,
    fail_after_chunks: Option<HttpError>,
}

#[derive(Debug, Clone)]
struct MockBody {
    status: u16,
    headers: Vec<(String, String)>,
    chunks: Vec<Vec<u8>>,
}

impl MockResponse {
    /// A response with `status` and `body`.
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::chunked(status, [body.into()])
    }

    /// A JSON response.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::new(status, value.to_string()).header("content-type", "application/json")
    }

    /// A body delivered in `chunks`, as a streaming server would.
    pub fn chunked<I, C>(status: u16, chunks: I) -> Self
    where
        I: IntoIterator<Item = C>,
        C: Into<Vec<u8>>,
    {
        Self {
            outcome: Ok(MockBody {
                status,
                headers: Vec::new(),
                chunks: chunks.into_iter().map(Into::into).collect(),
            }),
            fail_after_chunks: None,
        }
    }

    /// A transport failure instead of a response.
    pub fn fail(error: HttpError) -> Self {
        Self {
            outcome: Err(error),
            fail_after_chunks: None,
        }
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Ok(body) = &mut self.outcome {
            body.headers.push((name.to_string(), value.to_string()));
        }
        self
    }

    /// After the chunks, the stream breaks with `error` instead of ending.
    pub fn then_fail(mut self, error: HttpError) -> Self {
        self.fail_after_chunks = Some(error);
        self
    }
}

/// A request as the upstream received it: secret placeholders already filled in.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedRequest {
    /// The method.
    pub method: HttpMethod,
    /// The URL.
    pub url: String,
    /// The headers, secrets filled in.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first value of header `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text.
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The decoded pairs of a form body, in order.
    pub fn form(&self) -> Vec<(String, String)> {
        form_urlencoded::parse(&self.body).into_owned().collect()
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is not JSON")
    }
}

type HttpHandler = Rc<dyn Fn(&RecordedRequest) -> MockResponse>;
#[cfg(feature = "job-handler")]
type ImageHandler = Rc<
    dyn Fn(
        &crate::images::ImageRequest,
    ) -> Result<crate::images::GeneratedImage, crate::PluginError>,
>;

/// What happened to a photo during the test.
#[cfg(feature = "job-handler")]
#[derive(Debug, Clone, PartialEq)]
pub enum PhotoState {
    /// Not generated yet.
    Pending,
    /// Saved.
    Ready(crate::images::GeneratedImage),
    /// Marked failed with this reason.
    Failed(String),
}

#[derive(Default)]
struct State {
    config: BTreeMap<String, String>,
    secrets: BTreeMap<String, String>,
    http: Option<HttpHandler>,
    requests: Vec<RecordedRequest>,
    kv: BTreeMap<String, (Vec<u8>, Option<u64>)>,
    /// The store's quota, checked as the host checks it.
    kv_quota: crate::kv::Quota,
    clock_ms: u64,
    logs: Vec<(LogLevel, String)>,
    pushed: Vec<String>,
    #[cfg(feature = "job-handler")]
    images: Option<ImageHandler>,
    #[cfg(feature = "job-handler")]
    photos: BTreeMap<String, (crate::photos::PhotoSpec, PhotoState)>,
}

/// A fake host for one test. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct TestHost {
    state: Rc<RefCell<State>>,
}

impl Default for TestHost {
    fn default() -> Self {
        Self::new()
    }
}

thread_local! {
    static CURRENT: RefCell<Option<Rc<RefCell<State>>>> = const { RefCell::new(None) };
}

impl TestHost {
    /// A host with no configuration, no secrets, no upstream, and the clock at
    /// 2026-01-01T00:00:00Z.
    pub fn new() -> Self {
        let state = State {
            clock_ms: 1_767_225_600_000,
            ..State::default()
        };
        Self {
            state: Rc::new(RefCell::new(state)),
        }
    }

    /// Sets the non-secret configuration value `key`.
    pub fn config(self, key: &str, value: &str) -> Self {
        self.state
            .borrow_mut()
            .config
            .insert(key.into(), value.into());
        self
    }

    /// Sets the secret `name`.
    pub fn secret(self, name: &str, value: &str) -> Self {
        self.state
            .borrow_mut()
            .secrets
            .insert(name.into(), value.into());
        self
    }

    /// Answers every outgoing HTTP request with `handler`.
    pub fn on_http(self, handler: impl Fn(&RecordedRequest) -> MockResponse + 'static) -> Self {
        self.state.borrow_mut().http = Some(Rc::new(handler));
        self
    }

    /// Sets the clock.
    pub fn at_time(self, ms: u64) -> Self {
        self.state.borrow_mut().clock_ms = ms;
        self
    }

    /// Moves the clock forward.
    pub fn advance(&self, ms: u64) {
        self.state.borrow_mut().clock_ms += ms;
    }

    /// Sets the key-value quota (the host's default otherwise), as `limits.kv_max_keys` and
    /// `limits.kv_max_bytes` do in `ava.toml`: to test what the plugin does when it is full.
    pub fn kv_quota(self, quota: crate::kv::Quota) -> Self {
        self.state.borrow_mut().kv_quota = quota;
        self
    }

    /// Answers `images::generate` with `handler` (job handlers).
    #[cfg(feature = "job-handler")]
    pub fn on_generate_image(
        self,
        handler: impl Fn(
            &crate::images::ImageRequest,
        ) -> Result<crate::images::GeneratedImage, crate::PluginError>
        + 'static,
    ) -> Self {
        self.state.borrow_mut().images = Some(Rc::new(handler));
        self
    }

    /// Adds a pending photo (job handlers).
    #[cfg(feature = "job-handler")]
    pub fn pending_photo(self, spec: crate::photos::PhotoSpec) -> Self {
        self.state
            .borrow_mut()
            .photos
            .insert(spec.id.clone(), (spec, PhotoState::Pending));
        self
    }

    /// What became of photo `id`.
    #[cfg(feature = "job-handler")]
    pub fn photo(&self, id: &str) -> Option<PhotoState> {
        self.state.borrow().photos.get(id).map(|(_, s)| s.clone())
    }

    /// Runs `f` with this host answering every host call made on this thread.
    pub fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Restore(Option<Rc<RefCell<State>>>);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT.with(|c| *c.borrow_mut() = self.0.take());
            }
        }
        let previous = CURRENT.with(|c| c.borrow_mut().replace(self.state.clone()));
        let _restore = Restore(previous);
        f()
    }

    /// Every HTTP request sent so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.state.borrow().requests.clone()
    }

    /// Every log line written so far.
    pub fn logs(&self) -> Vec<(LogLevel, String)> {
        self.state.borrow().logs.clone()
    }

    /// Every piece of text streamed with `chat::push` so far.
    pub fn pushed(&self) -> Vec<String> {
        self.state.borrow().pushed.clone()
    }

    /// The live value stored under `key`.
    pub fn kv(&self, key: &str) -> Option<Vec<u8>> {
        let state = self.state.borrow();
        let now = state.clock_ms;
        state
            .kv
            .get(key)
            .filter(|(_, exp)| exp.is_none_or(|e| e > now))
            .map(|(v, _)| v.clone())
    }
}

fn with_state<R>(f: impl FnOnce(&mut State) -> R) -> R {
    CURRENT.with(|c| {
        let current = c.borrow();
        let state = current.as_ref().expect(
            "an Ava host import was called outside a TestHost: wrap the call in `TestHost::run`",
        );
        let mut state = state.borrow_mut();
        f(&mut state)
    })
}

/// The native implementations of the host imports, used by `host_call`.
pub(crate) mod host_calls {
    use super::*;
    use crate::HttpResponse;
    use crate::host_call::StreamHead;
    use crate::kv;

    pub(crate) fn log(level: LogLevel, message: &str) {
        with_state(|s| s.logs.push((level, message.to_string())))
    }

    pub(crate) fn config(key: &str) -> Option<String> {
        with_state(|s| s.config.get(key).cloned())
    }

    pub(crate) fn has_secret(name: &str) -> bool {
        with_state(|s| s.secrets.contains_key(name))
    }

    pub(crate) fn hmac_sha256(secret: &str, message: &[u8]) -> Result<Vec<u8>, SecretError> {
        use hmac::{Hmac, Mac};
        let key = with_state(|s| s.secrets.get(secret).cloned())
            .ok_or_else(|| SecretError::NotGranted(secret.to_string()))?;
        crate::crypto::check_message(secret, message.len()).map_err(SecretError::NotGranted)?;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes())
            .expect("HMAC accepts keys of any length");
        mac.update(message);
        Ok(mac.finalize().into_bytes().to_vec())
    }

    pub(crate) fn now_ms() -> u64 {
        with_state(|s| s.clock_ms)
    }

    pub(crate) fn sleep_ms(ms: u32) {
        with_state(|s| s.clock_ms += u64::from(ms))
    }

    /// The host's rules, from the SDK's `kv` module, so both answer alike.
    fn check_kv(key: &str, value: Option<&[u8]>) -> Result<(), StorageError> {
        kv::check_key(key).map_err(StorageError::TooLarge)?;
        if let Some(value) = value {
            kv::check_value(value).map_err(StorageError::TooLarge)?;
        }
        Ok(())
    }

    /// Stores `value` under `key` if the quota admits it. Expired entries are dropped first:
    /// they never count against the quota, in the host either.
    fn store(
        s: &mut State,
        key: &str,
        value: &[u8],
        ttl_ms: Option<u64>,
    ) -> Result<(), StorageError> {
        let now = s.clock_ms;
        s.kv.retain(|_, (_, exp)| exp.is_none_or(|e| e > now));
        let usage =
            s.kv.iter()
                .fold(kv::Usage::default(), |u, (k, (v, _))| kv::Usage {
                    keys: u.keys + 1,
                    bytes: u.bytes + kv::entry_bytes(k, v.len()),
                });
        let old = s.kv.get(key).map(|(v, _)| kv::entry_bytes(key, v.len()));
        s.kv_quota
            .admit(usage, old, kv::entry_bytes(key, value.len()))
            .map_err(|refused| StorageError::TooLarge(refused.message()))?;
        let expires = ttl_ms.map(|t| now + t);
        s.kv.insert(key.to_string(), (value.to_vec(), expires));
        Ok(())
    }

    fn live(s: &State, key: &str) -> bool {
        s.kv.get(key)
            .is_some_and(|(_, exp)| exp.is_none_or(|e| e > s.clock_ms))
    }

    pub(crate) fn kv_get(key: &str) -> Result<Option<Vec<u8>>, StorageError> {
        check_kv(key, None)?;
        with_state(|s| Ok(live(s, key).then(|| s.kv[key].0.clone())))
    }

    pub(crate) fn kv_set(key: &str, value: &[u8], ttl_ms: Option<u64>) -> Result<(), StorageError> {
        check_kv(key, Some(value))?;
        with_state(|s| store(s, key, value, ttl_ms))
    }

    pub(crate) fn kv_add(
        key: &str,
        value: &[u8],
        ttl_ms: Option<u64>,
    ) -> Result<bool, StorageError> {
        check_kv(key, Some(value))?;
        with_state(|s| {
            if live(s, key) {
                return Ok(false);
            }
            store(s, key, value, ttl_ms).map(|()| true)
        })
    }

    pub(crate) fn kv_delete(key: &str) -> Result<bool, StorageError> {
        check_kv(key, None)?;
        with_state(|s| {
            let was_live = live(s, key);
            s.kv.remove(key);
            Ok(was_live)
        })
    }

    /// Records the request as the upstream would see it and asks the handler for the answer.
    fn exchange(request: &HttpRequest) -> Result<(MockResponse, RecordedRequest), HttpError> {
        let (secrets, handler) = with_state(|s| (s.secrets.clone(), s.http.clone()));
        let mut headers = Vec::with_capacity(request.headers.len());
        for (name, value) in &request.headers {
            let value = crate::contract::expand_secret_placeholders(value, |secret| {
                secrets
                    .get(secret)
                    .cloned()
                    .ok_or_else(|| HttpError::SecretNotGranted(secret.to_string()))
            })?;
            headers.push((name.clone(), value));
        }
        let recorded = RecordedRequest {
            method: request.method,
            url: request.url.clone(),
            headers,
            body: request.body.clone(),
        };
        with_state(|s| s.requests.push(recorded.clone()));
        let handler = handler.ok_or_else(|| {
            HttpError::Connection("no upstream: give the TestHost an `on_http` handler".into())
        })?;
        Ok((handler(&recorded), recorded))
    }

    pub(crate) fn http_fetch(request: &HttpRequest) -> Result<HttpResponse, HttpError> {
        let (response, _) = exchange(request)?;
        let body = response.outcome?;
        if let Some(err) = response.fail_after_chunks {
            return Err(err);
        }
        Ok(HttpResponse {
            status: body.status,
            headers: body.headers,
            body: body.chunks.concat(),
        })
    }

    /// A response body served chunk by chunk from the mock.
    pub(crate) struct BodyChunks {
        chunks: VecDeque<Vec<u8>>,
        then: Option<HttpError>,
    }

    impl BodyChunks {
        pub(crate) fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, HttpError> {
            if let Some(chunk) = self.chunks.pop_front() {
                return Ok(Some(chunk));
            }
            match self.then.take() {
                Some(err) => Err(err),
                None => Ok(None),
            }
        }
    }

    pub(crate) fn http_stream(request: &HttpRequest) -> Result<StreamHead, HttpError> {
        let (response, _) = exchange(request)?;
        let body = response.outcome?;
        Ok(StreamHead {
            status: body.status,
            headers: body.headers,
            body: BodyChunks {
                chunks: body.chunks.into(),
                then: response.fail_after_chunks,
            },
        })
    }

    #[cfg(feature = "chat-persona")]
    pub(crate) fn push_reply(delta: &str) {
        with_state(|s| s.pushed.push(delta.to_string()))
    }

    #[cfg(feature = "job-handler")]
    pub(crate) use job::*;

    #[cfg(feature = "job-handler")]
    mod job {
        use super::super::{PhotoState, with_state};
        use crate::PluginError;
        use crate::images::{GeneratedImage, ImageRequest};
        use crate::photos::PhotoSpec;

        pub(crate) fn generate_image(
            request: &ImageRequest,
        ) -> Result<GeneratedImage, PluginError> {
            let handler = with_state(|s| s.images.clone()).ok_or_else(|| {
                PluginError::unavailable("no image provider: use `on_generate_image`", None)
            })?;
            handler(request)
        }

        fn unknown(id: &str) -> PluginError {
            PluginError::invalid_input(format!("photo {id} is not part of this job"))
        }

        pub(crate) fn photo_get(id: &str) -> Result<PhotoSpec, PluginError> {
            with_state(|s| s.photos.get(id).map(|(spec, _)| spec.clone()))
                .ok_or_else(|| unknown(id))
        }

        pub(crate) fn photo_save(id: &str, image: &GeneratedImage) -> Result<(), PluginError> {
            with_state(|s| match s.photos.get_mut(id) {
                None => Err(unknown(id)),
                Some((_, PhotoState::Ready(_))) => Ok(()),
                Some((_, state)) => {
                    *state = PhotoState::Ready(image.clone());
                    Ok(())
                }
            })
        }

        pub(crate) fn photo_fail(id: &str, reason: &str) -> Result<(), PluginError> {
            with_state(|s| match s.photos.get_mut(id) {
                None => Err(unknown(id)),
                Some((_, PhotoState::Ready(_))) => Ok(()),
                Some((_, state)) => {
                    *state = PhotoState::Failed(reason.to_string());
                    Ok(())
                }
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Request;
    use crate::{crypto, kv};

    #[test]
    fn secrets_are_filled_in_for_the_upstream_only() {
        let host = TestHost::new()
            .secret("api_key", "sk_live_x")
            .on_http(|_| MockResponse::new(204, ""));
        host.run(|| {
            Request::get("https://a.test/")
                .bearer_secret("api_key")
                .send()
        })
        .unwrap();
        assert_eq!(
            host.requests()[0].header("Authorization"),
            Some("Bearer sk_live_x")
        );
    }

    #[test]
    fn an_undeclared_secret_is_refused_before_sending() {
        let host = TestHost::new().on_http(|_| MockResponse::new(200, ""));
        let err = host
            .run(|| Request::get("https://a.test/").bearer_secret("nope").send())
            .unwrap_err();
        assert_eq!(err, HttpError::SecretNotGranted("nope".into()));
        assert!(host.requests().is_empty());
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let host = TestHost::new().secret("k", "Jefe");
        let mac = host
            .run(|| crypto::hmac_sha256("k", b"what do ya want for nothing?"))
            .unwrap();
        assert_eq!(
            crypto::to_hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn kv_values_expire_with_the_clock() {
        let host = TestHost::new();
        host.run(|| kv::set("a", b"1", Some(1_000))).unwrap();
        assert!(!host.run(|| kv::add("a", b"2", None)).unwrap());
        host.advance(1_000);
        assert_eq!(host.run(|| kv::get("a")).unwrap(), None);
        assert!(host.run(|| kv::add("a", b"2", None)).unwrap());
        assert_eq!(host.kv("a"), Some(b"2".to_vec()));
    }

    #[test]
    fn kv_refuses_oversized_keys() {
        let host = TestHost::new();
        let err = host
            .run(|| kv::set(&"k".repeat(513), b"", None))
            .unwrap_err();
        assert!(matches!(err, StorageError::TooLarge(_)));
    }

    #[test]
    fn kv_refuses_an_empty_key_saying_so() {
        let host = TestHost::new();
        let err = host.run(|| kv::get("")).unwrap_err();
        assert_eq!(
            err,
            StorageError::TooLarge("the key is empty: keys are 1 to 512 bytes".into())
        );
    }

    #[test]
    fn kv_applies_the_quota_as_the_host_does() {
        let host = TestHost::new().kv_quota(kv::Quota {
            max_keys: 2,
            max_bytes: 20,
        });
        host.run(|| kv::set("a", b"123456789", None)).unwrap(); // 10 bytes
        host.run(|| kv::set("b", b"12345", Some(1_000))).unwrap(); // 6 bytes
        let full = host.run(|| kv::set("c", b"", None)).unwrap_err();
        let StorageError::TooLarge(message) = full else {
            panic!("{full:?}")
        };
        assert!(message.contains("limits.kv_max_keys"), "{message}");
        let over = host
            .run(|| kv::set("a", b"12345678901234", None))
            .unwrap_err();
        assert!(over.message().contains("limits.kv_max_bytes"), "{over:?}");
        // Smaller is fine at quota, and an expired value no longer counts.
        host.run(|| kv::set("a", b"1", None)).unwrap();
        host.advance(1_000);
        assert!(
            host.run(|| kv::add("c", b"12345678901234567", None))
                .unwrap()
        );
        // Deleting frees room.
        assert!(host.run(|| kv::delete("c")).unwrap());
        host.run(|| kv::set("d", b"12345678901234567", None))
            .unwrap();
    }

    #[test]
    fn streamed_bodies_arrive_in_chunks_and_may_break() {
        let host = TestHost::new().on_http(|_| {
            MockResponse::chunked(200, ["data: a\n\n", "data: b\n\n"]).then_fail(HttpError::Timeout)
        });
        host.run(|| {
            let mut stream = Request::get("https://a.test/").send_stream().unwrap();
            assert_eq!(stream.next_event().unwrap().unwrap().data, "a");
            assert_eq!(stream.next_event().unwrap().unwrap().data, "b");
            assert_eq!(stream.next_event().unwrap_err(), HttpError::Timeout);
        });
    }

    #[test]
    #[should_panic(expected = "outside a TestHost")]
    fn host_calls_outside_run_explain_themselves() {
        crate::config::get("x");
    }
}
