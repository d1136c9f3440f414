//! `-o custom-columns`: kubectl's printer (`<none>`, `,`-joined values,
//! the tab writer).

use super::print::go_sprint;
use super::*;

/// `-o custom-columns=HEADER:PATH,...`: one column a `HEADER:PATH`.
#[derive(Clone, Debug, PartialEq)]
pub struct Columns {
    pub(super) columns: Vec<(String, Template)>,
}

impl Columns {
    /// kubectl's `NewCustomColumnsPrinterFromSpec`.
    pub fn from_spec(spec: &str) -> Result<Columns, String> {
        if spec.is_empty() {
            return Err("custom-columns format specified but no custom columns given".into());
        }
        let mut columns = Vec::new();
        for part in spec.split(',') {
            let Some((header, path)) = part.split_once(':') else {
                return Err(format!("unexpected custom-columns spec: {part}, expected <header>:<json-path-expr>"));
            };
            columns.push((header.to_string(), relaxed(path)?));
        }
        Ok(Columns { columns })
    }

    /// kubectl's `NewCustomColumnsPrinterFromTemplate`: a line of headers,
    /// a line of paths, split on white space.
    pub fn from_file_text(text: &str) -> Result<Columns, String> {
        let mut lines = text.lines();
        let headers: Vec<&str> = lines
            .next()
            .ok_or("invalid template, missing header line. Expected format is one line of space separated headers, one line of space separated column specs.")?
            .split_whitespace()
            .collect();
        let specs: Vec<&str> = lines
            .next()
            .ok_or("invalid template, missing spec line. Expected format is one line of space separated headers, one line of space separated column specs.")?
            .split_whitespace()
            .collect();
        if headers.len() != specs.len() {
            return Err(format!(
                "number of headers ({}) and field specifications ({}) don't match",
                headers.len(),
                specs.len()
            ));
        }
        let mut columns = Vec::new();
        for (h, s) in headers.iter().zip(specs) {
            columns.push((h.to_string(), relaxed(s)?));
        }
        Ok(Columns { columns })
    }

    /// The table: a header line unless `no_headers`, then one line a row,
    /// through kubectl's tab writer (min width 6, padding 3).
    pub fn render(&self, rows: &[&Value], no_headers: bool) -> Result<String, String> {
        let mut lines: Vec<Vec<String>> = Vec::new();
        if !no_headers {
            let headers: Vec<&str> = self.columns.iter().map(|c| c.0.as_str()).collect();
            lines.push(headers.join("\t").split('\t').map(String::from).collect());
        }
        for row in rows {
            let mut cells = Vec::new();
            for (_, template) in &self.columns {
                let values = template.find(row)?;
                let mut strings: Vec<String> = Vec::new();
                if values.first().is_none_or(|v| v.is_empty()) {
                    strings.push("<none>".into());
                }
                for group in &values {
                    for v in group {
                        strings.push(go_sprint(v).replace('\x1b', "^[").replace('\r', "\\r"));
                    }
                }
                cells.push(strings.join(","));
            }
            // A tab inside a value starts a new cell, as it does for kubectl.
            lines.push(cells.join("\t").split('\t').map(String::from).collect());
        }
        Ok(tabwrite(&lines))
    }
}

/// kubectl's `RelaxedJSONPathExpression` (`^\{\.?([^{}]+)\}$|^\.?([^{}]+)$`):
/// `a.b`, `.a.b`, `{a.b}`, `{.a.b}` all become `{.a.b}`.
pub(super) fn relaxed(path: &str) -> Result<Template, String> {
    const EXPECTED: &str =
        "unexpected path string, expected a 'name1.name2' or '.name1.name2' or '{name1.name2}' or '{.name1.name2}'";
    if path.is_empty() {
        return Template::parse(path);
    }
    let braced = path.strip_prefix('{').and_then(|p| p.strip_suffix('}'));
    let inner = match braced {
        Some(b) if !b.is_empty() && !b.contains(['{', '}']) => b,
        _ if !path.contains(['{', '}']) => path,
        _ => return Err(EXPECTED.into()),
    };
    // `\.?` gives its dot back when nothing else is left for `[^{}]+`.
    let field = if inner.len() > 1 { inner.strip_prefix('.').unwrap_or(inner) } else { inner };
    Template::parse(&format!("{{.{field}}}"))
}

/// text/tabwriter with kubectl's settings: every cell but a line's last is
/// padded to its column's widest cell plus 3, and at least 6.
pub(super) fn tabwrite(lines: &[Vec<String>]) -> String {
    const MIN_WIDTH: usize = 6;
    const PADDING: usize = 3;
    let mut out = String::new();
    // Columns form blocks of consecutive lines that have a cell there; with
    // a column per line these are computed per block, as tabwriter does.
    let widths = column_widths(lines, 0, lines.len(), 0, MIN_WIDTH, PADDING);
    for (li, line) in lines.iter().enumerate() {
        for (ci, cell) in line.iter().enumerate() {
            if ci + 1 < line.len() {
                let w = widths.get(&(li, ci)).copied().unwrap_or(0);
                out.push_str(cell);
                out.push_str(&" ".repeat(w.saturating_sub(cell.chars().count())));
            } else {
                out.push_str(cell);
            }
        }
        out.push('\n');
    }
    out
}

/// The width of each (line, column) cell that is tab-terminated.
pub(super) fn column_widths(
    lines: &[Vec<String>],
    from: usize,
    to: usize,
    column: usize,
    min: usize,
    padding: usize,
) -> std::collections::HashMap<(usize, usize), usize> {
    let mut widths = std::collections::HashMap::new();
    let mut line = from;
    while line < to {
        if lines[line].len() <= column + 1 {
            line += 1;
            continue;
        }
        let start = line;
        let mut width = min;
        while line < to && lines[line].len() > column + 1 {
            width = width.max(lines[line][column].chars().count() + padding);
            line += 1;
        }
        for l in start..line {
            widths.insert((l, column), width);
        }
        widths.extend(column_widths(lines, start, line, column + 1, min, padding));
    }
    widths
}
