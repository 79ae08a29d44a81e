//! Aspect ratios, for models that take a ratio such as `2:3` from a fixed list instead of a
//! width and a height (FLUX, Stable Diffusion 3.5, Ideogram).

/// An aspect ratio `width:height`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio {
    pub width: u32,
    pub height: u32,
}

impl std::fmt::Display for Ratio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.width, self.height)
    }
}

impl Ratio {
    /// How far apart two shapes are: the distance of their ratios on a log scale, so 2:1 is
    /// as far from 1:1 as 1:2 is.
    fn distance(&self, width: u32, height: u32) -> f64 {
        let own = f64::from(self.width) / f64::from(self.height);
        let wanted = f64::from(width) / f64::from(height);
        (own.ln() - wanted.ln()).abs()
    }
}

/// The ratios FLUX's models on Replicate accept, the most common list.
pub fn flux_ratios() -> Vec<Ratio> {
    [
        (1, 1),
        (16, 9),
        (21, 9),
        (3, 2),
        (2, 3),
        (4, 5),
        (5, 4),
        (3, 4),
        (4, 3),
        (9, 16),
        (9, 21),
    ]
    .into_iter()
    .map(|(width, height)| Ratio { width, height })
    .collect()
}

/// Parses a comma-separated list such as `1:1, 16:9`.
pub fn parse_list(raw: &str) -> Result<Vec<Ratio>, String> {
    let ratios = raw
        .split(',')
        .map(|item| {
            let item = item.trim();
            item.split_once(':')
                .and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)))
                .filter(|&(w, h)| w > 0 && h > 0)
                .map(|(width, height)| Ratio { width, height })
                .ok_or_else(|| format!("`{item}` is not a ratio such as `16:9`"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ratios)
}

/// The ratio in `ratios` closest to `width` × `height` (both non-zero); the earlier one on a
/// tie. `None` only for an empty list.
pub fn nearest(ratios: &[Ratio], width: u32, height: u32) -> Option<Ratio> {
    ratios.iter().copied().reduce(|best, candidate| {
        if candidate.distance(width, height) < best.distance(width, height) {
            candidate
        } else {
            best
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nearest_flux(width: u32, height: u32) -> String {
        nearest(&flux_ratios(), width, height).unwrap().to_string()
    }

    #[test]
    fn exact_shapes_get_their_own_ratio() {
        assert_eq!(nearest_flux(512, 512), "1:1");
        assert_eq!(nearest_flux(768, 1024), "3:4");
        assert_eq!(nearest_flux(1920, 1080), "16:9");
        assert_eq!(nearest_flux(832, 1248), "2:3");
    }

    #[test]
    fn other_shapes_get_the_closest_ratio() {
        // 0.7 lies between 2:3 (0.667) and 3:4 (0.75), nearer 2:3 on a log scale.
        assert_eq!(nearest_flux(700, 1000), "2:3");
        // Wider than anything on the list.
        assert_eq!(nearest_flux(4000, 1000), "21:9");
    }

    #[test]
    fn lists_parse_with_spaces_and_refuse_nonsense() {
        assert_eq!(
            parse_list(" 1:1 ,16 : 10").unwrap(),
            vec![
                Ratio {
                    width: 1,
                    height: 1
                },
                Ratio {
                    width: 16,
                    height: 10
                }
            ]
        );
        for bad in ["", "1:0", "wide", "1:1,", "4x3"] {
            assert!(parse_list(bad).is_err(), "{bad}");
        }
    }
}
