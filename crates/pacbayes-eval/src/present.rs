//! The Markdown, LaTeX and terminal views of a tightness table: a selection of columns, numbers
//! rounded by kind (certificates up), long text moved to a key below the table.

use std::collections::BTreeMap;

use crate::columns::{Column, Decimals, Getter};
use crate::style::CheckedStyle;
use crate::{CertificateRecord, Kind, show};

/// The line under a Markdown or LaTeX table.
pub const ROUNDING_NOTE: &str = "Certificates and other upper bounds are rounded up at the precision shown, \
     lower bounds down, other figures to the nearest; table.csv and table.parquet hold every value at \
     full precision.";

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Markdown,
    Latex,
    Terminal,
}

/// A table as cells: headers, rows, and the key of the long texts.
struct Grid {
    headers: Vec<String>,
    text: Vec<bool>,
    rows: Vec<Vec<String>>,
    key: Vec<String>,
}

fn letter(i: usize) -> String {
    let mut s = String::new();
    let mut i = i + 1;
    while i > 0 {
        s.insert(0, char::from(b'a' + ((i - 1) % 26) as u8));
        i = (i - 1) / 26;
    }
    s
}

/// The value of `c` for `r` as shown, rounded by kind.
pub(crate) fn shown(c: &Column, r: &CertificateRecord, decimals: usize) -> String {
    let decimals = match c.decimals {
        Decimals::Setting => decimals,
        Decimals::Fixed(d) => d,
    };
    match c.get {
        Getter::Text(get) => get(r),
        Getter::Keyed { long, .. } => long(r),
        Getter::Count(get) => get(r).to_string(),
        Getter::Real(get) => get(r).map_or_else(|| "–".to_owned(), |x| show(x, c.kind, decimals)),
    }
}

/// Rows (indices) whose certificate is the best of their group, at the precision shown.
fn best_rows(records: &[CertificateRecord], style: &CheckedStyle) -> Vec<bool> {
    let bound = crate::columns::column("bound").expect("the table has a bound column");
    let value = |r: &CertificateRecord| shown(bound, r, style.decimals);
    let group = |r: &CertificateRecord| -> Vec<String> {
        style.group_by.iter().map(|c| shown(c, r, style.decimals)).collect()
    };
    let mut best: BTreeMap<Vec<String>, f64> = BTreeMap::new();
    for r in records {
        let x = r.zero_one.bound;
        best.entry(group(r)).and_modify(|b| *b = b.min(x)).or_insert(x);
    }
    records
        .iter()
        .map(|r| {
            let b = best[&group(r)];
            value(r) == show(b, Kind::UpperBound, style.decimals)
        })
        .collect()
}

fn grid(records: &[CertificateRecord], columns: &[&Column], style: &CheckedStyle, format: Format) -> Grid {
    let escape = |s: &str| match format {
        Format::Markdown => s.replace('|', "\\|"),
        Format::Latex => latex_escape(s),
        Format::Terminal => s.to_owned(),
    };
    let best = if style.bold_best && format != Format::Terminal {
        best_rows(records, style)
    } else {
        vec![false; records.len()]
    };
    let mut keys: Vec<String> = Vec::new();
    let mut rows = Vec::with_capacity(records.len());
    for (r, is_best) in records.iter().zip(best) {
        let mut row = Vec::with_capacity(columns.len());
        for c in columns {
            let cell = match c.get {
                Getter::Keyed { short, long } if !(format == Format::Terminal && style.wide) => {
                    let text = long(r);
                    let i = keys.iter().position(|k| *k == text).unwrap_or_else(|| {
                        keys.push(text);
                        keys.len() - 1
                    });
                    match format {
                        Format::Latex => format!("{}\\textsuperscript{{{}}}", escape(&short(r)), letter(i)),
                        _ => format!("{} ({})", escape(&short(r)), letter(i)),
                    }
                }
                _ => escape(&shown(c, r, style.decimals)),
            };
            let cell = match (is_best && c.name == "bound", format) {
                (true, Format::Markdown) => format!("**{cell}**"),
                (true, Format::Latex) => format!("\\textbf{{{cell}}}"),
                _ => cell,
            };
            row.push(cell);
        }
        rows.push(row);
    }
    let key = keys
        .iter()
        .enumerate()
        .map(|(i, k)| match format {
            Format::Latex => format!("\\textsuperscript{{{}}}~{}", letter(i), latex_escape(k)),
            _ => format!("({}) {}", letter(i), escape(k)),
        })
        .collect();
    let headers = columns
        .iter()
        .map(|c| match format {
            Format::Latex => c.latex.to_owned(),
            _ => c.header.to_owned(),
        })
        .collect();
    Grid { headers, text: columns.iter().map(|c| c.is_text()).collect(), rows, key }
}

