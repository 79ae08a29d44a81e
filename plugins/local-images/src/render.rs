//! Sampling the portrait into an RGB raster.

use crate::look::Look;
use crate::portrait::Portrait;

/// `width` × `height` RGB bytes, row by row. The portrait is centred and scaled to the
/// shorter side, so other aspect ratios only widen the backdrop.
pub fn render(look: &Look, width: u32, height: u32) -> Vec<u8> {
    let portrait = Portrait::new(look);
    let side = width.min(height) as f32;
    let px = 1.0 / side;
    let (half_w, half_h) = (width as f32 / 2.0, height as f32 / 2.0);
    let mut out = Vec::with_capacity(width as usize * height as usize * 3);
    for y in 0..height {
        let v = (y as f32 + 0.5 - half_h) / side;
        let t = (y as f32 + 0.5) / height as f32;
        for x in 0..width {
            let u = (x as f32 + 0.5 - half_w) / side;
            out.extend_from_slice(&portrait.pixel((u, v), t, px).to_bytes());
        }
    }
    out
}
