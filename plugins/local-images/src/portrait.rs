//! The figure: hair, head, face, neck and shoulders, painted back to front per pixel with
//! signed distances, so every edge is anti-aliased analytically.

use crate::color::{BLACK, Rgb, WHITE};
use crate::look::{Fringe, HairLength, Look, Neckline, Scene};
use crate::rng::cell_hash;
use crate::scene;
use crate::sdf::{P, capsule, circle, coverage, ellipse, intersect, round_box, smoothstep};

/// Where the head sits: a little above the centre, leaving room for the shoulders.
pub const HEAD_Y: f32 = -0.06;
const SHOULDER_TOP: f32 = 0.215;

/// The portrait of one look, ready to be sampled pixel by pixel.
pub struct Portrait<'a> {
    look: &'a Look,
    cy: f32,
    rx: f32,
    ry: f32,
    eye_y: f32,
    mouth_y: f32,
    nose_y: f32,
    chin_y: f32,
}

impl<'a> Portrait<'a> {
    pub fn new(look: &'a Look) -> Self {
        let (rx, ry) = (look.face_rx, look.face_ry);
        Self {
            look,
            cy: HEAD_Y,
            rx,
            ry,
            eye_y: HEAD_Y + ry * look.eye_drop,
            mouth_y: HEAD_Y + ry * 0.55,
            nose_y: HEAD_Y + ry * 0.30,
            chin_y: HEAD_Y + ry,
        }
    }

    /// The colour at portrait point `p` (`t`: 0..1 down the image, `px`: pixel size).
    pub fn pixel(&self, p: P, t: f32, px: f32) -> Rgb {
        let look = self.look;
        let mut c = scene::backdrop(look, p, t, px);
        // Everything of the figure lies in this box: skip it for the backdrop's pixels.
        let in_figure = p.0.abs() < 0.46 && p.1 > self.cy - self.ry * 1.5;
        if in_figure {
            c = self.hair_behind(c, p, px);
            c = self.neck(c, p, px);
            c = self.torso(c, p, px);
            c = self.hair_over_shoulders(c, p, px);
            if p.0.abs() < self.rx * 1.6 && p.1 < self.chin_y + 0.05 {
                c = self.head(c, p, px);
            }
        }
        if look.scene == Scene::Office
            && let Some((wood, alpha)) = scene::desk(p, px)
        {
            c = c.mix(wood, alpha);
        }
        // A light vignette draws the eye to the face.
        let r = crate::sdf::length(p.0, p.1 + 0.05);
        c.scale(1.0 - 0.18 * smoothstep(0.45, 0.85, r))
    }

    fn hair_shade(&self, p: P) -> Rgb {
        // Lighter towards the top-left light, with faint strands.
        let light =
            1.1 - 0.3 * smoothstep(self.cy - self.ry * 1.2, self.cy + self.ry, p.1 - p.0 * 0.3);
        let strand = ((p.0 * 70.0 + p.1 * 12.0).fract() - 0.5).abs() * 0.08;
        self.look.hair.scale(light - strand)
    }

    /// Hair that hangs behind the head and neck: long hair, a bob, a bun, a ponytail.
    fn hair_behind(&self, c: Rgb, p: P, px: f32) -> Rgb {
        let (cy, rx, ry) = (self.cy, self.rx, self.ry);
        let width = rx * 1.42 + self.look.hair_volume;
        let d = match self.look.hair_length {
            HairLength::Long => round_box(p, (0.0, cy + ry * 0.55), (width, ry * 1.65), rx),
            HairLength::Bob => round_box(p, (0.0, cy + ry * 0.15), (width, ry * 1.05), rx * 0.9),
            HairLength::Ponytail => {
                let tail = capsule(
                    p,
                    (rx * 0.9, cy - ry * 0.2),
                    (rx * 1.25, cy + ry * 1.1),
                    rx * 0.28,
                );
                tail.min(self.tied_back(p))
            }
            HairLength::Bun => circle(p, (0.0, cy - ry * 1.05), rx * 0.45).min(self.tied_back(p)),
            HairLength::Short => return c,
        };
        let shade = self.hair_shade(p).scale(0.85);
        c.mix(shade, coverage(d, px))
    }

    /// Hair pulled back: the back of the head, down to the ears.
    fn tied_back(&self, p: P) -> f32 {
        let head = ellipse(
            p,
            (0.0, self.cy - self.ry * 0.08),
            self.rx * 1.12,
            self.ry * 1.04,
        );
        intersect(head, p.1 - (self.cy + self.ry * 0.1))
    }

