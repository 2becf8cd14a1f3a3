//! An index from resource patterns to the declared resources they match, built once per run:
//! each distinct pattern of the estate is matched against the declared tables (and their
//! destination streams) once, pruned by the literal prefix of its resource segment, so that
//! deciding "which tables does this statement tell apart" is a lookup, not a scan.

use foldhash::HashMap;

use rayon::prelude::*;

use crate::iam::pattern::{Compiled, Tok, Tri, literal_resource_segment, resource_prefix};
use crate::value::Template;

/// How one pattern matches the targets of an index.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Hits {
    /// The targets it may match, with how well, sorted by target; empty when `uniform`.
    pub targets: Vec<(u32, Tri)>,
    /// `Some(tri)`: it matches every target alike, so it tells none of them apart.
    pub(crate) uniform: Option<Tri>,
}

/// Request texts of one kind of target (table ARNs, or destination stream ARNs), with
/// their literal resource segments sorted for prefix lookups.
#[derive(Debug, Default)]
pub(crate) struct TargetIndex {
    /// Per entry: the target id it stands for, and its request text.
    entries: Vec<(u32, Vec<Tok>)>,
    /// (literal resource segment, entry), sorted.
    sorted: Vec<(String, u32)>,
    /// Entries whose text is not an ARN with a literal resource segment: always candidates.
    irregular: Vec<u32>,
}

impl TargetIndex {
    pub fn new(entries: Vec<(u32, Vec<Tok>)>) -> TargetIndex {
        let mut sorted = Vec::new();
        let mut irregular = Vec::new();
        for (k, (_, text)) in entries.iter().enumerate() {
            let k = k as u32;
            match literal_resource_segment(text) {
                Some(seg) => sorted.push((seg, k)),
                None => irregular.push(k),
            }
        }
        sorted.sort();
        TargetIndex {
            entries,
            sorted,
            irregular,
        }
    }

    /// How `pattern` matches every target; `matches` counts the pattern matches run.
    pub fn hits(&self, pattern: &Template, matches: &mut u64) -> Hits {
        if pattern.as_literal() == Some("*") || self.entries.is_empty() {
            let tri = if self.entries.is_empty() { Tri::No } else { Tri::Yes };
            return Hits {
                targets: Vec::new(),
                uniform: Some(tri),
            };
        }
        let candidates: Vec<u32> = match resource_prefix(pattern) {
            Some(prefix) => {
                let start = self.sorted.partition_point(|(s, _)| s.as_str() < prefix.as_str());
                self.sorted[start..]
                    .iter()
                    .take_while(|(s, _)| s.starts_with(prefix.as_str()))
                    .map(|(_, k)| *k)
                    .chain(self.irregular.iter().copied())
                    .collect()
            }
            None => (0..self.entries.len() as u32).collect(),
        };
        let compiled = Compiled::resource(pattern);
        let mut targets: Vec<(u32, Tri)> = Vec::with_capacity(candidates.len());
        for k in candidates {
            let (id, text) = &self.entries[k as usize];
            *matches += 1;
            let tri = compiled.matches(text);
            if tri != Tri::No {
                targets.push((*id, tri));
            }
        }
        targets.sort_by_key(|(id, _)| *id);
        let first = targets.first().map(|(_, t)| *t);
        if targets.is_empty() {
            return Hits {
                targets,
                uniform: Some(Tri::No),
            };
        }
        if targets.len() == self.entries.len() && targets.iter().all(|(_, t)| Some(*t) == first) {
            return Hits {
                targets: Vec::new(),
                uniform: first,
            };
        }
        Hits { targets, uniform: None }
    }
}

/// Every distinct pattern's hits on the tables and on their destination streams.
#[derive(Debug, Default)]
pub(crate) struct PatternIndex {
    by_pattern: HashMap<Template, (Hits, Hits)>,
    /// Pattern matches run while building.
    pub matches: u64,
}

impl PatternIndex {
    /// Matches each pattern once against both indexes (in parallel; the result does not
    /// depend on the thread count).
    pub fn build(patterns: Vec<Template>, tables: &TargetIndex, streams: &TargetIndex) -> PatternIndex {
        let built: Vec<(Template, (Hits, Hits), u64)> = patterns
            .into_par_iter()
            .map(|p| {
                let mut n = 0;
                let t = tables.hits(&p, &mut n);
                let s = streams.hits(&p, &mut n);
                (p, (t, s), n)
            })
            .collect();
        let matches = built.iter().map(|(_, _, n)| n).sum();
        PatternIndex {
            by_pattern: built.into_iter().map(|(p, h, _)| (p, h)).collect(),
            matches,
        }
    }

    /// The hits of a pattern on tables and on destination streams (`None`: not indexed).
    pub fn get(&self, pattern: &Template) -> Option<&(Hits, Hits)> {
        self.by_pattern.get(pattern)
    }
}

