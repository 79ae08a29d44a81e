//! The backdrop behind the figure: a gradient in the palette of the setting, with a few
//! cheap details (sun, sea, window, trees, bokeh, stars) so the setting reads at a glance.

use crate::color::Rgb;
use crate::look::{Look, Scene};
use crate::rng::cell_hash;
use crate::sdf::{P, circle, coverage, round_box, smoothstep};

/// The backdrop at portrait point `p`; `t` runs 0..1 from the image's top to its bottom and
/// `px` is the size of a pixel in portrait units.
pub fn backdrop(look: &Look, p: P, t: f32, px: f32) -> Rgb {
    let day = match look.scene {
        Scene::Beach => beach(p, px),
        Scene::Sunset => sunset(p, px),
        Scene::Snow => snow(look, p, px),
        Scene::Nature => nature(look, p, px),
        Scene::City => city(look, p, px),
        Scene::Cafe => bokeh_room(
            look,
            p,
            px,
            Rgb::hex(0x4A2E20),
            Rgb::hex(0xA8744C),
            Rgb::hex(0xFFD9A0),
        ),
        Scene::Office => office(look, p, px),
        Scene::Cosy => cosy(look, p, px),
        Scene::Plain if look.night => gradient(Rgb::hex(0x0B1030), Rgb::hex(0x23305E), t),
        Scene::Plain => plain(look, p, t),
    };
    if !look.night {
        return day;
    }
    let dark = match look.scene {
        Scene::Plain => day,
        _ => day.scale(0.35).mix(Rgb::hex(0x0B1030), 0.35),
    };
    // Stars only where there is open sky.
    let open_sky = matches!(
        look.scene,
        Scene::Plain | Scene::Beach | Scene::Sunset | Scene::Snow | Scene::Nature | Scene::City
    );
    if !open_sky || p.1 > -0.05 {
        return dark;
    }
    let moon = coverage(circle(p, (-0.31, -0.33), 0.05), px);
    let with_moon = dark.mix(Rgb::hex(0xF4F1DE), moon);
    let star = scatter(look.detail_seed ^ 0x57A5, p, 0.06, 0.45).map_or(0.0, |(c, h)| {
        coverage(circle(p, c, px * (0.7 + 0.6 * h)), px)
    });
    with_moon.mix(Rgb::hex(0xFFFBEA), star * 0.9)
}

fn gradient(top: Rgb, bottom: Rgb, t: f32) -> Rgb {
    top.mix(bottom, t.clamp(0.0, 1.0))
}

/// A dot per grid cell (for some cells): its centre and a per-dot number in `[0, 1)`. The
/// centre stays in the middle 30 % of its cell, so a dot smaller than a third of the cell
/// never crosses into the next one and only the cell under `p` needs looking at.
fn scatter(seed: u64, p: P, cell: f32, density: f32) -> Option<(P, f32)> {
    let (cx, cy) = ((p.0 / cell).floor(), (p.1 / cell).floor());
    let h = cell_hash(seed, cx as i32, cy as i32);
    let unit = |shift: u32| ((h >> shift) & 0xffff) as f32 / 65536.0;
    if unit(0) >= density {
        return None;
    }
    let centre = (
        (cx + 0.35 + 0.3 * unit(16)) * cell,
        (cy + 0.35 + 0.3 * unit(32)) * cell,
    );
    Some((centre, unit(48)))
}

fn plain(look: &Look, p: P, t: f32) -> Rgb {
    let base = gradient(look.backdrop.0, look.backdrop.1, t);
    // A large soft highlight behind the head lifts the figure off the backdrop.
    let glow = 1.0 - smoothstep(0.0, 0.55, crate::sdf::length(p.0, p.1 + 0.1));
    base.mix(crate::color::WHITE, glow * 0.25)
}