    fn neck(&self, c: Rgb, p: P, px: f32) -> Rgb {
        let half_w = self.rx * 0.46;
        let top = self.cy + self.ry * 0.5;
        // Down into the neckline, which shows it through the clothes.
        let bottom = SHOULDER_TOP + 0.2;
        let d = round_box(
            p,
            (0.0, (top + bottom) / 2.0),
            (half_w, (bottom - top) / 2.0),
            0.02,
        );
        // The chin's shadow on the neck.
        let shadow = 1.0 - 0.22 * (1.0 - smoothstep(self.chin_y - 0.01, self.chin_y + 0.05, p.1));
        c.mix(self.look.skin.scale(shadow * 0.96), coverage(d, px))
    }

    fn torso(&self, c: Rgb, p: P, px: f32) -> Rgb {
        let look = self.look;
        // Shoulders: a flat ellipse over a straight-sided body.
        let shoulders = ellipse(p, (0.0, SHOULDER_TOP + 0.2), 0.43, 0.2);
        let body = round_box(p, (0.0, SHOULDER_TOP + 0.6), (0.43, 0.4), 0.0);
        let d = shoulders.min(body);
        if d > px {
            return c;
        }
        // Round shoulders: darker towards the sides and the bottom.
        let shade =
            1.0 - 0.28 * smoothstep(0.18, 0.42, p.0.abs()) - 0.1 * smoothstep(0.3, 0.6, p.1);
        let cloth = look.clothing.scale(shade);
        // The neckline is a hole in the clothes through which the neck shows (with a jacket:
        // a white shirt, and the neck inside its collar). Holes, not patches: no seams.
        let neckline = |depth: f32, width: f32| match look.neckline {
            Neckline::Round => ellipse(p, (0.0, SHOULDER_TOP - 0.01), width, depth),
            Neckline::V => {
                let edge = p.0.abs() * depth / width - (SHOULDER_TOP - 0.02 + depth - p.1);
                intersect(
                    edge / (1.0 + (depth / width).powi(2)).sqrt(),
                    SHOULDER_TOP - 0.06 - p.1,
                )
            }
        };
        if look.formal {
            let shirt = neckline(0.16, self.rx * 0.55);
            let collar = neckline(0.07, self.rx * 0.35);
            let c = c.mix(cloth, coverage(intersect(d, -shirt), px));
            c.mix(
                WHITE.scale(0.96),
                coverage(intersect(intersect(d, shirt), -collar), px),
            )
        } else {
            c.mix(
                cloth,
                coverage(intersect(d, -neckline(0.08, self.rx * 0.55)), px),
            )
        }
    }

    /// Long hair falls in front of the shoulders, framing the face.
    fn hair_over_shoulders(&self, c: Rgb, p: P, px: f32) -> Rgb {
        if self.look.hair_length != HairLength::Long {
            return c;
        }
        let (cy, rx, ry) = (self.cy, self.rx, self.ry);
        let x = rx * 1.05 + self.look.hair_volume * 0.5;
        let lock = |side: f32| {
            capsule(
                p,
                (side * x, cy),
                (side * (x + 0.02), cy + ry * 1.9),
                rx * 0.32,
            )
        };
        let d = lock(-1.0).min(lock(1.0));
        c.mix(self.hair_shade(p), coverage(d, px))
    }

    /// The face ellipse, narrowing towards the chin.
    fn face_distance(&self, p: P, grow: f32) -> f32 {
        let below = ((p.1 - self.cy) / self.ry).clamp(0.0, 1.0);
        let rx = self.rx * (1.0 - self.look.taper * below * below);
        ellipse(p, (0.0, self.cy), rx + grow, self.ry + grow)
    }

