//! What differs between the models behind the Images API: the sizes they draw, the
//! parameters they take, and how long a prompt may be.

use crate::size::Size;

/// A family of models that take the same request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `gpt-image-1` and its siblings (`gpt-image-1-mini`, ...): always answer `b64_json`
    /// and refuse `response_format`; take `output_format`.
    GptImage,
    DallE3,
    DallE2,
    /// Another server's model: sent what DALL·E takes, the request shape most servers copy.
    Other,
}

const GPT_IMAGE_SIZES: &[Size] = &[
    Size::new(1024, 1024),
    Size::new(1024, 1536),
    Size::new(1536, 1024),
];
const DALL_E_3_SIZES: &[Size] = &[
    Size::new(1024, 1024),
    Size::new(1792, 1024),
    Size::new(1024, 1792),
];
const DALL_E_2_SIZES: &[Size] = &[
    Size::new(256, 256),
    Size::new(512, 512),
    Size::new(1024, 1024),
];

impl Family {
    /// The family of the model called `model`.
    pub fn of(model: &str) -> Self {
        let model = model.trim().to_ascii_lowercase();
        if model.starts_with("gpt-image") {
            Self::GptImage
        } else if model == "dall-e-3" {
            Self::DallE3
        } else if model == "dall-e-2" {
            Self::DallE2
        } else {
            Self::Other
        }
    }

    /// The sizes the model draws, besides `auto`; `None` when unknown (another server).
    pub fn sizes(self) -> Option<&'static [Size]> {
        match self {
            Self::GptImage => Some(GPT_IMAGE_SIZES),
            Self::DallE3 => Some(DALL_E_3_SIZES),
            Self::DallE2 => Some(DALL_E_2_SIZES),
            Self::Other => None,
        }
    }

    /// Whether `size: "auto"` is accepted (the model picks from the prompt).
    pub fn takes_auto_size(self) -> bool {
        matches!(self, Self::GptImage | Self::Other)
    }

    /// Whether the model draws `size`.
    pub fn accepts(self, size: Size) -> bool {
        match (self.sizes(), size) {
            (_, Size::Auto) => self.takes_auto_size(),
            (None, _) => true,
            (Some(sizes), size) => sizes.contains(&size),
        }
    }

    /// Whether `response_format` is sent. DALL·E answers a URL unless asked for
    /// `b64_json`; gpt-image models always answer `b64_json` and refuse the parameter.
    pub fn takes_response_format(self) -> bool {
        !matches!(self, Self::GptImage)
    }

    /// Whether `output_format` (`png`, `jpeg`, `webp`) may be sent. DALL·E only draws PNG
    /// and refuses it; other servers get it when the operator sets it.
    pub fn takes_output_format(self) -> bool {
        matches!(self, Self::GptImage | Self::Other)
    }

    /// Whether a negative prompt is folded into the prompt as an instruction.
    ///
    /// The API has no negative prompt field. gpt-image models and DALL·E 3 follow written
    /// instructions (DALL·E 3 even rewrites the prompt with a language model), so "Avoid: …"
    /// keeps the unwanted things out. DALL·E 2 matches words rather than reading sentences:
    /// "avoid watermark" draws more watermarks, so there the negative prompt is left out.
    /// Other servers mostly front instruction-following models, and they get it too.
    pub fn folds_negative_prompt(self) -> bool {
        !matches!(self, Self::DallE2)
    }

    /// The longest prompt the model takes, in characters; `None` when unknown.
    pub fn max_prompt_chars(self) -> Option<usize> {
        match self {
            Self::GptImage => Some(32_000),
            Self::DallE3 => Some(4_000),
            Self::DallE2 => Some(1_000),
            Self::Other => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_are_told_apart_by_name() {
        assert_eq!(Family::of("gpt-image-1"), Family::GptImage);
        assert_eq!(Family::of("gpt-image-1-mini"), Family::GptImage);
        assert_eq!(Family::of(" DALL-E-3 "), Family::DallE3);
        assert_eq!(Family::of("dall-e-2"), Family::DallE2);
        assert_eq!(Family::of("stable-diffusion-xl"), Family::Other);
        assert_eq!(Family::of("dall-e-30"), Family::Other);
    }

    #[test]
    fn auto_is_a_gpt_image_size_only_among_openais_models() {
        assert!(Family::GptImage.accepts(Size::Auto));
        assert!(!Family::DallE3.accepts(Size::Auto));
        assert!(!Family::DallE2.accepts(Size::Auto));
        assert!(Family::Other.accepts(Size::Auto));
        assert!(Family::Other.accepts(Size::new(832, 1248)));
        assert!(!Family::DallE2.accepts(Size::new(768, 768)));
    }
}
