//! The one table style (kubectl's: borderless, left-aligned, three spaces
//! between columns, no trailing blanks) and when colour is on.

use std::io::IsTerminal;

use comfy_table::{Cell, CellAlignment, ColumnConstraint, ContentArrangement, Table, Width, presets};

/// Colour on a TTY stdout, never with NO_COLOR (any non-empty value).
pub fn color_enabled() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// A borderless table, styled only when `color` is on.
pub fn new_table(color: bool) -> Table {
    let mut t = Table::new();
    t.load_style(presets::NOTHING).set_content_arrangement(ContentArrangement::Disabled);
    if color {
        t.enforce_styling();
    } else {
        t.force_no_tty();
    }
    t
}

/// Left-aligned columns three spaces apart, as kubectl prints them. Call
/// once every row is in (it styles the columns that exist).
pub fn kubectl_columns(t: &mut Table) {
    for col in t.column_iter_mut() {
        col.set_padding((0, 3));
        col.set_cell_alignment(CellAlignment::Left);
        col.set_constraint(ColumnConstraint::ContentWidth);
    }
}

/// Rows a [`grid`] hands comfy-table at a time. comfy-table holds every
/// cell of a table, styled, and the whole drawing: 7 MB at 5,000 nodes,
/// more than everything else `count` holds. A chunk of rows holds a
/// bounded part.
const CHUNK: usize = 250;

/// `rows` rows (each from `row(i)`) under `header`, in kubectl's style, a
/// chunk at a time: the column widths come from a first pass over every
/// chunk, so the lines are those of one table over every row.
pub fn grid(header: Option<Vec<Cell>>, rows: usize, row: impl Fn(usize) -> Vec<Cell>, color: bool) -> String {
    let chunk = |start: usize, widths: Option<&[u16]>| {
        let mut t = new_table(color);
        if start == 0
            && let Some(h) = &header
        {
            t.set_header(h.clone());
        }
        for i in start..rows.min(start + CHUNK) {
            t.add_row(row(i));
        }
        kubectl_columns(&mut t);
        if let Some(widths) = widths {
            for (col, w) in t.column_iter_mut().zip(widths) {
                col.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(*w + 3)));
            }
        }
        t
    };
    let starts = || (0..rows.max(1)).step_by(CHUNK);
    let mut widths: Vec<u16> = Vec::new();
    for start in starts() {
        let w = chunk(start, None).column_max_content_widths();
        widths.resize(widths.len().max(w.len()), 0);
        for (a, b) in widths.iter_mut().zip(w) {
            *a = (*a).max(b);
        }
    }
    let mut out = String::new();
    for start in starts() {
        out.push_str(&lines(&chunk(start, Some(&widths))));
    }
    out
}

/// The table's lines, each ending in a newline and none in blanks.
pub fn lines(t: &Table) -> String {
    let mut out = String::new();
    for line in t.to_string().lines() {
        out.push_str(&trim_line(line));
        out.push('\n');
    }
    out
}

/// A table line without trailing blanks, also where the last cell is
/// coloured (its padding sits inside the colour codes).
fn trim_line(line: &str) -> String {
    let mut end = line.len();
    // Peel trailing escape sequences (`ESC [ ... m`), keeping them.
    while let Some(start) = line[..end].rfind('\x1b').filter(|&s| line[s..end].ends_with('m')) {
        end = start;
    }
    format!("{}{}", line[..end].trim_end(), &line[end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_colour_codes_but_no_trailing_blanks() {
        assert_eq!(trim_line("a   \x1b[39m"), "a\x1b[39m");
        assert_eq!(trim_line("a \x1b[31mb   \x1b[39m\x1b[0m"), "a \x1b[31mb\x1b[39m\x1b[0m");
        let mut t = new_table(false);
        t.set_header(["A", "LONGER"]);
        t.add_row(["xx", ""]);
        kubectl_columns(&mut t);
        assert_eq!(lines(&t), "A    LONGER\nxx\n");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(48))]
        /// Chunked, the lines are those of one table over every row.
        #[test]
        fn a_grid_draws_what_one_table_draws(
            rows in proptest::collection::vec(proptest::collection::vec("[a-z█▏→ ]{0,12}", 3), 0..700),
            header in proptest::bool::ANY,
            color in proptest::bool::ANY,
        ) {
            let cell = |i: usize, j: usize| {
                let c = Cell::new(rows[i][j].trim());
                if color && j == 1 { c.fg(comfy_table::Color::Red) } else { c }
            };
            let head = header.then(|| vec![Cell::new("NODE"), Cell::new("PODS"), Cell::new("A LONG HEADER")]);
            let got = grid(head.clone(), rows.len(), |i| (0..3).map(|j| cell(i, j)).collect(), color);
            let mut t = new_table(color);
            if let Some(h) = head {
                t.set_header(h);
            }
            for i in 0..rows.len() {
                t.add_row((0..3).map(|j| cell(i, j)).collect::<Vec<_>>());
            }
            kubectl_columns(&mut t);
            proptest::prop_assert_eq!(got, lines(&t));
        }
    }
}