fn beach(p: P, px: f32) -> Rgb {
    const HORIZON: f32 = 0.02;
    const SHORE: f32 = 0.17;
    let sky = Rgb::hex(0x6EC1F0).mix(Rgb::hex(0xD2F0FF), smoothstep(-0.5, HORIZON, p.1));
    let sun = coverage(circle(p, (0.30, -0.30), 0.055), px);
    let halo = 1.0 - smoothstep(0.05, 0.16, circle(p, (0.30, -0.30), 0.0));
    let sky = sky
        .mix(Rgb::hex(0xFFFBE0), halo * 0.35)
        .mix(Rgb::hex(0xFFF4C2), sun);
    let sea = Rgb::hex(0x2F8FC0).mix(Rgb::hex(0x66C2DB), smoothstep(HORIZON, SHORE, p.1));
    let sand = Rgb::hex(0xEBD9A8).mix(Rgb::hex(0xD9BF88), smoothstep(SHORE, 0.5, p.1));
    let above_sea = coverage(p.1 - HORIZON, px);
    let above_sand = coverage(p.1 - SHORE, px);
    sand.mix(sea, above_sand).mix(sky, above_sea)
}

fn sunset(p: P, px: f32) -> Rgb {
    const HORIZON: f32 = 0.1;
    let sky = if p.1 < -0.2 {
        Rgb::hex(0x2E1A47).mix(Rgb::hex(0x8E3B70), smoothstep(-0.5, -0.2, p.1))
    } else {
        Rgb::hex(0x8E3B70)
            .mix(Rgb::hex(0xF2785C), smoothstep(-0.2, -0.02, p.1))
            .mix(Rgb::hex(0xFBC67A), smoothstep(-0.02, HORIZON, p.1))
    };
    let sun = coverage(circle(p, (-0.22, HORIZON), 0.12), px);
    let sky = sky.mix(Rgb::hex(0xFFD98A), sun);
    let ground = Rgb::hex(0x4A2A4F).mix(Rgb::hex(0x2A1830), smoothstep(HORIZON, 0.5, p.1));
    ground.mix(sky, coverage(p.1 - HORIZON, px))
}

fn snow(look: &Look, p: P, px: f32) -> Rgb {
    let sky = Rgb::hex(0xB5D3EC).mix(Rgb::hex(0xEAF3FA), smoothstep(-0.5, 0.15, p.1));
    let ground = Rgb::hex(0xF6F9FC).mix(Rgb::hex(0xDCE7F0), smoothstep(0.15, 0.5, p.1));
    let base = ground.mix(sky, coverage(p.1 - 0.15, px));
    let flake = scatter(look.detail_seed ^ 0x5A0, p, 0.05, 0.5)
        .map_or(0.0, |(c, h)| coverage(circle(p, c, 0.004 + 0.004 * h), px));
    base.mix(crate::color::WHITE, flake * 0.9)
}

fn nature(look: &Look, p: P, px: f32) -> Rgb {
    let sky = Rgb::hex(0x9FD3F0).mix(Rgb::hex(0xDDF1F7), smoothstep(-0.5, 0.0, p.1));
    let meadow = Rgb::hex(0x7DB35B).mix(Rgb::hex(0x5E9444), smoothstep(0.1, 0.5, p.1));
    let mut out = meadow.mix(sky, coverage(p.1 - 0.1, px));
    // A row of round tree crowns along the horizon, one per column of width 0.11.
    let cell = 0.11;
    let column = (p.0 / cell).floor();
    for dx in -1..=1 {
        let i = column + dx as f32;
        let h = cell_hash(look.detail_seed ^ 0x7EE, i as i32, 0);
        let unit = |shift: u32| ((h >> shift) & 0xffff) as f32 / 65536.0;
        let centre = ((i + 0.5) * cell, -0.02 + 0.08 * unit(0));
        let radius = 0.07 + 0.04 * unit(16);
        let shade = Rgb::hex(0x2F6B34).mix(Rgb::hex(0x4E8F43), unit(32));
        out = out.mix(shade, coverage(circle(p, centre, radius), px));
    }
    out
}