    fn head(&self, mut c: Rgb, p: P, px: f32) -> Rgb {
        let look = self.look;
        let (cy, rx, ry) = (self.cy, self.rx, self.ry);
        let ears_visible = matches!(
            look.hair_length,
            HairLength::Short | HairLength::Ponytail | HairLength::Bun
        );
        if ears_visible {
            for side in [-1.0, 1.0] {
                let ear = ellipse(p, (side * rx * 0.97, cy + ry * 0.08), rx * 0.17, ry * 0.2);
                c = c.mix(look.skin.scale(0.9), coverage(ear, px));
            }
        }
        if let Some(metal) = look.earrings.filter(|_| ears_visible) {
            for side in [-1.0, 1.0] {
                let ring = circle(p, (side * rx * 0.99, cy + ry * 0.3), 0.009);
                c = c.mix(metal, coverage(ring, px));
            }
        }

        let face = self.face_distance(p, 0.0);
        let inside = face.min(0.0) / -rx;
        // Rounded shading: darker at the rim, lit from the upper left.
        let shade = 0.86
            + 0.14 * smoothstep(0.0, 0.35, inside)
            + 0.04 * (-(p.0 + p.1) / rx).clamp(-1.0, 1.0);
        let mut skin = look.skin.scale(shade);
        // Cheeks.
        for side in [-1.0, 1.0] {
            let d = circle(
                p,
                (side * look.eye_spacing * 1.15, self.eye_y + ry * 0.3),
                0.0,
            );
            let blush = 1.0 - smoothstep(0.0, 0.04, d);
            skin = skin.mix(Rgb::hex(0xE8707A), blush * look.blush);
        }
        if look.freckles {
            skin = self.freckles(skin, p, px);
        }
        c = c.mix(skin, coverage(face, px));
        if face > px {
            return self.hair_front(c, p, px);
        }

        if look.beard {
            let beard = intersect(self.face_distance(p, 0.006), self.mouth_y - 0.03 - p.1);
            c = c.mix(self.hair_shade(p).scale(0.9), coverage(beard, px) * 0.95);
        }
        c = self.nose(c, p, px);
        c = self.mouth(c, p, px);
        for side in [-1.0, 1.0] {
            c = self.eye(c, p, px, side * look.eye_spacing);
        }
        self.hair_front(c, p, px)
    }

    fn freckles(&self, skin: Rgb, p: P, px: f32) -> Rgb {
        let cell = 0.012;
        let (cx, cy) = ((p.0 / cell).floor(), (p.1 / cell).floor());
        let h = cell_hash(self.look.detail_seed ^ 0xF2, cx as i32, cy as i32);
        let on_cheeks = (p.1 - (self.nose_y - 0.01)).abs() < 0.03 && p.0.abs() < self.rx * 0.7;
        if !on_cheeks || !h.is_multiple_of(4) {
            return skin;
        }
        let centre = ((cx + 0.5) * cell, (cy + 0.5) * cell);
        skin.mix(
            skin.scale(0.72),
            coverage(circle(p, centre, 0.0025), px) * 0.8,
        )
    }

    fn nose(&self, c: Rgb, p: P, px: f32) -> Rgb {
        let shadow = self.look.skin.scale(0.72);
        let mut c = c;
        for side in [-1.0, 1.0] {
            let nostril = ellipse(p, (side * 0.011, self.nose_y), 0.0055, 0.0035);
            c = c.mix(shadow, coverage(nostril, px) * 0.6);
        }
        // A soft shade along one side of the bridge.
        let bridge = capsule(
            p,
            (0.008, self.eye_y + 0.02),
            (0.013, self.nose_y - 0.01),
            0.004,
        );
        c.mix(shadow, coverage(bridge, px.max(0.006)) * 0.18)
    }

    fn mouth(&self, c: Rgb, p: P, px: f32) -> Rgb {
        let look = self.look;
        let w = look.mouth_w;
        if p.0.abs() > w + 0.02 || (p.1 - self.mouth_y).abs() > 0.05 {
            return c;
        }
        // The smile's centre line: the corners sit higher than the middle.
        let curve = |x: f32| self.mouth_y + look.smile * (1.0 - (x / w).powi(2));
        let q = (p.0, p.1 - curve(p.0) + self.mouth_y);
        let lips = ellipse(q, (0.0, self.mouth_y + look.lip_h * 0.2), w, look.lip_h);
        let mut c = c.mix(look.lips, coverage(lips, px));
        if look.open_smile {
            let inner = ellipse(
                q,
                (0.0, self.mouth_y + look.lip_h * 0.25),
                w * 0.82,
                look.lip_h * 0.62,
            );
            c = c.mix(Rgb::hex(0x5A1A22), coverage(inner, px));
            let teeth = intersect(inner, q.1 - self.mouth_y);
            c = c.mix(WHITE.scale(0.97), coverage(teeth, px));
        } else {
            let line = intersect(
                (q.1 - self.mouth_y - look.lip_h * 0.1).abs() - 0.0012,
                p.0.abs() - w * 0.92,
            );
            c = c.mix(look.lips.scale(0.55), coverage(line, px) * 0.9);
        }
        c
    }

