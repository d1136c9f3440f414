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
}
