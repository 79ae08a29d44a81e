//! The offline image generator: draws a stylised avatar portrait, no model and no network.
//!
//! Keywords in the prompt fix what they name (hair and eye colour, hair length, skin tone,
//! clothing, the setting of the backdrop, night); the seed decides everything else, so the
//! same seed and prompt give the same bytes and a persona keeps its face across photos.

mod color;
mod encode;
mod look;
mod portrait;
mod render;
mod rng;
mod scene;
mod sdf;

use ava_sdk::images::{ImageOutput, ImageProvider, ImageRequest};
use ava_sdk::{PluginError, PluginInfo};

/// The model name reported with every image; bump it when the drawing changes.
pub const MODEL: &str = "local-images/1";

const DEFAULT_SIDE: u32 = 512;
const MIN_SIDE: u32 = 64;
const MAX_SIDE: u32 = 1024;

/// The plugin.
pub struct LocalImages;

impl ImageProvider for LocalImages {
    fn metadata() -> PluginInfo {
        ava_sdk::plugin_info!(
            "Offline image generator: stylised avatar portraits from the prompt's keywords"
        )
    }

    fn generate(request: ImageRequest) -> Result<ImageOutput, PluginError> {
        let prompt = request.prompt.trim();
        if prompt.is_empty() {
            return Err(PluginError::invalid_input("the prompt is empty"));
        }
        let (width, height) = (side(request.width), side(request.height));
        let seed = request
            .seed
            .unwrap_or_else(|| rng::fnv1a(prompt.as_bytes()));
        let look = look::Look::new(prompt, seed);
        let pixels = render::render(&look, width, height);
        let data = encode::png(width, height, &pixels)?;
        let mut output = ImageOutput::bytes("image/png", data);
        output.seed = Some(seed);
        output.model = Some(MODEL.to_string());
        Ok(output)
    }
}

/// A requested side in pixels: 0 means the default, the rest is clamped to what stays fast.
fn side(requested: u32) -> u32 {
    match requested {
        0 => DEFAULT_SIDE,
        n => n.clamp(MIN_SIDE, MAX_SIDE),
    }
}

ava_sdk::export_image_provider!(LocalImages);

#[cfg(test)]
mod tests {
    use ava_sdk::images::ImageData;

    use super::*;

    fn request(prompt: &str, seed: Option<u64>, width: u32, height: u32) -> ImageRequest {
        ImageRequest {
            prompt: prompt.into(),
            negative_prompt: None,
            seed,
            width,
            height,
        }
    }

    fn png_bytes(output: &ImageOutput) -> &[u8] {
        match &output.image {
            ImageData::Bytes(b) => {
                assert_eq!(b.content_type, "image/png");
                &b.data
            }
            ImageData::Url(url) => panic!("expected bytes, got a URL {url}"),
        }
    }

    /// (width, height, RGB pixels) of a PNG.
    fn decode(data: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(std::io::Cursor::new(data));
        let mut reader = decoder.read_info().expect("a PNG header");
        let mut buf = vec![0; reader.output_buffer_size().expect("a known size")];
        let frame = reader.next_frame(&mut buf).expect("PNG image data");
        assert_eq!(frame.color_type, png::ColorType::Rgb);
        buf.truncate(frame.buffer_size());
        (frame.width, frame.height, buf)
    }

    fn draw(prompt: &str, seed: u64, width: u32, height: u32) -> (u32, u32, Vec<u8>) {
        let output = LocalImages::generate(request(prompt, Some(seed), width, height)).unwrap();
        decode(png_bytes(&output))
    }

    #[test]
    fn output_is_a_png_of_the_requested_size() {
        let (w, h, pixels) = draw("a woman smiling", 1, 200, 300);
        assert_eq!((w, h), (200, 300));
        assert_eq!(pixels.len(), 200 * 300 * 3);
    }

    #[test]
    fn output_reports_seed_and_model() {
        let output = LocalImages::generate(request("a portrait", Some(42), 64, 64)).unwrap();
        assert_eq!(output.seed, Some(42));
        assert_eq!(output.model.as_deref(), Some("local-images/1"));
    }

    #[test]
    fn the_same_seed_and_prompt_give_the_same_bytes() {
        let a =
            LocalImages::generate(request("red hair, at the beach", Some(7), 128, 128)).unwrap();
        let b =
            LocalImages::generate(request("red hair, at the beach", Some(7), 128, 128)).unwrap();
        assert_eq!(png_bytes(&a), png_bytes(&b));
    }

    #[test]
    fn different_seeds_give_visibly_different_avatars() {
        let (_, _, a) = draw("a portrait", 1, 128, 128);
        let (_, _, b) = draw("a portrait", 2, 128, 128);
        let differing = a
            .chunks(3)
            .zip(b.chunks(3))
            .filter(|(x, y)| x.iter().zip(*y).any(|(p, q)| p.abs_diff(*q) > 24))
            .count();
        assert!(differing > 128 * 128 / 5, "only {differing} pixels differ");
    }

    #[test]
    fn a_missing_seed_is_derived_from_the_prompt() {
        let a = LocalImages::generate(request("a portrait", None, 64, 64)).unwrap();
        let b = LocalImages::generate(request("a portrait", None, 64, 64)).unwrap();
        let c = LocalImages::generate(request("another portrait", None, 64, 64)).unwrap();
        assert!(a.seed.is_some());
        assert_eq!(a.seed, b.seed);
        assert_ne!(a.seed, c.seed);
    }

    /// The pixel at the crown of the head, which every hairstyle covers.
    fn hair_pixel(prompt: &str, seed: u64) -> [u8; 3] {
        let side = 256;
        let (_, _, pixels) = draw(prompt, seed, side, side);
        let look = look::Look::new(prompt, seed);
        let v = portrait::HEAD_Y - look.face_ry * 0.9;
        let y = ((v + 0.5) * side as f32) as usize;
        let x = side as usize / 2 + 10;
        let i = (y * side as usize + x) * 3;
        [pixels[i], pixels[i + 1], pixels[i + 2]]
    }

    #[test]
    fn a_hair_colour_keyword_colours_the_hair() {
        for seed in [3, 11] {
            let [r, g, b] = hair_pixel("woman with long blonde hair", seed);
            assert!(
                r > 170 && g > 130 && b < 140 && r > b + 60,
                "blonde: {r} {g} {b}"
            );
            let [r, g, b] = hair_pixel("woman with black hair", seed);
            assert!(r < 60 && g < 60 && b < 60, "black: {r} {g} {b}");
            let [r, g, b] = hair_pixel("woman with pink hair", seed);
            assert!(r > 190 && b > 130 && g < r - 50, "pink: {r} {g} {b}");
            let [r, g, b] = hair_pixel("woman with blue hair", seed);
            assert!(b > 170 && b > r + 80, "blue: {r} {g} {b}");
            let [r, g, b] = hair_pixel("woman with red hair", seed);
            assert!(r > 120 && r > g + 60 && r > b + 60, "red: {r} {g} {b}");
        }
    }

    #[test]
    fn sides_are_clamped_and_zero_means_the_default() {
        let (w, h, _) = draw("a portrait", 1, 5000, 10);
        assert_eq!((w, h), (1024, 64));
        let (w, h, _) = draw("a portrait", 1, 0, 0);
        assert_eq!((w, h), (512, 512));
    }

    #[test]
    fn an_empty_prompt_is_rejected() {
        let err = LocalImages::generate(request("  \n ", Some(1), 64, 64)).unwrap_err();
        assert!(matches!(err, PluginError::InvalidInput(_)), "{err:?}");
    }
}
