//! The values flags take, as clap sees them (names, help per value), each
//! mapped onto the library's own type: clap's derives stay in `cli/`.

use std::time::Duration;

use clap::ValueEnum;

use crate::bench::Strategy;
use crate::count;
use crate::decode::Encoding;
use crate::render::jsonpath::{Columns, Template};
use crate::report::sort::SortBy;
use crate::source::informer::InitialList;

pub use count::Output;

/// `-o`: table, wide, json, yaml, csv, or kubectl's `jsonpath=TEMPLATE`,
/// `jsonpath-file=PATH`, `custom-columns=SPEC`, `custom-columns-file=PATH`;
/// a template is parsed here, so a bad one is a usage error before any request.
#[derive(Clone, Copy, Debug)]
pub struct OutputParser;

const OUTPUTS: [&str; 9] =
    ["table", "wide", "json", "yaml", "csv", "jsonpath=", "jsonpath-file=", "custom-columns=", "custom-columns-file="];

impl Output {
    pub fn parse(s: &str) -> Result<Output, String> {
        let (format, arg) = match s.split_once('=') {
            Some((f, a)) => (f, Some(a)),
            None => (s, None),
        };
        let file = |path: &str| std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"));
        Ok(match (format, arg) {
            ("table", None) => Output::Table,
            ("wide", None) => Output::Wide,
            ("json", None) => Output::Json,
            ("yaml", None) => Output::Yaml,
            ("csv", None) => Output::Csv,
            ("jsonpath" | "jsonpath-file" | "custom-columns" | "custom-columns-file", None | Some("")) => {
                return Err(format!("{format} needs a template: -o {format}=..."));
            }
            ("jsonpath", Some(t)) => Output::JsonPath(parse_jsonpath(t)?),
            ("jsonpath-file", Some(p)) => Output::JsonPath(parse_jsonpath(&file(p)?)?),
            ("custom-columns", Some(spec)) => Output::CustomColumns(Columns::from_spec(spec)?),
            ("custom-columns-file", Some(p)) => Output::CustomColumns(Columns::from_file_text(&file(p)?)?),
            _ => {
                return Err("one of table, wide, json, yaml, csv, jsonpath=TEMPLATE, jsonpath-file=PATH, \
                     custom-columns=SPEC, custom-columns-file=PATH"
                    .into());
            }
        })
    }
}

fn parse_jsonpath(t: &str) -> Result<Template, String> {
    Template::parse(t).map_err(|e| format!("error parsing jsonpath {t}, {e}"))
}

