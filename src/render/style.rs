//! The one table style (kubectl's: borderless, left-aligned, three spaces
//! between columns, no trailing blanks) and when colour is on.

use std::io::IsTerminal;

use comfy_table::{CellAlignment, ColumnConstraint, ContentArrangement, Table, presets};

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

/// A cell of a kubectl-style table: its text, and a colour drawn only when
/// colour is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    text: String,
    fg: Option<Color>,
}

/// The colours the tables use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Color {
    Red,
    Yellow,
}

impl Color {
    /// The escape comfy-table (through crossterm) writes for it, so that
    /// coloured lines are the same bytes as before.
    fn code(self) -> &'static str {
        match self {
            Color::Red => "\x1b[38;5;9m",
            Color::Yellow => "\x1b[38;5;11m",
        }
    }
}

/// The escape that ends a foreground colour.
const RESET: &str = "\x1b[39m";

impl Cell {
    pub fn new(text: impl ToString) -> Cell {
        Cell { text: text.to_string(), fg: None }
    }

    pub fn fg(self, color: Color) -> Cell {
        Cell { fg: Some(color), ..self }
    }
}

/// `rows` rows (each from `row(i)`) under `header`, in kubectl's style:
/// left-aligned columns as wide as their widest cell (in terminal columns)
/// and three spaces apart, no trailing blanks; coloured cells (with
/// `color`) carry their padding inside the colour, as comfy-table draws
/// them. Rows are made twice, once for the widths and once to write, so
/// no more than a row is held at a time (5,000 nodes through comfy-table
/// held 7 MB and took most of `-o wide`'s time).
pub fn grid(header: Option<Vec<Cell>>, rows: usize, row: impl Fn(usize) -> Vec<Cell>, color: bool) -> String {
    use unicode_width::UnicodeWidthStr;
    let mut widths: Vec<usize> = Vec::new();
    let mut measure = |cells: &[Cell]| {
        widths.resize(widths.len().max(cells.len()), 0);
        for (w, c) in widths.iter_mut().zip(cells) {
            *w = (*w).max(c.text.width());
        }
    };
    if let Some(h) = &header {
        measure(h);
    }
    for i in 0..rows {
        measure(&row(i));
    }
    let mut out = String::new();
    let mut line = String::new();
    let mut write = |cells: &[Cell]| {
        line.clear();
        for (c, w) in cells.iter().zip(&widths) {
            let fg = c.fg.filter(|_| color);
            if let Some(fg) = fg {
                line.push_str(fg.code());
            }
            line.push_str(&c.text);
            line.extend(std::iter::repeat_n(' ', w - c.text.width() + 3));
            if fg.is_some() {
                line.push_str(RESET);
            }
        }
        out.push_str(&trim_line(&line));
        out.push('\n');
    };
    if let Some(h) = &header {
        write(h);
    }
    for i in 0..rows {
        write(&row(i));
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
        /// The lines are comfy-table's for the same cells, colours included.
        #[test]
        fn a_grid_draws_what_one_table_draws(
            rows in proptest::collection::vec(proptest::collection::vec("[a-z█▏→é ]{0,12}", 3), 0..300),
            header in proptest::bool::ANY,
            color in proptest::bool::ANY,
        ) {
            // The same cells, ours and comfy-table's (the oracle).
            let ours = |i: usize, j: usize| {
                let c = Cell::new(rows[i][j].trim());
                if j == 1 { c.fg(Color::Red) } else if j == 2 && i.is_multiple_of(2) { c.fg(Color::Yellow) } else { c }
            };
            let theirs = |i: usize, j: usize| {
                let c = comfy_table::Cell::new(rows[i][j].trim());
                if j == 1 {
                    c.fg(comfy_table::Color::Red)
                } else if j == 2 && i.is_multiple_of(2) {
                    c.fg(comfy_table::Color::Yellow)
                } else {
                    c
                }
            };
            let names = ["NODE", "PODS", "A LONG HEADER"];
            let head = header.then(|| names.map(Cell::new).to_vec());
            let got = grid(head, rows.len(), |i| (0..3).map(|j| ours(i, j)).collect(), color);
            let mut t = new_table(color);
            if header {
                t.set_header(names);
            }
            for i in 0..rows.len() {
                t.add_row((0..3).map(|j| theirs(i, j)).collect::<Vec<_>>());
            }
            kubectl_columns(&mut t);
            proptest::prop_assert_eq!(got, lines(&t));
        }
    }
}