    fn eye(&self, c: Rgb, p: P, px: f32, x: f32) -> Rgb {
        let look = self.look;
        let centre = (x, self.eye_y);
        if (p.0 - x).abs() > look.eye_w * 2.0 || (p.1 - self.eye_y).abs() > look.eye_w * 2.5 {
            return c;
        }
        let (w, h) = (look.eye_w, look.eye_h);
        let white = ellipse(p, centre, w, h);
        let mut c = c.mix(Rgb::hex(0xFBFAF7), coverage(white, px));
        // Iris, pupil and a highlight, clipped to the eye.
        let iris_r = h * 1.0;
        let iris = intersect(circle(p, centre, iris_r), white);
        let ring = 1.0 - 0.35 * smoothstep(iris_r * 0.5, iris_r, circle(p, centre, 0.0));
        c = c.mix(look.eyes.scale(ring), coverage(iris, px));
        let pupil = intersect(circle(p, centre, iris_r * 0.45), white);
        c = c.mix(Rgb::hex(0x111014), coverage(pupil, px));
        let glint = circle(
            p,
            (x + iris_r * 0.35, self.eye_y - iris_r * 0.4),
            iris_r * 0.25,
        );
        c = c.mix(WHITE, coverage(glint, px) * 0.9);
        // The upper lid and lashes: the top half of the eye's outline, thicker outside.
        let outline = white.abs() - 0.0022 - 0.0015 * ((p.0 - x) * x.signum() / w).clamp(0.0, 1.0);
        let lid = intersect(outline, p.1 - self.eye_y + h * 0.2);
        c = c.mix(BLACK.mix(look.hair, 0.2).scale(0.6), coverage(lid, px));
        // The brow, in the hair's colour, a little darker.
        let brow_y = self.eye_y - h - 0.022;
        // The inner end a touch higher or lower than the outer: curious or calm, never cross.
        let inner = (x - x.signum() * w * 0.9, brow_y + look.brow_tilt);
        let outer = (x + x.signum() * w * 1.0, brow_y + 0.002);
        let brow = capsule(p, inner, outer, 0.0038);
        let brow_colour = look.hair.scale(0.6).mix(Rgb::hex(0x3A2A20), 0.35);
        c.mix(brow_colour, coverage(brow, px))
    }

    /// The hair over the top of the head, down to the fringe.
    fn hair_front(&self, c: Rgb, p: P, px: f32) -> Rgb {
        let (cy, rx, ry) = (self.cy, self.rx, self.ry);
        let volume = self.look.hair_volume;
        let cap = ellipse(
            p,
            (0.0, cy - ry * 0.08),
            rx * 1.1 + volume,
            ry * 1.04 + volume * 0.6,
        );
        if cap > px {
            return c;
        }
        let t = p.0 / rx;
        // The fringe: its height over the forehead and its slope, for an exact distance.
        let (edge, slope) = match self.look.fringe {
            Fringe::Bangs => (cy - ry * 0.42 + ry * 0.12 * t * t, ry * 0.24 * t / rx),
            Fringe::Side(side) => {
                let a = ((side * t + 1.0) / 2.0).clamp(0.0, 1.0);
                let da = if (0.0..1.0).contains(&a) {
                    side / (2.0 * rx)
                } else {
                    0.0
                };
                (cy - ry * 0.66 + ry * 0.46 * a * a, ry * 0.92 * a * da)
            }
            Fringe::Middle => {
                let a = t.abs().min(1.2);
                (
                    cy - ry * 0.74 + ry * 0.6 * a * a,
                    ry * 1.2 * a * t.signum() / rx,
                )
            }
        };
        let fringe = (p.1 - edge) / (1.0 + slope * slope).sqrt();
        // At the temples the hair comes down to eye level, framing the face.
        let temples = intersect(rx * 0.8 - p.0.abs(), p.1 - (cy + ry * 0.02));
        // Inside the cap, hair covers whatever the face does not, down to the ears; longer
        // hair hangs behind the head (`hair_behind`).
        let beside_face = intersect(-self.face_distance(p, 0.0), p.1 - (cy + ry * 0.1));
        let d = intersect(cap, fringe.min(temples).min(beside_face));
        c.mix(self.hair_shade(p), coverage(d, px))
    }
}
