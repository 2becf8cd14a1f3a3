//! The registry of `check`'s report formats: each format's command-line name (the one
//! place it is written), what each does with findings `--severity` hides, and [`render`],
//! which makes any of them from an [`Analysis`].

use crate::analysis::Analysis;
use crate::report::github::Links;
use crate::report::human::{self, View};
use crate::report::{ReportError, concise, github, json, junit, sarif};

/// A report format of `check` (`--format`, `--output FORMAT=FILE`).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    Human,
    Json,
    Sarif,
    Github,
    Markdown,
    Junit,
    Concise,
}

impl Format {
    /// Every format, in the order help and messages list them.
    pub const ALL: [Format; 7] = [
        Format::Human,
        Format::Json,
        Format::Sarif,
        Format::Github,
        Format::Markdown,
        Format::Junit,
        Format::Concise,
    ];

    /// The format's command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Format::Human => "human",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
            Format::Markdown => "markdown",
            Format::Junit => "junit",
            Format::Concise => "concise",
        }
    }

    /// The format named `name` (ASCII case ignored, as on the command line).
    pub fn parse(name: &str) -> Result<Format, UnknownFormat> {
        Format::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
            .ok_or_else(|| UnknownFormat(name.to_string()))
    }

    /// Every format's name, comma-separated, for messages.
    pub fn names() -> String {
        Format::ALL.map(Format::name).join(", ")
    }

    /// Whether the format shows what `--severity` hides (in its summary line); the other
    /// formats are rendered after the hidden findings are dropped.
    pub fn shows_hidden(self) -> bool {
        matches!(self, Format::Human | Format::Concise)
    }

    /// Whether `--statistics` (counts per rule) applies: the line-oriented formats.
    pub fn has_statistics(self) -> bool {
        matches!(self, Format::Human | Format::Concise)
    }

    /// Whether a file of this format is appended to rather than overwritten: the Markdown
    /// summary, so several steps may share `$GITHUB_STEP_SUMMARY`.
    pub fn appends(self) -> bool {
        self == Format::Markdown
    }
}

/// A format name that names no format.
#[derive(Debug, thiserror::Error)]
#[error("unknown format {0:?} (one of {names})", names = Format::names())]
pub struct UnknownFormat(pub String);

/// How a report is written: the human and concise style, and where rule pages and the
/// SARIF file are.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    pub style: human::Style<'a>,
    pub links: Links<'a>,
}

/// A rendered report, and what it says on the side (SARIF: what it left out to stay within
/// GitHub's limits), for the front end to show as a warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub note: Option<String>,
}

/// The report of `a` in `format`.
pub fn render(a: &Analysis, format: Format, options: Options<'_>) -> Result<Rendered, ReportError> {
    let Options { style, links } = options;
    let text = match format {
        Format::Json => json::render(a)?,
        Format::Sarif => {
            let (text, note) = sarif::render_noting(a, links.docs_url)?;
            return Ok(Rendered { text, note });
        }
        Format::Github => github::annotations(a, links),
        Format::Markdown => github::summary(a, links),
        Format::Junit => junit::render(a)?,
        // --statistics: the same counts per rule in both line-oriented formats.
        Format::Concise if matches!(style.view, View::Statistics) => human::render(a, style),
        Format::Concise => concise::render(a, style.min_severity, style.color),
        Format::Human => human::render(a, style),
    };
    Ok(Rendered { text, note: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_round_trips_through_its_unique_name() {
        let mut seen = std::collections::BTreeSet::new();
        for f in Format::ALL {
            assert!(seen.insert(f.name()), "{} named twice", f.name());
            assert_eq!(Format::parse(f.name()).ok(), Some(f));
            assert_eq!(Format::parse(&f.name().to_ascii_uppercase()).ok(), Some(f));
        }
        assert_eq!(Format::names(), "human, json, sarif, github, markdown, junit, concise");
    }

    #[test]
    fn an_unknown_name_lists_the_formats() {
        let e = Format::parse("xml").err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("unknown format \"xml\" (one of human, json, sarif, github, markdown, junit, concise)")
        );
    }

    #[test]
    fn only_the_line_oriented_formats_show_hidden_findings_and_only_markdown_appends() {
        let shown: Vec<&str> = Format::ALL
            .into_iter()
            .filter(|f| f.shows_hidden())
            .map(Format::name)
            .collect();
        assert_eq!(shown, ["human", "concise"]);
        let appended: Vec<Format> = Format::ALL.into_iter().filter(|f| f.appends()).collect();
        assert_eq!(appended, [Format::Markdown]);
    }
}
