//! Character Card import and export: the community format (SillyTavern, chub.ai, ...) for
//! sharing personas, as JSON or as a PNG image carrying the card in a text chunk.
//!
//! Supported specs: V1 (flat, legacy), V2 (`chara_card_v2`) and V3 (`chara_card_v3`).
//! Ava's own fields travel in `data.extensions.ava` as `{"appearance": .., "style": ..}`.
//!
//! Decisions worth knowing:
//! - Import is tolerant: a missing or `null` optional field reads as empty, unknown fields
//!   and other tools' extensions are ignored, `spec` decides the version (none means V1),
//!   and V3 accepts any `spec_version` 3.x. It is strict where guessing would corrupt data:
//!   a field of the wrong type is an error naming the field, and a card needs a name.
//! - Sizes are capped before parsing: JSON at [`MAX_JSON_BYTES`], PNG at [`MAX_PNG_BYTES`].
//! - PNG chunks are parsed here, bounds-checked, never panicking. Every chunk's CRC-32 is
//!   checked, and a mismatch is reported as a damaged image, by import and by embedding
//!   alike: a damaged file may carry a damaged card, and we never write a file that other
//!   readers would reject.
//! - A card in a compressed text chunk (`zTXt`, or `iTXt` with compression) is reported as
//!   unsupported rather than decompressed: the format's writers all use `tEXt`, and it
//!   would take a zlib dependency.
//! - Import does not apply Ava's own limits (field lengths, list sizes): callers validate
//!   the returned [`PersonaData`] as they would any user input.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde_json::{Map, Value, json};

use crate::db::personas::PersonaData;

/// Largest card JSON accepted, in bytes (also the largest card embedded in a PNG).
pub const MAX_JSON_BYTES: usize = 2 * 1024 * 1024;
/// Largest PNG image accepted or produced, in bytes.
pub const MAX_PNG_BYTES: usize = 20 * 1024 * 1024;

/// Every PNG file starts with these 8 bytes.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
/// Some editors on Windows prepend a UTF-8 byte order mark, which JSON parsers reject.
const UTF8_BOM: &[u8] = &[0xEF, 0xBB, 0xBF];
/// Text chunk keyword of a V2 card in a PNG.
const KEYWORD_V2: &[u8] = b"chara";
/// Text chunk keyword of a V3 card in a PNG.
const KEYWORD_V3: &[u8] = b"ccv3";
/// Longest spec string quoted back in an error, so a hostile card can't bloat messages.
const MAX_QUOTED: usize = 40;

/// Base64 as written by other tools: standard alphabet, padding optional on import.
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Which Character Card spec a card follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardVersion {
    /// Legacy flat card: `name`, `description`, ... at the top level.
    V1,
    /// `chara_card_v2`.
    V2,
    /// `chara_card_v3`.
    V3,
}

/// A card read by [`import`]: the persona and the spec the card followed.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedCard {
    pub data: PersonaData,
    pub version: CardVersion,
}

/// Why a card could not be imported or embedded. Messages are meant for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("the {what} is too large ({size} bytes; at most {limit} bytes are accepted)")]
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
    },
    #[error("this file is not a character card: expected a JSON file or a PNG image")]
    UnknownFormat,
    #[error("the character card is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("the character card must be a JSON object")]
    NotAnObject,
    #[error("unsupported character card format `{0}` (supported: chara_card_v2, chara_card_v3)")]
    UnsupportedSpec(String),
    #[error("unsupported chara_card_v3 version `{0}` (supported: 3.x)")]
    UnsupportedSpecVersion(String),
    #[error("the character card has no `data` section")]
    MissingData,
    #[error("the character card's field `{field}` must be {expected}, but it is {found}")]
    WrongType {
        field: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("the character card has no name")]
    MissingName,
    #[error("the PNG image is damaged or not a PNG image: {0}")]
    InvalidPng(String),
    #[error("this PNG image does not contain a character card")]
    NoCardInPng,
    #[error("the character card in this PNG image is stored compressed, which is not supported")]
    CompressedCard,
    #[error("the character card in this PNG image is not valid base64")]
    InvalidBase64,
}

// ---------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------

/// Imports a card from a file's bytes, JSON or PNG, telling them apart by content (the file
/// name or MIME type a browser sends is not trustworthy).
pub fn import(bytes: &[u8]) -> Result<ImportedCard, CardError> {
    if looks_like_png(bytes) {
        import_png(bytes)
    } else if looks_like_json(bytes) {
        import_json(bytes)
    } else {
        Err(CardError::UnknownFormat)
    }
}

/// Imports a card from JSON (V1, V2 or V3), with or without a UTF-8 BOM.
pub fn import_json(bytes: &[u8]) -> Result<ImportedCard, CardError> {
    check_size("character card JSON", bytes.len(), MAX_JSON_BYTES)?;
    let value: Value = serde_json::from_slice(strip_bom(bytes))
        .map_err(|e| CardError::InvalidJson(e.to_string()))?;
    let Value::Object(card) = value else {
        return Err(CardError::NotAnObject);
    };
    match card_version(&card)? {
        CardVersion::V1 => read_v1(&card),
        version => read_v2_or_v3(&card, version),
    }
}

/// Imports a card from a PNG image: the `ccv3` text chunk if present and readable,
/// otherwise the `chara` one.
pub fn import_png(bytes: &[u8]) -> Result<ImportedCard, CardError> {
    let chunks = read_chunks(bytes)?;
    let v3 = find_card_text(&chunks, KEYWORD_V3);
    let v2 = find_card_text(&chunks, KEYWORD_V2);
    match (v3, v2) {
        (None, None) => Err(CardError::NoCardInPng),
        (Some(text), None) | (None, Some(text)) => decode_card_text(text),
        // Writers put the same card in both; if the V3 copy is unreadable the V2 copy still
        // gives the user their persona. When both fail, the preferred copy's error is the
        // one to report.
        (Some(v3), Some(v2)) => {
            decode_card_text(v3).or_else(|e| decode_card_text(v2).map_err(|_| e))
        }
    }
}

