//! The `size` sent for a request: the configured one, or the model's size nearest to the
//! width and height asked for.

use crate::model::Family;

/// An image size as the API writes it: `1024x1536`, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Pixels {
        width: u32,
        height: u32,
    },
    /// The model picks the size from the prompt.
    Auto,
}

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pixels { width, height } => write!(f, "{width}x{height}"),
            Self::Auto => f.write_str("auto"),
        }
    }
}

impl Size {
    pub const fn new(width: u32, height: u32) -> Self {
        Self::Pixels { width, height }
    }

    /// `WIDTHxHEIGHT` (both non-zero) or `auto`.
    pub fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if raw.eq_ignore_ascii_case("auto") {
            return Some(Self::Auto);
        }
        let (width, height) = raw.split_once(['x', 'X'])?;
        let width: u32 = width.trim().parse().ok()?;
        let height: u32 = height.trim().parse().ok()?;
        (width > 0 && height > 0).then_some(Self::new(width, height))
    }
}

/// The size to send for a `width` × `height` request: the configured size when there is one;
/// otherwise the nearest the model draws; `None` (the model's default) when the request
/// leaves the size open (a side of 0).
pub fn choose(family: Family, configured: Option<Size>, width: u32, height: u32) -> Option<Size> {
    if configured.is_some() {
        return configured;
    }
    if width == 0 || height == 0 {
        return None;
    }
    match family {
        // Squares of three sizes: the smallest that is not smaller than the image asked for
        // (scaling down keeps detail, scaling up invents blur), else the largest.
        Family::DallE2 => {
            let side = width.max(height);
            let square = [256, 512, 1024]
                .into_iter()
                .find(|&s| s >= side)
                .unwrap_or(1024);
            Some(Size::new(square, square))
        }
        // The same area in three shapes: the one whose shape is nearest; the earlier on a tie.
        Family::GptImage | Family::DallE3 => {
            family.sizes()?.iter().copied().reduce(|best, candidate| {
                if distance(candidate, width, height) < distance(best, width, height) {
                    candidate
                } else {
                    best
                }
            })
        }
        // Another server: the size asked for, which such servers round as they need.
        Family::Other => Some(Size::new(width, height)),
    }
}

/// How far `size`'s shape is from `width` × `height`: the distance of their aspect ratios on
/// a log scale, so 2:1 is as far from 1:1 as 1:2 is.
fn distance(size: Size, width: u32, height: u32) -> f64 {
    let Size::Pixels {
        width: own_width,
        height: own_height,
    } = size
    else {
        return f64::INFINITY;
    };
    let own = f64::from(own_width) / f64::from(own_height);
    let wanted = f64::from(width) / f64::from(height);
    (own.ln() - wanted.ln()).abs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn derived(family: Family, width: u32, height: u32) -> String {
        choose(family, None, width, height).unwrap().to_string()
    }

    #[test]
    fn sizes_parse_and_nonsense_does_not() {
        assert_eq!(Size::parse("1024x1536"), Some(Size::new(1024, 1536)));
        assert_eq!(Size::parse(" 512 X 512 "), Some(Size::new(512, 512)));
        assert_eq!(Size::parse("AUTO"), Some(Size::Auto));
        for bad in ["", "1024", "0x512", "x512", "1024x", "big", "1024x1024x3"] {
            assert_eq!(Size::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn gpt_image_gets_the_nearest_of_its_three_shapes() {
        assert_eq!(derived(Family::GptImage, 768, 1024), "1024x1536");
        assert_eq!(derived(Family::GptImage, 1920, 1080), "1536x1024");
        assert_eq!(derived(Family::GptImage, 512, 512), "1024x1024");
        // 0.9 is nearer 1:1 than 2:3 on a log scale.
        assert_eq!(derived(Family::GptImage, 900, 1000), "1024x1024");
    }

    #[test]
    fn dall_e_3_gets_the_nearest_of_its_three_shapes() {
        assert_eq!(derived(Family::DallE3, 768, 1024), "1024x1792");
        assert_eq!(derived(Family::DallE3, 1920, 1080), "1792x1024");
        assert_eq!(derived(Family::DallE3, 1000, 1000), "1024x1024");
    }

    #[test]
    fn dall_e_2_gets_the_smallest_square_that_covers_the_request() {
        assert_eq!(derived(Family::DallE2, 200, 100), "256x256");
        assert_eq!(derived(Family::DallE2, 300, 512), "512x512");
        assert_eq!(derived(Family::DallE2, 768, 1024), "1024x1024");
        assert_eq!(derived(Family::DallE2, 2048, 2048), "1024x1024");
    }

    #[test]
    fn other_servers_get_the_size_asked_for() {
        assert_eq!(derived(Family::Other, 832, 1248), "832x1248");
    }

    #[test]
    fn the_configured_size_wins_and_an_open_size_is_left_to_the_model() {
        assert_eq!(
            choose(Family::GptImage, Some(Size::Auto), 768, 1024),
            Some(Size::Auto)
        );
        assert_eq!(choose(Family::GptImage, None, 0, 1024), None);
        assert_eq!(choose(Family::Other, None, 768, 0), None);
    }
}
