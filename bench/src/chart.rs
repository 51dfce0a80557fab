//! The results chart as a PNG, drawn here without a plotting library or fonts (the machine
//! running the benchmark may have neither): two panels of grouped bars (records/s, and CPU-s
//! per million records; medians) per workload and guarantee, one colour per system, a built-in
//! 5×7 pixel font, and a minimal PNG encoder (stored deflate blocks).

use std::path::Path;

use crate::report::{medians, Case, Figures};
use crate::workloads::{Guarantee, System, Workload};

const W: usize = 1100;
const H: usize = 760;
const SYSTEMS: [(System, [u8; 3]); 5] = [
    (System::Ks, [214, 96, 77]),
    (System::Ks512, [244, 165, 130]),
    (System::Streamz, [33, 102, 172]),
    (System::Raw, [150, 150, 150]),
    (System::RawState, [90, 90, 90]),
];

/// Glyphs of the 5×7 font: seven rows of five, top to bottom; upper case is drawn as lower case.
const FONT: &[(char, &str)] = &[
    ('a', "..... ..... .###. ....# .#### #...# .####"),
    ('b', "#.... #.... ####. #...# #...# #...# ####."),
    ('c', "..... ..... .#### #.... #.... #.... .####"),
    ('d', "....# ....# .#### #...# #...# #...# .####"),
    ('e', "..... ..... .###. #...# ##### #.... .###."),
    ('f', "..##. .#... ####. .#... .#... .#... .#..."),
    ('g', "..... .#### #...# #...# .#### ....# .###."),
    ('h', "#.... #.... ####. #...# #...# #...# #...#"),
    ('i', "..#.. ..... .##.. ..#.. ..#.. ..#.. .###."),
    ('j', "...#. ..... ..##. ...#. ...#. #..#. .##.."),
    ('k', "#.... #.... #..#. #.#.. ##... #.#.. #..#."),
    ('l', ".##.. ..#.. ..#.. ..#.. ..#.. ..#.. .###."),
    ('m', "..... ..... ##.#. #.#.# #.#.# #.#.# #...#"),
    ('n', "..... ..... ####. #...# #...# #...# #...#"),
    ('o', "..... ..... .###. #...# #...# #...# .###."),
    ('p', "..... ..... ####. #...# ####. #.... #...."),
    ('q', "..... ..... .#### #...# .#### ....# ....#"),
    ('r', "..... ..... #.##. ##..# #.... #.... #...."),
    ('s', "..... ..... .#### #.... .###. ....# ####."),
    ('t', ".#... .#... ####. .#... .#... .#..# ..##."),
    ('u', "..... ..... #...# #...# #...# #..## .##.#"),
    ('v', "..... ..... #...# #...# #...# .#.#. ..#.."),
    ('w', "..... ..... #...# #...# #.#.# #.#.# .#.#."),
    ('x', "..... ..... #...# .#.#. ..#.. .#.#. #...#"),
    ('y', "..... ..... #...# #...# .#### ....# .###."),
    ('z', "..... ..... ##### ...#. ..#.. .#... #####"),
    ('0', ".###. #...# #..## #.#.# ##..# #...# .###."),
    ('1', "..#.. .##.. ..#.. ..#.. ..#.. ..#.. .###."),
    ('2', ".###. #...# ....# ...#. ..#.. .#... #####"),
    ('3', "##### ...#. ..#.. ...#. ....# #...# .###."),
    ('4', "...#. ..##. .#.#. #..#. ##### ...#. ...#."),
    ('5', "##### #.... ####. ....# ....# #...# .###."),
    ('6', "..##. .#... #.... ####. #...# #...# .###."),
    ('7', "##### ....# ...#. ..#.. .#... .#... .#..."),
    ('8', ".###. #...# #...# .###. #...# #...# .###."),
    ('9', ".###. #...# #...# .#### ....# ...#. .##.."),
    ('.', "..... ..... ..... ..... ..... .##.. .##.."),
    ('-', "..... ..... ..... ##### ..... ..... ....."),
    ('+', "..... ..#.. ..#.. ##### ..#.. ..#.. ....."),
    ('/', "..... ....# ...#. ..#.. .#... #.... ....."),
    ('(', "...#. ..#.. .#... .#... .#... ..#.. ...#."),
    (')', ".#... ..#.. ...#. ...#. ...#. ..#.. .#..."),
    ('%', "##... ##..# ...#. ..#.. .#... #..## ...##"),
    (':', "..... .##.. .##.. ..... .##.. .##.. ....."),
    ('=', "..... ..... ##### ..... ##### ..... ....."),
];

struct Canvas {
    pixels: Vec<[u8; 3]>,
}

impl Canvas {
    fn rect(&mut self, x: usize, y: usize, w: usize, h: usize, color: [u8; 3]) {
        for yy in y.min(H)..(y + h).min(H) {
            for xx in x.min(W)..(x + w).min(W) {
                self.pixels[yy * W + xx] = color;
            }
        }
    }

    /// Draws `text` at (x, y) with pixels of `scale`×`scale`.
    fn text(&mut self, x: usize, y: usize, text: &str, scale: usize, color: [u8; 3]) {
        for (i, c) in text.chars().enumerate() {
            let c = c.to_ascii_lowercase();
            let Some((_, rows)) = FONT.iter().find(|(g, _)| *g == c) else { continue };
            let cells = rows.chars().filter(|ch| *ch != ' ').map(|ch| ch == '#');
            for (n, on) in cells.enumerate() {
                if on {
                    self.rect(x + (i * 6 + n % 5) * scale, y + (n / 5) * scale, scale, scale, color);
                }
            }
        }
    }
}

