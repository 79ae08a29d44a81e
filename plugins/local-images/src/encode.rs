//! PNG encoding.

use ava_sdk::PluginError;

/// `rgb` (`width` × `height` × 3 bytes) as a PNG file. The fast deflate mode keeps a
/// 512 × 512 image to a few milliseconds; the smooth gradients still compress well.
pub fn png(width: u32, height: u32, rgb: &[u8]) -> Result<Vec<u8>, PluginError> {
    let mut out = Vec::with_capacity(rgb.len() / 4);
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let fail =
        |err: png::EncodingError| PluginError::internal(format!("PNG encoding failed: {err}"));
    let mut writer = encoder.write_header().map_err(fail)?;
    writer.write_image_data(rgb).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(out)
}
