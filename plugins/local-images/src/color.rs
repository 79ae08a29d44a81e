//! Colours as linear mixes of sRGB components in `[0, 1]`.

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rgb(pub f32, pub f32, pub f32);

impl Rgb {
    /// From 8-bit components.
    pub const fn hex(rgb: u32) -> Self {
        Self(
            ((rgb >> 16) & 0xff) as f32 / 255.0,
            ((rgb >> 8) & 0xff) as f32 / 255.0,
            (rgb & 0xff) as f32 / 255.0,
        )
    }

    /// `self` moved towards `other` by `t` (0: self, 1: other).
    pub fn mix(self, other: Rgb, t: f32) -> Rgb {
        Rgb(
            self.0 + (other.0 - self.0) * t,
            self.1 + (other.1 - self.1) * t,
            self.2 + (other.2 - self.2) * t,
        )
    }

    /// Brightness scaled by `k` (shading).
    pub fn scale(self, k: f32) -> Rgb {
        Rgb(self.0 * k, self.1 * k, self.2 * k)
    }

    /// 8-bit components, clamped.
    pub fn to_bytes(self) -> [u8; 3] {
        let q = |c: f32| (c.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
        [q(self.0), q(self.1), q(self.2)]
    }
}

pub const WHITE: Rgb = Rgb(1.0, 1.0, 1.0);
pub const BLACK: Rgb = Rgb(0.0, 0.0, 0.0);