/// A file that starts like a PNG is treated as one, so a truncated or damaged image gets a
/// PNG error rather than "unknown format".
fn looks_like_png(bytes: &[u8]) -> bool {
    bytes.starts_with(&PNG_SIGNATURE[..4])
}

/// JSON whose first significant byte opens an object or array: an array still goes to the
/// JSON reader so the user hears "must be an object", which says more than "unknown".
fn looks_like_json(bytes: &[u8]) -> bool {
    let first = strip_bom(bytes).iter().find(|b| !b.is_ascii_whitespace());
    matches!(first, Some(b'{') | Some(b'['))
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)
}

/// Rejects input over `limit` before any parsing work is spent on it.
fn check_size(what: &'static str, size: usize, limit: usize) -> Result<(), CardError> {
    if size > limit {
        Err(CardError::TooLarge { what, size, limit })
    } else {
        Ok(())
    }
}

/// The spec a card follows: `spec` decides; a card without one is a V1 card.
fn card_version(card: &Map<String, Value>) -> Result<CardVersion, CardError> {
    let spec = match card.get("spec") {
        None | Some(Value::Null) => return Ok(CardVersion::V1),
        Some(Value::String(spec)) => spec.trim(),
        Some(other) => return Err(wrong_type("spec".into(), "text", other)),
    };
    match spec {
        "chara_card_v2" => Ok(CardVersion::V2),
        "chara_card_v3" => check_v3_spec_version(card).map(|()| CardVersion::V3),
        other => Err(CardError::UnsupportedSpec(shorten(other))),
    }
}

/// V3 readers must accept any 3.x (minor versions only add fields) and refuse other majors,
/// whose meaning we can't know. Some writers emit the version as a number; that's fine too.
fn check_v3_spec_version(card: &Map<String, Value>) -> Result<(), CardError> {
    let version = match card.get("spec_version") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(version)) => version.trim().to_string(),
        Some(Value::Number(version)) => version.to_string(),
        Some(other) => return Err(wrong_type("spec_version".into(), "text", other)),
    };
    let major = version.split('.').next().unwrap_or_default();
    if major == "3" {
        Ok(())
    } else {
        Err(CardError::UnsupportedSpecVersion(shorten(&version)))
    }
}

/// V1: flat fields at the top level, in either of the two spellings seen in the wild.
fn read_v1(card: &Map<String, Value>) -> Result<ImportedCard, CardError> {
    let top = Fields::new(card, "");
    let data = PersonaData {
        name: top.text_any(&["name", "char_name"])?,
        description: top.text_any(&["description", "char_persona"])?,
        personality: top.text("personality")?,
        scenario: top.text_any(&["scenario", "world_scenario"])?,
        greeting: top.text_any(&["first_mes", "char_greeting"])?,
        example_dialogue: top.text_any(&["mes_example", "example_dialogue"])?,
        ..PersonaData::default()
    };
    finish(data, CardVersion::V1)
}

/// V2 and V3 share the fields Ava keeps; V3's additions (nickname, assets, dates, ...) have
/// no place in a persona and are ignored.
fn read_v2_or_v3(
    card: &Map<String, Value>,
    version: CardVersion,
) -> Result<ImportedCard, CardError> {
    let data = Fields::new(card, "")
        .object("data")?
        .ok_or(CardError::MissingData)?;
    let ava = match data.object("extensions")? {
        Some(extensions) => extensions.object("ava")?,
        None => None,
    };
    // Absent Ava fields stay empty: guessing an appearance would put words in the card
    // author's mouth, and the user can fill it in.
    let (appearance, style) = match ava {
        Some(ava) => (ava.text("appearance")?, ava.text("style")?),
        None => (String::new(), String::new()),
    };
    let persona = PersonaData {
        name: data.text("name")?,
        style,
        description: data.text("description")?,
        personality: data.text("personality")?,
        scenario: data.text("scenario")?,
        greeting: data.text("first_mes")?,
        example_dialogue: data.text("mes_example")?,
        system_prompt: data.text("system_prompt")?,
        post_history_instructions: data.text("post_history_instructions")?,
        appearance,
        alternate_greetings: data.list("alternate_greetings")?,
        tags: data.list("tags")?,
        creator: data.text("creator")?,
        creator_notes: data.text("creator_notes")?,
    };
    finish(persona, version)
}

/// Trims the name and requires one: a persona without a name can't be listed or addressed.
fn finish(mut data: PersonaData, version: CardVersion) -> Result<ImportedCard, CardError> {
    data.name = data.name.trim().to_string();
    if data.name.is_empty() {
        return Err(CardError::MissingName);
    }
    Ok(ImportedCard { data, version })
}

/// A JSON object being read, with the path that names its fields in errors.
struct Fields<'a> {
    object: &'a Map<String, Value>,
    prefix: String,
}

impl<'a> Fields<'a> {
    fn new(object: &'a Map<String, Value>, prefix: &str) -> Self {
        Fields {
            object,
            prefix: prefix.to_string(),
        }
    }

    fn path(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    /// Reads no value for absent or `null`: tools omit fields or write `null` for "none".
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.object.get(key).filter(|value| !value.is_null())
    }

    /// An optional text field; absent reads as empty.
    fn text(&self, key: &str) -> Result<String, CardError> {
        match self.get(key) {
            None => Ok(String::new()),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(other) => Err(wrong_type(self.path(key), "text", other)),
        }
    }

    /// The first non-empty of several spellings of one text field.
    fn text_any(&self, keys: &[&str]) -> Result<String, CardError> {
        for key in keys {
            let text = self.text(key)?;
            if !text.is_empty() {
                return Ok(text);
            }
        }
        Ok(String::new())
    }