fn short(v: f64) -> String {
    match v {
        v if v.is_nan() => "-".into(),
        v if v >= 1e6 => format!("{:.2}m", v / 1e6),
        v if v >= 1e3 => format!("{:.0}k", v / 1e3),
        v if v >= 10.0 => format!("{v:.0}"),
        v => format!("{v:.2}"),
    }
}

/// One panel: `value` (an index into `medians`) per group and system.
fn panel(canvas: &mut Canvas, top: usize, title: &str, value: usize, results: &[(Case, Vec<Figures>)]) {
    let groups: Vec<(Workload, Guarantee)> = {
        let mut g: Vec<_> = results.iter().map(|(c, _)| (c.workload, c.guarantee)).collect();
        g.sort();
        g.dedup();
        g
    };
    let (left, height, width) = (60, 260, W - 80);
    canvas.text(left, top, title, 2, [0, 0, 0]);
    let base = top + 40 + height;
    let find = |w, g, s| results.iter().find(|(c, _)| *c == Case { workload: w, guarantee: g, system: s });
    let max = results.iter().map(|(_, f)| medians(f)[value]).filter(|v| !v.is_nan()).fold(0.0, f64::max);
    canvas.rect(left, base, width, 2, [0, 0, 0]);
    let group_w = width / groups.len().max(1);
    for (gi, (w, g)) in groups.iter().enumerate() {
        let x0 = left + gi * group_w + 10;
        let bar_w = (group_w - 20) / SYSTEMS.len();
        for (si, (system, color)) in SYSTEMS.iter().enumerate() {
            let Some((_, figures)) = find(*w, *g, *system) else { continue };
            let v = medians(figures)[value];
            let h = if max > 0.0 && !v.is_nan() { (v / max * height as f64) as usize } else { 0 };
            let x = x0 + si * bar_w;
            canvas.rect(x + 2, base - h, bar_w - 4, h, *color);
            canvas.text(x + 2, base - h - 10, &short(v), 1, [0, 0, 0]);
        }
        let label = if *w == Workload::W4 { "w4 restore".to_string() } else { format!("{} {}", w.name(), g.name()) };
        canvas.text(x0 + 4, base + 8, &label, 2, [0, 0, 0]);
    }
}

/// Where the legend starts, and the gap after each of its entries.
const LEGEND_LEFT: usize = 60;
const LEGEND_GAP: usize = 30;

/// The width of `system`'s legend entry (a 16-pixel swatch, its label in the 2× font) and the
/// gap after it.
fn legend_step(system: System) -> usize {
    24 + system.label().len() * 12 + LEGEND_GAP
}

/// Draws the chart of `results` into `path`.
pub(crate) fn write(path: &Path, results: &[(Case, Vec<Figures>)]) -> anyhow::Result<()> {
    let mut canvas = Canvas { pixels: vec![[255; 3]; W * H] };
    panel(&mut canvas, 10, "records/s (median)", 0, results);
    panel(&mut canvas, 370, "cpu-s per million records (median)", 1, results);
    let mut x = LEGEND_LEFT;
    for (system, color) in SYSTEMS {
        canvas.rect(x, H - 28, 16, 16, color);
        canvas.text(x + 24, H - 26, system.label(), 2, [0, 0, 0]);
        x += legend_step(system);
    }
    std::fs::write(path, png(&canvas.pixels, W, H))?;
    Ok(())
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// An 8-bit RGB PNG of `pixels` (rows top to bottom), zlib with stored blocks.
fn png(pixels: &[[u8; 3]], w: usize, h: usize) -> Vec<u8> {
    let mut raw = Vec::with_capacity(h * (w * 3 + 1));
    for row in pixels.chunks(w) {
        raw.push(0);
        raw.extend(row.iter().flatten());
    }
    let mut z = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
    for (i, block) in blocks.iter().enumerate() {
        z.push(u8::from(i + 1 == blocks.len()));
        let len = block.len() as u16;
        z.extend_from_slice(&len.to_le_bytes());
        z.extend_from_slice(&(!len).to_le_bytes());
        z.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for byte in &raw {
        a = (a + u32::from(*byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    z.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&(w as u32).to_be_bytes());
    ihdr.extend_from_slice(&(h as u32).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &z);
    chunk(&mut out, b"IEND", &[]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_iend_is_the_known_one() {
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }

    #[test]
    fn the_legend_fits_and_every_label_can_be_drawn() {
        let width: usize = SYSTEMS.iter().map(|(s, _)| legend_step(*s)).sum();
        assert!(LEGEND_LEFT + width - LEGEND_GAP <= W, "the legend is {width} pixels wide");
        for (system, _) in SYSTEMS {
            for c in system.label().chars().filter(|c| *c != ' ') {
                let c = c.to_ascii_lowercase();
                assert!(FONT.iter().any(|(g, _)| *g == c), "no glyph for {c:?} of {}", system.label());
            }
        }
    }

    #[test]
    fn every_glyph_has_seven_rows_of_five() {
        for (c, rows) in FONT {
            let shape: Vec<usize> = rows.split(' ').map(str::len).collect();
            assert_eq!(shape, vec![5; 7], "glyph {c:?}");
        }
    }
}