/// ARNs that callers' Allow patterns may name (delegating roles, declared groups, the IAM
/// resources permission changes ask about), indexed by their literal resource segments
/// ([`TargetIndex`]): each distinct pattern is matched once, against the targets its
/// literal prefix can name, and its answer kept.
#[derive(Debug, Default)]
pub(crate) struct ArnTargets {
    index: TargetIndex,
    len: usize,
    /// Per pattern: `Some(tri)` where it matches every target alike, and the targets it
    /// may match.
    matched: HashMap<Template, (Option<Tri>, Vec<usize>)>,
}

impl ArnTargets {
    pub fn new<'a>(arns: impl Iterator<Item = &'a Template>) -> ArnTargets {
        let entries: Vec<(u32, Vec<Tok>)> = arns
            .enumerate()
            .map(|(k, arn)| (k as u32, crate::iam::pattern::text_tokens(arn)))
            .collect();
        ArnTargets {
            len: entries.len(),
            index: TargetIndex::new(entries),
            matched: HashMap::default(),
        }
    }

    /// The targets (positions, in order) that `pattern` may match; `matches` counts the
    /// pattern matches run.
    pub fn hits(&mut self, pattern: &Template, matches: &mut u64) -> &[usize] {
        &self.matched(pattern, matches).1
    }

    /// Whether `pattern` matches every target alike (`Some`: how), and the targets it may
    /// match (positions, in order).
    pub fn matched(&mut self, pattern: &Template, matches: &mut u64) -> &(Option<Tri>, Vec<usize>) {
        let (index, len) = (&self.index, self.len);
        self.matched.entry(pattern.clone()).or_insert_with(|| {
            let hits = index.hits(pattern, matches);
            let targets = match hits.uniform {
                Some(Tri::No) => Vec::new(),
                Some(_) => (0..len).collect(),
                None => hits.targets.iter().map(|&(k, _)| k as usize).collect(),
            };
            (hits.uniform, targets)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::pattern::text_tokens;

    fn arn(name: &str) -> Vec<Tok> {
        text_tokens(&Template::lit(format!(
            "arn:aws:dynamodb:us-east-1:123456789012:table/{name}"
        )))
    }

    fn index() -> TargetIndex {
        TargetIndex::new(vec![(0, arn("Orders")), (1, arn("Music")), (2, arn("OrdersArchive"))])
    }

    #[test]
    fn exact_prefix_and_star_patterns() {
        let ix = index();
        let mut n = 0;
        let exact = ix.hits(
            &Template::lit("arn:aws:dynamodb:us-east-1:123456789012:table/Orders"),
            &mut n,
        );
        assert_eq!(exact.targets, vec![(0, Tri::Yes)]);
        assert_eq!(exact.uniform, None);
        // Pruned by the literal prefix: only the two Orders tables are matched at all.
        let before = n;
        let prefix = ix.hits(&Template::lit("arn:aws:dynamodb:*:*:table/Orders*"), &mut n);
        assert_eq!(prefix.targets, vec![(0, Tri::Yes), (2, Tri::Yes)]);
        assert_eq!(n - before, 2);
        let all = ix.hits(&Template::lit("arn:aws:dynamodb:*:*:table/*"), &mut n);
        assert_eq!(all.uniform, Some(Tri::Yes));
        assert!(all.targets.is_empty());
        let none = ix.hits(&Template::lit("arn:aws:kinesis:*:*:stream/*"), &mut n);
        assert_eq!(none.uniform, Some(Tri::No));
        assert_eq!(ix.hits(&Template::lit("*"), &mut n).uniform, Some(Tri::Yes));
    }

    #[test]
    fn arn_targets_answer_each_pattern_once_by_position() {
        let roles: Vec<Template> = ["app", "vault", "app-batch"]
            .iter()
            .map(|n| Template::lit(format!("arn:aws:iam::123456789012:role/{n}")))
            .collect();
        let mut t = ArnTargets::new(roles.iter());
        assert_eq!(t.len, 3);
        let mut n = 0;
        let app = Template::lit("arn:aws:iam::123456789012:role/app*");
        assert_eq!(t.matched(&app, &mut n), &(None, vec![0, 2]));
        let after = n;
        assert_eq!(t.hits(&app, &mut n), &[0, 2]);
        assert_eq!(n, after, "a pattern is matched once");
        assert_eq!(t.matched(&Template::lit("*"), &mut n), &(Some(Tri::Yes), vec![0, 1, 2]));
        let none = Template::lit("arn:aws:iam::123456789012:group/*");
        assert_eq!(t.matched(&none, &mut n), &(Some(Tri::No), vec![]));
    }

    #[test]
    fn a_pattern_that_is_not_an_arn_is_matched_against_every_target() {
        let ix = index();
        let mut n = 0;
        let h = ix.hits(&Template::lit("arn:aws:dynamodb:*"), &mut n);
        assert_eq!(n, 3);
        assert_eq!(h.uniform, Some(Tri::Yes));
    }
}
