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

/// One panel: `value` (an index into `medians`) per group and system, each group's bars
/// scaled to its largest (records/s and CPU differ by orders of magnitude between workloads;
/// the figures are written above the bars).
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
    canvas.rect(left, base, width, 2, [0, 0, 0]);
    let group_w = width / groups.len().max(1);
    let bar_w = (group_w - 20) / SYSTEMS.len();
    let mut labels = Vec::new();
    for (gi, (w, g)) in groups.iter().enumerate() {
        let x0 = left + gi * group_w + 10;
        let values: Vec<Option<f64>> =
            SYSTEMS.iter().map(|(system, _)| find(*w, *g, *system).map(|(_, f)| medians(f)[value])).collect();
        let max = values.iter().flatten().copied().filter(|v| !v.is_nan()).fold(0.0, f64::max);
        let mut bars = Vec::new();
        for (si, ((_, color), v)) in SYSTEMS.iter().zip(&values).enumerate() {
            let Some(v) = *v else { continue };
            let h = if max > 0.0 && !v.is_nan() { (v / max * height as f64) as usize } else { 0 };
            let x = x0 + si * bar_w;
            canvas.rect(x + 2, base - h, bar_w - 4, h, *color);
            bars.push((x + 2, base - h, short(v)));
        }
        labels.extend(place_labels(&bars, top + 18));
        let label = if *w == Workload::W4 { "w4 restore".to_string() } else { format!("{} {}", w.name(), g.name()) };
        canvas.text(x0 + 4, base + 8, &label, 2, [0, 0, 0]);
    }
    // After every bar, so that no bar covers a label that reaches over it.
    for (x, y, text) in labels {
        canvas.text(x, y, &text, 1, [0, 0, 0]);
    }
}

/// Where the value labels of a group's bars go, given each bar's left edge, top and label
/// (left to right): just above the bar, or, where that would overlap the label before it,
/// just above that label; never above `ceiling`.
fn place_labels(bars: &[(usize, usize, String)], ceiling: usize) -> Vec<(usize, usize, String)> {
    const LINE: usize = 9;
    let mut placed: Vec<(usize, usize, String)> = Vec::with_capacity(bars.len());
    for (x, top, text) in bars {
        let mut y = top.saturating_sub(10).max(ceiling);
        if let Some((px, py, ptext)) = placed.last() {
            let side_by_side = px + text_width(ptext) >= *x;
            if side_by_side && y.abs_diff(*py) < LINE {
                y = py.saturating_sub(LINE).max(ceiling);
            }
        }
        placed.push((*x, y, text.clone()));
    }
    placed
}

/// Pixels `text` takes in the 1× font.
fn text_width(text: &str) -> usize {
    (text.chars().count() * 6).saturating_sub(1)
}

/// The titles of the two panels.
const TITLES: [&str; 2] = [
    "records/s (median): each group scaled to its largest",
    "cpu-s per million records (median): each group scaled to its largest",
];

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
    panel(&mut canvas, 10, TITLES[0], 0, results);
    panel(&mut canvas, 370, TITLES[1], 1, results);
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
    fn the_legend_fits_and_every_label_and_title_can_be_drawn() {
        let width: usize = SYSTEMS.iter().map(|(s, _)| legend_step(*s)).sum();
        assert!(LEGEND_LEFT + width - LEGEND_GAP <= W, "the legend is {width} pixels wide");
        let texts = SYSTEMS.iter().map(|(s, _)| s.label()).chain(TITLES);
        for text in texts {
            for c in text.chars().filter(|c| *c != ' ') {
                let c = c.to_ascii_lowercase();
                assert!(FONT.iter().any(|(g, _)| *g == c), "no glyph for {c:?} of {text}");
            }
            assert!(60 + text.len() * 12 <= W, "{text} is too wide");
        }
    }

    #[test]
    fn labels_of_neighbouring_bars_do_not_overlap() {
        // The narrowest bars: the full run's seven groups.
        let bar_w = ((W - 80) / 7 - 20) / SYSTEMS.len();
        let text = short(1_234_567.0);
        assert!(text_width(&text) > bar_w, "the case this is for: labels wider than bars");
        // Tops of equal, nearly equal, rising and falling bars.
        for tops in
            [[200, 200, 200, 200, 200], [200, 203, 198, 205, 201], [300, 250, 200, 150, 100], [100, 104, 108, 112, 116]]
        {
            let bars: Vec<_> = tops.iter().enumerate().map(|(i, t)| (100 + i * bar_w, *t, text.clone())).collect();
            let placed = place_labels(&bars, 20);
            for pair in placed.windows(2) {
                let ((x0, y0, _), (x1, y1, _)) = (&pair[0], &pair[1]);
                assert!(x0 + text_width(&text) < *x1 || y0.abs_diff(*y1) >= 8, "{tops:?}: labels at {:?}", placed);
            }
            for ((_, y, _), top) in placed.iter().zip(tops) {
                assert!(*y + 7 <= top, "{tops:?}: a label over its bar");
            }
        }
        // A narrow label stays just above its bar; none goes above the ceiling.
        assert_eq!(place_labels(&[(100, 200, "1".into()), (130, 200, "2".into())], 20)[1].1, 190);
        assert_eq!(place_labels(&[(100, 25, text.clone()), (110, 25, text)], 20)[1].1, 20);
    }

    #[test]
    fn the_chart_of_results_is_a_png() {
        let dir = tempfile::tempdir().unwrap();
        let case = |system| Case { workload: Workload::W4, guarantee: Guarantee::Alos, system };
        let f = |records_per_s| Figures { records_per_s, cpu_s_per_m: 0.5, ..Figures::default() };
        let results = vec![(case(System::Streamz), vec![f(3e6)]), (case(System::Raw), vec![f(f64::NAN)])];
        write(&dir.path().join("c.png"), &results).unwrap();
        let bytes = std::fs::read(dir.path().join("c.png")).unwrap();
        assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.ends_with(&crc32(b"IEND").to_be_bytes()));
    }

    #[test]
    fn every_glyph_has_seven_rows_of_five() {
        for (c, rows) in FONT {
            let shape: Vec<usize> = rows.split(' ').map(str::len).collect();
            assert_eq!(shape, vec![5; 7], "glyph {c:?}");
        }
    }
}