    /// An optional list of text; each wrong item is named by its index.
    fn list(&self, key: &str) -> Result<Vec<String>, CardError> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, item)| match item {
                    Value::String(text) => Ok(text.clone()),
                    other => Err(wrong_type(
                        format!("{}[{i}]", self.path(key)),
                        "text",
                        other,
                    )),
                })
                .collect(),
            Some(other) => Err(wrong_type(self.path(key), "a list of text", other)),
        }
    }

    /// An optional nested object, read with its own path prefix.
    fn object(&self, key: &str) -> Result<Option<Fields<'a>>, CardError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Object(object)) => {
                Ok(Some(Fields::new(object, &format!("{}.", self.path(key)))))
            }
            Some(other) => Err(wrong_type(self.path(key), "an object", other)),
        }
    }
}

fn wrong_type(field: String, expected: &'static str, found: &Value) -> CardError {
    let found = match found {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    };
    CardError::WrongType {
        field,
        expected,
        found,
    }
}

/// At most [`MAX_QUOTED`] characters of `text`, marked when cut.
fn shorten(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

// ---------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------

/// The persona as a card of `version`. V2 and V3 carry every field (Ava's own in
/// `extensions.ava`); V1 only has the six flat fields and is there for very old tools.
pub fn export_json(data: &PersonaData, version: CardVersion) -> Value {
    match version {
        CardVersion::V1 => v1_card(data),
        CardVersion::V2 => json!({
            "spec": "chara_card_v2",
            "spec_version": "2.0",
            "data": v2_data(data),
        }),
        CardVersion::V3 => {
            let mut card_data = v2_data(data);
            // Required by V3; Ava has no group-only greetings to offer.
            if let Some(fields) = card_data.as_object_mut() {
                fields.insert("group_only_greetings".into(), json!([]));
            }
            json!({
                "spec": "chara_card_v3",
                "spec_version": "3.0",
                "data": card_data,
            })
        }
    }
}

fn v1_card(data: &PersonaData) -> Value {
    json!({
        "name": data.name,
        "description": data.description,
        "personality": data.personality,
        "scenario": data.scenario,
        "first_mes": data.greeting,
        "mes_example": data.example_dialogue,
    })
}

/// The V2 `data` object, which V3 extends.
fn v2_data(data: &PersonaData) -> Value {
    json!({
        "name": data.name,
        "description": data.description,
        "personality": data.personality,
        "scenario": data.scenario,
        "first_mes": data.greeting,
        "mes_example": data.example_dialogue,
        "creator_notes": data.creator_notes,
        "system_prompt": data.system_prompt,
        "post_history_instructions": data.post_history_instructions,
        "alternate_greetings": data.alternate_greetings,
        "tags": data.tags,
        "creator": data.creator,
        "character_version": "1.0",
        "extensions": {
            "ava": { "appearance": data.appearance, "style": data.style },
        },
    })
}

// ---------------------------------------------------------------------------------------
// PNG
// ---------------------------------------------------------------------------------------

/// Returns `png` with the persona embedded as a card: existing `chara`/`ccv3` chunks are
/// removed and two `tEXt` chunks (`chara` with the V2 card, `ccv3` with the V3 card) are
/// inserted right before `IEND`. Every other chunk is copied byte for byte; bytes after
/// `IEND` (not part of the image) are dropped.
pub fn embed_in_png(png: &[u8], data: &PersonaData) -> Result<Vec<u8>, CardError> {
    let chunks = read_chunks(png)?;
    let v2 = encode_card(data, CardVersion::V2)?;
    let v3 = encode_card(data, CardVersion::V3)?;

    let mut out = Vec::with_capacity(png.len() + v2.len() + v3.len() + 64);
    out.extend_from_slice(&PNG_SIGNATURE);
    // `read_chunks` guarantees `IEND` comes once, last: the card goes in exactly once.
    for chunk in chunks.iter().filter(|chunk| !is_card_chunk(chunk)) {
        if &chunk.kind == b"IEND" {
            write_text_chunk(&mut out, KEYWORD_V2, &v2)?;
            write_text_chunk(&mut out, KEYWORD_V3, &v3)?;
        }
        out.extend_from_slice(chunk.raw);
    }
    // Never hand out an image that `import_png` would refuse.
    check_size("PNG image with the card", out.len(), MAX_PNG_BYTES)?;
    Ok(out)
}

/// The card as base64 of its JSON, refusing one that import would refuse as too large.
fn encode_card(data: &PersonaData, version: CardVersion) -> Result<String, CardError> {
    let json = export_json(data, version).to_string();
    check_size("character card", json.len(), MAX_JSON_BYTES)?;
    Ok(STANDARD.encode(json))
}

/// One chunk of a PNG, borrowed from the file.
struct Chunk<'a> {
    kind: [u8; 4],
    data: &'a [u8],
    /// The whole chunk (length, type, data, CRC), for copying it unchanged.
    raw: &'a [u8],
}

fn invalid_png(why: impl Into<String>) -> CardError {
    CardError::InvalidPng(why.into())
}

/// Walks the chunks from the signature to `IEND`, checking each one's bounds and CRC, and
/// that the image starts with `IHDR` as every PNG must.
fn read_chunks(png: &[u8]) -> Result<Vec<Chunk<'_>>, CardError> {
    check_size("PNG image", png.len(), MAX_PNG_BYTES)?;
    let mut rest = png
        .strip_prefix(&PNG_SIGNATURE)
        .ok_or_else(|| invalid_png("it does not start with the PNG signature"))?;
    let mut chunks = Vec::new();
    loop {
        let (chunk, after) = read_chunk(rest)?;
        if chunks.is_empty() && &chunk.kind != b"IHDR" {
            return Err(invalid_png("it does not start with an IHDR chunk"));
        }
        let is_end = &chunk.kind == b"IEND";
        chunks.push(chunk);
        if is_end {
            return Ok(chunks);
        }
        rest = after;
    }
}