/// The Markdown table, its key and the rounding note.
pub(crate) fn markdown(records: &[CertificateRecord], style: &CheckedStyle) -> String {
    let g = grid(records, &style.paper, style, Format::Markdown);
    let mut out = format!("| {} |\n|", g.headers.join(" | "));
    for text in &g.text {
        out.push_str(if *text { "---|" } else { "---:|" });
    }
    out.push('\n');
    for row in &g.rows {
        out.push_str(&format!("| {} |\n", row.join(" | ")));
    }
    out.push('\n');
    for k in &g.key {
        out.push_str(&format!("- {k}\n"));
    }
    if !g.key.is_empty() {
        out.push('\n');
    }
    out.push_str(ROUNDING_NOTE);
    out.push('\n');
    out
}

/// A booktabs `tabular`, followed by its key and the rounding note in a small paragraph.
pub(crate) fn latex(records: &[CertificateRecord], style: &CheckedStyle) -> String {
    let g = grid(records, &style.paper, style, Format::Latex);
    let spec: String = g.text.iter().map(|t| if *t { 'l' } else { 'r' }).collect();
    let mut out = String::from("% Needs \\usepackage{booktabs}.\n");
    out.push_str(&format!(
        "\\begin{{tabular}}{{{spec}}}\n\\toprule\n{} \\\\\n\\midrule\n",
        g.headers.join(" & ")
    ));
    for row in &g.rows {
        out.push_str(&format!("{} \\\\\n", row.join(" & ")));
    }
    out.push_str("\\bottomrule\n\\end{tabular}\n\n\\smallskip\n{\\footnotesize\n");
    for k in &g.key {
        out.push_str(&format!("{k}\\\\\n"));
    }
    out.push_str(&latex_escape(ROUNDING_NOTE));
    out.push_str("\\par}\n");
    out
}

/// The terminal table: aligned columns fitted to the style's width (the widest text column is cut
/// with `…`), unless the style is wide; then the key.
pub(crate) fn terminal(records: &[CertificateRecord], style: &CheckedStyle) -> String {
    let g = grid(records, &style.terminal, style, Format::Terminal);
    let len = |s: &str| s.chars().count();
    let mut widths: Vec<usize> = (0..g.headers.len())
        .map(|i| g.rows.iter().map(|r| len(&r[i])).chain([len(&g.headers[i])]).max().unwrap_or(0))
        .collect();
    let total = |w: &[usize]| w.iter().sum::<usize>() + 2 * w.len().saturating_sub(1);
    if !style.wide {
        while total(&widths) > style.width {
            let widest = (0..widths.len()).filter(|&i| g.text[i] && widths[i] > 8).max_by_key(|&i| widths[i]);
            match widest {
                Some(i) => widths[i] -= 1,
                None => break,
            }
        }
    }
    let fit = |s: &str, w: usize| {
        if len(s) <= w { s.to_owned() } else { s.chars().take(w - 1).chain(['…']).collect() }
    };
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .zip(&g.text)
            .map(|((c, &w), &text)| if text { format!("{:<w$}", fit(c, w)) } else { format!("{c:>w$}") })
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let mut out = format!("{}\n{}\n", line(&g.headers), "-".repeat(total(&widths)));
    for row in &g.rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    for k in &g.key {
        out.push_str(&fit(k, style.width.max(total(&widths))));
        out.push('\n');
    }
    out
}

fn latex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            _ => out.push(c),
        }
    }
    out
}