impl clap::builder::TypedValueParser for OutputParser {
    type Value = Output;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<Output, clap::Error> {
        let parse = |s: &str| Output::parse(s);
        clap::builder::TypedValueParser::parse_ref(&parse, cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(OUTPUTS.iter().map(|v| clap::builder::PossibleValue::new(*v))))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum MethodChoice {
    #[default]
    Auto,
    Objects,
    Table,
}

/// `--listen-auth`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ListenAuth {
    /// Anyone who reaches the address (the loopback default)
    #[default]
    None,
    /// Bearer tokens checked by TokenReview, RBAC by SubjectAccessReview, over TLS
    Kubernetes,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum WatchOutput {
    /// The table once synced, then one line per changed node
    #[default]
    Table,
    /// One JSON object per line: changes and state events
    Jsonl,
}

/// `--sort-by`: a named order or a resource name. Completion offers the
/// named orders and the usual resources; any resource name parses.
#[derive(Clone, Copy, Debug, Default)]
pub struct SortParser;

impl clap::builder::TypedValueParser for SortParser {
    type Value = SortBy;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<SortBy, clap::Error> {
        // clap's own wording: invalid value 'X' for '--sort-by <ORDER>': why.
        let parse = |s: &str| SortBy::parse(s);
        clap::builder::TypedValueParser::parse_ref(&parse, cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        let named = SortBy::NAMED.iter().map(|(n, _)| *n);
        let resources = ["cpu", "memory", "ephemeral-storage", "nvidia.com/gpu"];
        Some(Box::new(named.chain(resources).map(clap::builder::PossibleValue::new)))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Wire {
    /// Kubernetes protobuf, as kube-scheduler and kubelet read pods (JSON
    /// when the server or a proxy cannot)
    #[default]
    Protobuf,
    /// JSON
    Json,
}

impl From<Wire> for Encoding {
    fn from(w: Wire) -> Self {
        match w {
            Wire::Protobuf => Encoding::Protobuf,
            Wire::Json => Encoding::Json,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum Initial {
    /// A paginated List, then a watch from its resourceVersion
    #[default]
    Paged,
    /// WatchList: one watch that starts with every object (sendInitialEvents);
    /// falls back to paged when the server refuses it
    Stream,
}

impl From<Initial> for InitialList {
    fn from(i: Initial) -> Self {
        match i {
            Initial::Paged => InitialList::Paged,
            Initial::Stream => InitialList::Stream,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// The floor: the same paged requests as list, bytes read and thrown away
    Floor,
    /// The floor of the Table path: table's requests, bytes thrown away
    FloorTable,
    List,
    ListCached,
    PerNode,
    Table,
    Informer,
    InformerStreaming,
    ListResources,
    InformerResources,
    /// The node List as count reads it
    Nodes,
    /// The node List's requests, bytes thrown away
    FloorNodes,
}

impl StrategyArg {
    /// Every strategy, in bench's order (the default of `--strategies`).
    pub fn all() -> Vec<StrategyArg> {
        Strategy::ALL.iter().map(|&s| StrategyArg::from(s)).collect()
    }
}

impl From<StrategyArg> for Strategy {
    fn from(s: StrategyArg) -> Self {
        match s {
            StrategyArg::Floor => Strategy::Floor,
            StrategyArg::FloorTable => Strategy::FloorTable,
            StrategyArg::List => Strategy::List,
            StrategyArg::ListCached => Strategy::ListCached,
            StrategyArg::PerNode => Strategy::PerNode,
            StrategyArg::Table => Strategy::Table,
            StrategyArg::Informer => Strategy::Informer,
            StrategyArg::InformerStreaming => Strategy::InformerStreaming,
            StrategyArg::ListResources => Strategy::ListResources,
            StrategyArg::InformerResources => Strategy::InformerResources,
            StrategyArg::Nodes => Strategy::Nodes,
            StrategyArg::FloorNodes => Strategy::FloorNodes,
        }
    }
}

impl From<Strategy> for StrategyArg {
    fn from(s: Strategy) -> Self {
        match s {
            Strategy::Floor => StrategyArg::Floor,
            Strategy::FloorTable => StrategyArg::FloorTable,
            Strategy::List => StrategyArg::List,
            Strategy::ListCached => StrategyArg::ListCached,
            Strategy::PerNode => StrategyArg::PerNode,
            Strategy::Table => StrategyArg::Table,
            Strategy::Informer => StrategyArg::Informer,
            Strategy::InformerStreaming => StrategyArg::InformerStreaming,
            Strategy::ListResources => StrategyArg::ListResources,
            Strategy::InformerResources => StrategyArg::InformerResources,
            Strategy::Nodes => StrategyArg::Nodes,
            Strategy::FloorNodes => StrategyArg::FloorNodes,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum BenchOutput {
    #[default]
    Table,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Decode {
    /// Also decode full k8s-openapi Pod objects in one list run
    Full,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// `--interval`: a duration, or `0` for every event.
pub fn parse_interval(s: &str) -> Result<Duration, String> {
    if s.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    humantime::parse_duration(s).map_err(|e| format!("{e}; expected a duration such as 1s or 500ms, or 0"))
}

/// `--request-timeout`: None means no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeout(pub Option<Duration>);

pub fn parse_timeout(s: &str) -> Result<Timeout, String> {
    let s = s.trim();
    let d = if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(s.parse().map_err(|_| format!("{s:?} is too large"))?)
    } else {
        humantime::parse_duration(s)
            .map_err(|e| format!("{e}; expected a duration such as 30s, 2m or 1m30s (0 for no limit)"))?
    };
    Ok(Timeout((!d.is_zero()).then_some(d)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The child's `--strategy` is parsed by clap: the library's names must
    /// be clap's.
    #[test]
    fn strategy_names_are_the_flag_values() {
        for s in Strategy::ALL {
            let arg = StrategyArg::from(s);
            assert_eq!(arg.to_possible_value().unwrap().get_name(), s.name());
            assert_eq!(Strategy::from(arg), s);
        }
    }

    #[test]
    fn timeouts() {
        assert_eq!(parse_timeout("0"), Ok(Timeout(None)));
        assert_eq!(parse_timeout("5"), Ok(Timeout(Some(Duration::from_secs(5)))));
        assert_eq!(parse_timeout("1m30s"), Ok(Timeout(Some(Duration::from_secs(90)))));
        assert_eq!(parse_timeout("250ms"), Ok(Timeout(Some(Duration::from_millis(250)))));
        assert!(parse_timeout("x").is_err());
    }
}