/// Reads one chunk: 4-byte big-endian data length, 4-byte type, data, then the CRC-32 of
/// type and data. Returns the chunk and the bytes after it.
fn read_chunk(bytes: &[u8]) -> Result<(Chunk<'_>, &[u8]), CardError> {
    let truncated = || invalid_png("it is cut off before its end");
    let (length, after_length) = bytes.split_first_chunk::<4>().ok_or_else(truncated)?;
    let (kind, after_kind) = after_length
        .split_first_chunk::<4>()
        .ok_or_else(truncated)?;
    let length = u32::from_be_bytes(*length);
    // The spec caps lengths at 2^31-1; anything larger is garbage, not a big chunk.
    if length > 0x7FFF_FFFF {
        return Err(invalid_png("a chunk length is out of range"));
    }
    if !kind.iter().all(u8::is_ascii_alphabetic) {
        return Err(invalid_png("it contains an invalid chunk type"));
    }
    let length = usize::try_from(length).map_err(|_| truncated())?;
    let (data, after_data) = after_kind.split_at_checked(length).ok_or_else(truncated)?;
    let (crc, rest) = after_data.split_first_chunk::<4>().ok_or_else(truncated)?;
    if u32::from_be_bytes(*crc) != chunk_crc(kind, data) {
        let name = String::from_utf8_lossy(kind);
        return Err(invalid_png(format!(
            "the `{name}` chunk has a wrong checksum"
        )));
    }
    let raw = &bytes[..bytes.len() - rest.len()];
    let chunk = Chunk {
        kind: *kind,
        data,
        raw,
    };
    Ok((chunk, rest))
}

/// PNG's CRC-32 covers the chunk type and data, not the length.
fn chunk_crc(kind: &[u8; 4], data: &[u8]) -> u32 {
    let mut hasher = crc32fast::Hasher::new();
    hasher.update(kind);
    hasher.update(data);
    hasher.finalize()
}

/// Appends a `tEXt` chunk: keyword, NUL, text. (Cards are capped at [`MAX_JSON_BYTES`]
/// before encoding, far below a chunk's 2^31 limit; the check is there all the same.)
fn write_text_chunk(out: &mut Vec<u8>, keyword: &[u8], text: &str) -> Result<(), CardError> {
    let mut data = Vec::with_capacity(keyword.len() + 1 + text.len());
    data.extend_from_slice(keyword);
    data.push(0);
    data.extend_from_slice(text.as_bytes());
    let kind = b"tEXt";
    let length = u32::try_from(data.len())
        .ok()
        .filter(|&length| length <= 0x7FFF_FFFF)
        .ok_or(CardError::TooLarge {
            what: "character card",
            size: data.len(),
            limit: MAX_JSON_BYTES,
        })?;
    out.extend_from_slice(&length.to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(&data);
    out.extend_from_slice(&chunk_crc(kind, &data).to_be_bytes());
    Ok(())
}

/// The text of a card chunk: readable base64, or compressed (which we don't read).
#[derive(Clone, Copy)]
enum CardText<'a> {
    Base64(&'a [u8]),
    Compressed,
}

/// The keyword and text of a `tEXt`, `zTXt` or `iTXt` chunk; `None` for other chunks and
/// for text chunks too malformed to have a keyword.
fn text_chunk<'a>(chunk: &Chunk<'a>) -> Option<(&'a [u8], CardText<'a>)> {
    let (keyword, rest) = split_at_nul(chunk.data)?;
    match &chunk.kind {
        b"tEXt" => Some((keyword, CardText::Base64(rest))),
        b"zTXt" => Some((keyword, CardText::Compressed)),
        b"iTXt" => {
            // keyword NUL, compression flag, compression method, language NUL,
            // translated keyword NUL, text.
            let (&compressed, rest) = rest.split_first()?;
            let (_method, rest) = rest.split_first()?;
            let (_language, rest) = split_at_nul(rest)?;
            let (_translated, text) = split_at_nul(rest)?;
            let text = if compressed == 0 {
                CardText::Base64(text)
            } else {
                CardText::Compressed
            };
            Some((keyword, text))
        }
        _ => None,
    }
}

fn split_at_nul(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let nul = bytes.iter().position(|&b| b == 0)?;
    Some((&bytes[..nul], &bytes[nul + 1..]))
}

/// Keywords are matched ignoring ASCII case, as other readers do.
fn is_card_keyword(keyword: &[u8]) -> bool {
    keyword.eq_ignore_ascii_case(KEYWORD_V2) || keyword.eq_ignore_ascii_case(KEYWORD_V3)
}

fn is_card_chunk(chunk: &Chunk<'_>) -> bool {
    text_chunk(chunk).is_some_and(|(keyword, _)| is_card_keyword(keyword))
}

/// The text of the first card chunk with `keyword`.
fn find_card_text<'a>(chunks: &[Chunk<'a>], keyword: &[u8]) -> Option<CardText<'a>> {
    chunks
        .iter()
        .filter_map(text_chunk)
        .find(|(key, _)| key.eq_ignore_ascii_case(keyword))
        .map(|(_, text)| text)
}

/// Decodes a chunk's base64 (ignoring line breaks some writers insert) and imports the JSON.
fn decode_card_text(text: CardText<'_>) -> Result<ImportedCard, CardError> {
    let CardText::Base64(encoded) = text else {
        return Err(CardError::CompressedCard);
    };
    let encoded: Vec<u8> = encoded
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let json = BASE64_LENIENT
        .decode(encoded)
        .map_err(|_| CardError::InvalidBase64)?;
    import_json(&json)
}

#[cfg(test)]
mod tests {
    use super::*;

    // --- fixtures -------------------------------------------------------------------