fn city(look: &Look, p: P, px: f32) -> Rgb {
    let sky = Rgb::hex(0x8FB3D9).mix(Rgb::hex(0xE3EBF3), smoothstep(-0.5, 0.2, p.1));
    let cell = 0.09;
    let column = (p.0 / cell).floor();
    let h = cell_hash(look.detail_seed ^ 0xC17, column as i32, 0);
    let unit = |shift: u32| ((h >> shift) & 0xffff) as f32 / 65536.0;
    let top = -0.28 + 0.3 * unit(0);
    let left = column * cell + 0.004;
    let right = (column + 1.0) * cell - 0.004;
    let inside_x = coverage(left - p.0, px).min(coverage(p.0 - right, px));
    let building = inside_x.min(coverage(top - p.1, px));
    let facade = Rgb::hex(0x5B6B80).mix(Rgb::hex(0x7D8CA0), unit(16));
    // A grid of windows, some of them lit.
    let (wx, wy) = (((p.0 - left) / 0.02).floor(), ((p.1 - top) / 0.03).floor());
    let in_window = ((p.0 - left) / 0.02).fract() > 0.35
        && ((p.1 - top) / 0.03).fract() > 0.4
        && p.1 > top + 0.015;
    let lit = cell_hash(
        look.detail_seed ^ 0x11,
        column as i32 * 64 + wx as i32,
        wy as i32,
    )
    .is_multiple_of(3);
    let window = if !in_window {
        facade
    } else if lit || look.night {
        Rgb::hex(0xFFE29A)
    } else {
        Rgb::hex(0xA9C4DE)
    };
    sky.mix(window, building)
}

fn bokeh_room(look: &Look, p: P, px: f32, top: Rgb, bottom: Rgb, light: Rgb) -> Rgb {
    let base = top.mix(bottom, smoothstep(-0.5, 0.5, p.1));
    let glow = scatter(look.detail_seed ^ 0xB0C, p, 0.16, 0.55).map_or(0.0, |(c, h)| {
        let r = 0.02 + 0.022 * h;
        // Soft-edged discs: out-of-focus lights.
        coverage(circle(p, c, r), px.max(0.012)) * (0.25 + 0.3 * h)
    });
    base.mix(light, glow)
}

fn cosy(look: &Look, p: P, px: f32) -> Rgb {
    let room = bokeh_room(
        look,
        p,
        px,
        Rgb::hex(0x5B3A4A),
        Rgb::hex(0xC98A6B),
        Rgb::hex(0xFFC47A),
    );
    let lamp = 1.0 - smoothstep(0.0, 0.3, circle(p, (0.33, -0.2), 0.0));
    room.mix(Rgb::hex(0xFFD9A0), lamp * 0.45)
}

fn office(look: &Look, p: P, px: f32) -> Rgb {
    let wall = Rgb::hex(0xDADADF).mix(Rgb::hex(0xB9B9C0), smoothstep(-0.5, 0.5, p.1));
    let frame = round_box(p, (-0.30, -0.2), (0.15, 0.17), 0.01);
    let glass = round_box(p, (-0.30, -0.2), (0.135, 0.155), 0.004);
    let mullion = round_box(p, (-0.30, -0.2), (0.006, 0.155), 0.0).min(round_box(
        p,
        (-0.30, -0.2),
        (0.135, 0.005),
        0.0,
    ));
    let sky = if look.night {
        Rgb::hex(0x1B2547)
    } else {
        Rgb::hex(0x9CCDF0).mix(Rgb::hex(0xDDF0FB), smoothstep(-0.35, -0.05, p.1))
    };
    wall.mix(Rgb::hex(0xF4F4F6), coverage(frame, px))
        .mix(sky, coverage(glass, px))
        .mix(Rgb::hex(0xF4F4F6), coverage(mullion, px))
}

/// The office desk, drawn in front of the figure.
pub fn desk(p: P, px: f32) -> Option<(Rgb, f32)> {
    const TOP: f32 = 0.40;
    if p.1 < TOP - 0.01 {
        return None;
    }
    // Wood grain: gentle stripes along the desk.
    let grain = ((p.1 * 90.0 + p.0 * 6.0).fract() - 0.5).abs();
    let wood = Rgb::hex(0x8A5A36).mix(Rgb::hex(0x6E4528), grain * 0.6);
    let edge = Rgb::hex(0xA87148);
    let colour = wood.mix(edge, coverage((p.1 - TOP - 0.012).abs() - 0.006, px) * 0.8);
    Some((colour, coverage(TOP - p.1, px)))
}