    fn sample() -> PersonaData {
        PersonaData {
            name: "Mira".into(),
            style: "playful".into(),
            description: "A lighthouse keeper.".into(),
            personality: "curious, dry humour".into(),
            scenario: "A stormy night at the lighthouse.".into(),
            greeting: "Oh! A visitor, in this weather?".into(),
            example_dialogue: "<START>\n{{user}}: Hi\n{{char}}: Hello.".into(),
            system_prompt: "Stay in character.".into(),
            post_history_instructions: "Keep replies short.".into(),
            appearance: "tall, grey eyes, oilskin coat".into(),
            alternate_greetings: vec!["Evening.".into(), "You're soaked!".into()],
            tags: vec!["fantasy".into(), "sea".into()],
            creator: "someone".into(),
            creator_notes: "Best with slow burn.".into(),
        }
    }

    /// A V2 card as other tools write it, with their extensions and a lorebook.
    fn v2_card() -> Value {
        json!({
            "spec": "chara_card_v2",
            "spec_version": "2.0",
            "data": {
                "name": "Mira",
                "description": "A lighthouse keeper.",
                "personality": "curious, dry humour",
                "scenario": "A stormy night at the lighthouse.",
                "first_mes": "Oh! A visitor, in this weather?",
                "mes_example": "<START>\n{{user}}: Hi\n{{char}}: Hello.",
                "creator_notes": "Best with slow burn.",
                "system_prompt": "Stay in character.",
                "post_history_instructions": "Keep replies short.",
                "alternate_greetings": ["Evening.", "You're soaked!"],
                "tags": ["fantasy", "sea"],
                "creator": "someone",
                "character_version": "2.1",
                "extensions": {
                    "talkativeness": "0.5",
                    "depth_prompt": { "prompt": "x", "depth": 4 },
                    "ava": { "appearance": "tall, grey eyes, oilskin coat", "style": "playful" },
                },
                "character_book": { "entries": [{ "keys": ["lamp"], "content": "It is old." }] },
            },
        })
    }

    fn v3_card() -> Value {
        let mut card = v2_card();
        card["spec"] = json!("chara_card_v3");
        card["spec_version"] = json!("3.0");
        let data = &mut card["data"];
        data["nickname"] = json!("Mimi");
        data["creator_notes_multilingual"] = json!({ "fr": "Lentement." });
        data["source"] = json!(["https://example.invalid/mira"]);
        data["group_only_greetings"] = json!(["Hello, all of you."]);
        data["creation_date"] = json!(1_700_000_000);
        data["modification_date"] = json!(1_700_000_500);
        data["assets"] =
            json!([{ "type": "icon", "uri": "ccdefault:", "name": "main", "ext": "png" }]);
        card
    }

    fn bytes(card: &Value) -> Vec<u8> {
        card.to_string().into_bytes()
    }

    fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        out.extend_from_slice(kind);
        out.extend_from_slice(data);
        out.extend_from_slice(&chunk_crc(kind, data).to_be_bytes());
        out
    }

    fn adler32(data: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &byte in data {
            a = (a + u32::from(byte)) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }

    /// A valid 1×1 8-bit grayscale PNG, built by hand: IHDR, IDAT holding a zlib stream with
    /// one stored (uncompressed) deflate block, IEND.
    fn tiny_png() -> Vec<u8> {
        let ihdr = [0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0];
        let scanline = [0u8, 0x80]; // filter type 0, one gray pixel
        let mut zlib = vec![0x78, 0x01, 0x01, 0x02, 0x00, 0xFD, 0xFF];
        zlib.extend_from_slice(&scanline);
        zlib.extend_from_slice(&adler32(&scanline).to_be_bytes());
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend(png_chunk(b"IHDR", &ihdr));
        png.extend(png_chunk(b"IDAT", &zlib));
        png.extend(png_chunk(b"IEND", &[]));
        png
    }

    /// `tiny_png` with extra chunks inserted before IEND.
    fn png_with(extra: &[Vec<u8>]) -> Vec<u8> {
        let png = tiny_png();
        let iend_at = png.len() - 12;
        let mut out = png[..iend_at].to_vec();
        for chunk in extra {
            out.extend_from_slice(chunk);
        }
        out.extend_from_slice(&png[iend_at..]);
        out
    }

    fn text_chunk_of(keyword: &str, card: &Value) -> Vec<u8> {
        let mut data = keyword.as_bytes().to_vec();
        data.push(0);
        data.extend_from_slice(STANDARD.encode(card.to_string()).as_bytes());
        png_chunk(b"tEXt", &data)
    }

    fn chunk_kinds_and_keywords(png: &[u8]) -> Vec<String> {
        read_chunks(png)
            .unwrap()
            .iter()
            .map(|chunk| match text_chunk(chunk) {
                Some((keyword, _)) => format!(
                    "{}:{}",
                    String::from_utf8_lossy(&chunk.kind),
                    String::from_utf8_lossy(keyword)
                ),
                None => String::from_utf8_lossy(&chunk.kind).into_owned(),
            })
            .collect()
    }

    /// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
    fn noise(seed: u64, len: usize) -> Vec<u8> {
        let mut state = seed | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_le_bytes()[0]
            })
            .collect()
    }

    // --- JSON import ----------------------------------------------------------------

    #[test]
    fn imports_complete_v2_card_with_every_field_mapped() {
        let card = import_json(&bytes(&v2_card())).unwrap();
        assert_eq!(card.version, CardVersion::V2);
        assert_eq!(card.data, sample());
    }

    #[test]
    fn imports_complete_v3_card_ignoring_v3_only_fields() {
        let card = import_json(&bytes(&v3_card())).unwrap();
        assert_eq!(card.version, CardVersion::V3);
        assert_eq!(card.data, sample());
    }

    #[test]
    fn accepts_v3_minor_versions() {
        let mut card = v3_card();
        card["spec_version"] = json!("3.2");
        assert_eq!(import_json(&bytes(&card)).unwrap().version, CardVersion::V3);
    }

    #[test]
    fn rejects_v3_card_of_another_major_version() {
        let mut card = v3_card();
        card["spec_version"] = json!("4.0");
        assert_eq!(
            import_json(&bytes(&card)),
            Err(CardError::UnsupportedSpecVersion("4.0".into()))
        );
    }

    #[test]
    fn rejects_unknown_spec() {
        let mut card = v2_card();
        card["spec"] = json!("chara_card_v9");
        assert_eq!(
            import_json(&bytes(&card)),
            Err(CardError::UnsupportedSpec("chara_card_v9".into()))
        );
    }

    #[test]
    fn imports_v1_card_with_standard_spelling() {
        let card = json!({
            "name": "Mira", "description": "d", "personality": "p",
            "scenario": "s", "first_mes": "g", "mes_example": "e",
        });
        let imported = import_json(&bytes(&card)).unwrap();
        assert_eq!(imported.version, CardVersion::V1);
        let expected = PersonaData {
            name: "Mira".into(),
            description: "d".into(),
            personality: "p".into(),
            scenario: "s".into(),
            greeting: "g".into(),
            example_dialogue: "e".into(),
            ..PersonaData::default()
        };
        assert_eq!(imported.data, expected);
    }

    #[test]
    fn imports_v1_card_with_legacy_spelling() {
        let card = json!({
            "char_name": "Mira", "char_persona": "d", "personality": "p",
            "world_scenario": "s", "char_greeting": "g", "example_dialogue": "e",
        });
        let imported = import_json(&bytes(&card)).unwrap();
        assert_eq!(imported.version, CardVersion::V1);
        assert_eq!(imported.data.name, "Mira");
        assert_eq!(imported.data.description, "d");
        assert_eq!(imported.data.scenario, "s");
        assert_eq!(imported.data.greeting, "g");
        assert_eq!(imported.data.example_dialogue, "e");
    }

    #[test]
    fn missing_optional_fields_and_nulls_read_as_empty() {
        let card = json!({
            "spec": "chara_card_v2",
            "data": { "name": "Mira", "tags": null, "creator_notes": null, "extensions": null },
        });
        let imported = import_json(&bytes(&card)).unwrap();
        let expected = PersonaData {
            name: "Mira".into(),
            ..PersonaData::default()
        };
        assert_eq!(imported.data, expected);
    }

    #[test]
    fn absent_ava_extension_leaves_appearance_and_style_empty() {
        let mut card = v2_card();
        card["data"]["extensions"] = json!({ "fav": true, "world": "Somewhere" });
        let imported = import_json(&bytes(&card)).unwrap();
        assert_eq!(imported.data.appearance, "");
        assert_eq!(imported.data.style, "");
        assert_eq!(imported.data.description, "A lighthouse keeper.");
    }

    #[test]
    fn card_without_name_is_an_error() {
        let mut card = v2_card();
        card["data"]["name"] = json!("   ");
        assert_eq!(import_json(&bytes(&card)), Err(CardError::MissingName));
        card["data"].as_object_mut().unwrap().remove("name");
        assert_eq!(import_json(&bytes(&card)), Err(CardError::MissingName));
    }

    #[test]
    fn name_is_trimmed() {
        let mut card = v2_card();
        card["data"]["name"] = json!("  Mira \n");
        assert_eq!(import_json(&bytes(&card)).unwrap().data.name, "Mira");
    }

    #[test]
    fn v2_card_without_data_is_an_error() {
        let card = json!({ "spec": "chara_card_v2", "name": "Mira" });
        assert_eq!(import_json(&bytes(&card)), Err(CardError::MissingData));
    }

    #[test]
    fn wrong_field_type_error_names_the_field() {
        let mut card = v2_card();
        card["data"]["first_mes"] = json!(42);
        let error = import_json(&bytes(&card)).unwrap_err();
        assert_eq!(
            error,
            CardError::WrongType {
                field: "data.first_mes".into(),
                expected: "text",
                found: "a number"
            }
        );
        assert!(error.to_string().contains("`data.first_mes`"));
    }

    #[test]
    fn wrong_list_item_type_error_names_the_item() {
        let mut card = v2_card();
        card["data"]["tags"] = json!(["ok", { "no": 1 }]);
        let error = import_json(&bytes(&card)).unwrap_err();
        assert!(
            matches!(&error, CardError::WrongType { field, .. } if field == "data.tags[1]"),
            "{error:?}"
        );
    }

    #[test]
    fn wrong_ava_extension_type_error_names_the_field() {
        let mut card = v2_card();
        card["data"]["extensions"]["ava"]["appearance"] = json!(["tall"]);
        let error = import_json(&bytes(&card)).unwrap_err();
        assert!(
            matches!(&error, CardError::WrongType { field, .. } if field == "data.extensions.ava.appearance"),
            "{error:?}"
        );
    }

    #[test]
    fn utf8_bom_is_stripped() {
        let mut input = UTF8_BOM.to_vec();
        input.extend(bytes(&v2_card()));
        assert_eq!(import_json(&input).unwrap().data, sample());
        assert_eq!(import(&input).unwrap().data, sample());
    }

    #[test]
    fn oversized_json_is_rejected() {
        let mut card = v2_card();
        card["data"]["description"] = json!("x".repeat(MAX_JSON_BYTES));
        let error = import_json(&bytes(&card)).unwrap_err();
        assert!(
            matches!(
                error,
                CardError::TooLarge {
                    limit: MAX_JSON_BYTES,
                    ..
                }
            ),
            "{error:?}"
        );
    }

    #[test]
    fn invalid_json_is_an_error() {
        assert!(matches!(
            import_json(b"{\"spec\": "),
            Err(CardError::InvalidJson(_))
        ));
    }

    #[test]
    fn json_array_is_not_a_card() {
        assert_eq!(import(b"[1, 2]"), Err(CardError::NotAnObject));
    }

    // --- export ---------------------------------------------------------------------

    fn keys(value: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys
    }

    const V2_DATA_KEYS: [&str; 14] = [
        "alternate_greetings",
        "character_version",
        "creator",
        "creator_notes",
        "description",
        "extensions",
        "first_mes",
        "mes_example",
        "name",
        "personality",
        "post_history_instructions",
        "scenario",
        "system_prompt",
        "tags",
    ];

    #[test]
    fn export_v2_has_the_spec_shape() {
        let card = export_json(&sample(), CardVersion::V2);
        assert_eq!(keys(&card), ["data", "spec", "spec_version"]);
        assert_eq!(card["spec"], "chara_card_v2");
        assert_eq!(card["spec_version"], "2.0");
        assert_eq!(keys(&card["data"]), V2_DATA_KEYS);
        assert_eq!(card["data"]["first_mes"], "Oh! A visitor, in this weather?");
        assert_eq!(card["data"]["character_version"], "1.0");
        assert_eq!(keys(&card["data"]["extensions"]), ["ava"]);
        assert_eq!(
            card["data"]["extensions"]["ava"]["appearance"],
            "tall, grey eyes, oilskin coat"
        );
        assert_eq!(card["data"]["extensions"]["ava"]["style"], "playful");
        assert_eq!(card["data"]["tags"], json!(["fantasy", "sea"]));
    }

    #[test]
    fn export_v3_has_the_spec_shape() {
        let card = export_json(&sample(), CardVersion::V3);
        assert_eq!(keys(&card), ["data", "spec", "spec_version"]);
        assert_eq!(card["spec"], "chara_card_v3");
        assert_eq!(card["spec_version"], "3.0");
        let mut expected: Vec<&str> = V2_DATA_KEYS.to_vec();
        expected.push("group_only_greetings");
        expected.sort_unstable();
        assert_eq!(keys(&card["data"]), expected);
        assert_eq!(card["data"]["group_only_greetings"], json!([]));
        assert_eq!(card["data"]["first_mes"], "Oh! A visitor, in this weather?");
        assert_eq!(
            card["data"]["extensions"]["ava"]["appearance"],
            "tall, grey eyes, oilskin coat"
        );
    }

    #[test]
    fn export_v1_is_flat() {
        let card = export_json(&sample(), CardVersion::V1);
        assert_eq!(
            keys(&card),
            [
                "description",
                "first_mes",
                "mes_example",
                "name",
                "personality",
                "scenario"
            ]
        );
        assert_eq!(card["first_mes"], "Oh! A visitor, in this weather?");
    }

    #[test]
    fn json_round_trip_v2_gives_back_the_same_persona() {
        let exported = export_json(&sample(), CardVersion::V2);
        let imported = import(&bytes(&exported)).unwrap();
        assert_eq!(
            imported,
            ImportedCard {
                data: sample(),
                version: CardVersion::V2
            }
        );
    }

    #[test]
    fn json_round_trip_v3_gives_back_the_same_persona() {
        let exported = export_json(&sample(), CardVersion::V3);
        let imported = import(&bytes(&exported)).unwrap();
        assert_eq!(
            imported,
            ImportedCard {
                data: sample(),
                version: CardVersion::V3
            }
        );
    }

    // --- PNG ------------------------------------------------------------------------

    #[test]
    fn test_png_is_well_formed() {
        // Guards the fixture the PNG tests stand on: signature, IHDR, IDAT, IEND with good CRCs.
        assert_eq!(
            chunk_kinds_and_keywords(&tiny_png()),
            ["IHDR", "IDAT", "IEND"]
        );
    }

    #[test]
    fn png_embed_then_import_gives_back_the_same_persona() {
        let png = embed_in_png(&tiny_png(), &sample()).unwrap();
        let imported = import(&png).unwrap();
        assert_eq!(
            imported,
            ImportedCard {
                data: sample(),
                version: CardVersion::V3
            }
        );
    }

    #[test]
    fn embed_inserts_chara_and_ccv3_before_iend_and_keeps_the_image() {
        let original = tiny_png();
        let png = embed_in_png(&original, &sample()).unwrap();
        assert_eq!(
            chunk_kinds_and_keywords(&png),
            ["IHDR", "IDAT", "tEXt:chara", "tEXt:ccv3", "IEND"]
        );
        // The image chunks are copied unchanged.
        let image_part = original.len() - 12;
        assert_eq!(png[..image_part], original[..image_part]);
        // The `chara` chunk holds a V2 card.
        let chunks = read_chunks(&png).unwrap();
        let v2 = find_card_text(&chunks, KEYWORD_V2).unwrap();
        assert_eq!(decode_card_text(v2).unwrap().version, CardVersion::V2);
    }

    #[test]
    fn re_embedding_replaces_the_card_chunks() {
        let first = embed_in_png(&tiny_png(), &sample()).unwrap();
        let mut renamed = sample();
        renamed.name = "Nova".into();
        let second = embed_in_png(&first, &renamed).unwrap();
        assert_eq!(
            chunk_kinds_and_keywords(&second),
            ["IHDR", "IDAT", "tEXt:chara", "tEXt:ccv3", "IEND"]
        );
        assert_eq!(import_png(&second).unwrap().data.name, "Nova");
    }

    #[test]
    fn embedding_removes_itxt_and_ztxt_card_chunks_too() {
        let mut itxt = b"ccv3\0\0\0\0\0".to_vec();
        itxt.extend_from_slice(b"e30=");
        let png = png_with(&[
            png_chunk(b"iTXt", &itxt),
            png_chunk(b"zTXt", b"chara\0\0xx"),
        ]);
        let embedded = embed_in_png(&png, &sample()).unwrap();
        assert_eq!(
            chunk_kinds_and_keywords(&embedded),
            ["IHDR", "IDAT", "tEXt:chara", "tEXt:ccv3", "IEND"]
        );
    }

    #[test]
    fn ccv3_is_preferred_over_chara() {
        let mut v2 = v2_card();
        v2["data"]["name"] = json!("From chara");
        let mut v3 = v3_card();
        v3["data"]["name"] = json!("From ccv3");
        // chara comes first in the file, so file order can't be what picks ccv3.
        let png = png_with(&[text_chunk_of("chara", &v2), text_chunk_of("ccv3", &v3)]);
        let imported = import_png(&png).unwrap();
        assert_eq!(imported.data.name, "From ccv3");
        assert_eq!(imported.version, CardVersion::V3);
    }

    #[test]
    fn chara_alone_is_read() {
        let png = png_with(&[text_chunk_of("chara", &v2_card())]);
        assert_eq!(import_png(&png).unwrap().data, sample());
    }

    #[test]
    fn unreadable_ccv3_falls_back_to_chara() {
        let broken = png_chunk(b"tEXt", b"ccv3\0!!not base64!!");
        let png = png_with(&[broken, text_chunk_of("chara", &v2_card())]);
        assert_eq!(import_png(&png).unwrap().data, sample());
    }

    #[test]
    fn uncompressed_itxt_card_is_read() {
        // keyword NUL, flag 0, method 0, language "en" NUL, translated keyword NUL, text.
        let mut data = b"chara\0\0\0en\0\0".to_vec();
        data.extend_from_slice(STANDARD.encode(v2_card().to_string()).as_bytes());
        let png = png_with(&[png_chunk(b"iTXt", &data)]);
        assert_eq!(import_png(&png).unwrap().data, sample());
    }

    #[test]
    fn compressed_card_chunk_is_reported_as_unsupported() {
        let png = png_with(&[png_chunk(b"zTXt", b"chara\0\0\x78\x9c")]);
        assert_eq!(import_png(&png), Err(CardError::CompressedCard));
        let png = png_with(&[png_chunk(b"iTXt", b"ccv3\0\x01\0\0\0\x78\x9c")]);
        assert_eq!(import_png(&png), Err(CardError::CompressedCard));
    }

    #[test]
    fn invalid_base64_in_card_chunk_is_an_error() {
        let png = png_with(&[png_chunk(b"tEXt", b"chara\0%%%%")]);
        assert_eq!(import_png(&png), Err(CardError::InvalidBase64));
    }

    #[test]
    fn unpadded_base64_is_accepted() {
        let encoded = STANDARD.encode(v2_card().to_string());
        let mut data = b"chara\0".to_vec();
        data.extend_from_slice(encoded.trim_end_matches('=').as_bytes());
        let png = png_with(&[png_chunk(b"tEXt", &data)]);
        assert_eq!(import_png(&png).unwrap().data, sample());
    }

    #[test]
    fn png_without_card_is_a_clear_error() {
        let png = png_with(&[png_chunk(b"tEXt", b"Comment\0hello")]);
        assert_eq!(import(&png), Err(CardError::NoCardInPng));
        assert_eq!(
            CardError::NoCardInPng.to_string(),
            "this PNG image does not contain a character card"
        );
    }

    #[test]
    fn truncated_png_is_an_error_at_every_length() {
        let png = embed_in_png(&tiny_png(), &sample()).unwrap();
        for length in 0..png.len() {
            let result = import_png(&png[..length]);
            assert!(
                matches!(result, Err(CardError::InvalidPng(_))),
                "length {length}: {result:?}"
            );
        }
    }

    #[test]
    fn bad_crc_is_reported_by_import_and_embed_alike() {
        let mut png = embed_in_png(&tiny_png(), &sample()).unwrap();
        // The IDAT data starts after signature (8) + IHDR (25) + IDAT length and type (8).
        png[8 + 25 + 8] ^= 0xFF;
        let expected = CardError::InvalidPng("the `IDAT` chunk has a wrong checksum".into());
        assert_eq!(import_png(&png), Err(expected.clone()));
        assert_eq!(embed_in_png(&png, &sample()), Err(expected));
    }

    #[test]
    fn png_not_starting_with_ihdr_is_an_error() {
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend(png_chunk(b"IEND", &[]));
        assert!(matches!(import_png(&png), Err(CardError::InvalidPng(_))));
    }

    #[test]
    fn absurd_chunk_length_is_an_error_not_a_panic() {
        let mut png = PNG_SIGNATURE.to_vec();
        png.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xF0]);
        png.extend_from_slice(b"IHDR");
        assert!(matches!(import_png(&png), Err(CardError::InvalidPng(_))));
        png[8] = 0x7F; // in range, but far past the end of the file
        assert!(matches!(import_png(&png), Err(CardError::InvalidPng(_))));
    }

    #[test]
    fn oversized_png_is_rejected() {
        let mut png = tiny_png();
        png.resize(MAX_PNG_BYTES + 1, 0);
        let error = import(&png).unwrap_err();
        assert!(
            matches!(
                error,
                CardError::TooLarge {
                    limit: MAX_PNG_BYTES,
                    ..
                }
            ),
            "{error:?}"
        );
        assert_eq!(embed_in_png(&png, &sample()), Err(error));
    }

    #[test]
    fn garbage_bytes_are_an_error_not_a_panic() {
        assert_eq!(import(b"hello"), Err(CardError::UnknownFormat));
        assert_eq!(import(b""), Err(CardError::UnknownFormat));
        for seed in 0..300 {
            let garbage = noise(seed, (seed as usize * 37) % 600);
            assert!(import(&garbage).is_err());
            assert!(import_png(&garbage).is_err());
            // Past the signature, too: the chunk walker must reject it without panicking.
            let mut png = PNG_SIGNATURE.to_vec();
            png.extend(&garbage);
            assert!(import(&png).is_err());
            assert!(embed_in_png(&png, &sample()).is_err());
        }
    }

    #[test]
    fn non_png_passed_to_embed_is_an_error() {
        let error = embed_in_png(&bytes(&v2_card()), &sample()).unwrap_err();
        assert!(matches!(error, CardError::InvalidPng(_)), "{error:?}");
    }
}
