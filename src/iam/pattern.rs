//! Wildcard matching of actions and ARNs, three-valued, without backtracking.
//!
//! Both sides may contain symbols. A pattern (from a policy) is literal text with `*`/`?`
//! and symbols; a request text (an action name or a resource ARN) is literal text and
//! symbols, plus two quantified names the capability layer uses: [`Tok::Every`] (every
//! name: only a `*` covers it) and [`Tok::Some`] (some name: any possible match will do).
//! Matching is a dynamic programme over (pattern position, text position): O(P·T), with a
//! linear factor only at the few symbol positions, so no pattern can make it explode.

use std::cmp::{max, min};

use crate::iam::context::{Context, Lookup};
use crate::value::{Part, Symbol, Template};

/// Three-valued truth, ordered `No < Maybe < Yes`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, Hash, Default)]
pub enum Tri {
    #[default]
    No,
    Maybe,
    Yes,
}

impl Tri {
    pub fn and(self, other: Tri) -> Tri {
        min(self, other)
    }

    pub fn or(self, other: Tri) -> Tri {
        max(self, other)
    }

    pub(crate) fn negate(self) -> Tri {
        match self {
            Tri::No => Tri::Yes,
            Tri::Maybe => Tri::Maybe,
            Tri::Yes => Tri::No,
        }
    }

    pub(crate) fn from_bool(b: bool) -> Tri {
        if b { Tri::Yes } else { Tri::No }
    }
}

/// One token of a request text.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum Tok {
    Char(char),
    /// The run's account, region, partition or URL suffix (unpinned).
    Pseudo(Symbol),
    /// An unresolved value with an identity (equal ids are the same value).
    Opaque(String),
    /// Every possible name: covered only by a `*`.
    Every,
    /// Some name: covered by anything that could match.
    Some,
}

/// One token of a pattern.
#[derive(Clone, PartialEq, Eq, Debug)]
enum PTok {
    Char(char),
    Star,
    Question,
    Pseudo(Symbol),
    Opaque(String),
}

/// Turns a request template into tokens (symbols become pseudo or opaque tokens).
pub(crate) fn text_tokens(t: &Template) -> Vec<Tok> {
    let mut out = Vec::new();
    for part in t.parts() {
        match part {
            Part::Lit(s) => out.extend(s.chars().map(Tok::Char)),
            Part::Sym(Symbol::Opaque(o)) => out.push(Tok::Opaque(o.id.clone())),
            Part::Sym(s) => out.push(Tok::Pseudo(s.clone())),
        }
    }
    out
}

fn pattern_tokens(t: &Template, fold_case: bool) -> Vec<PTok> {
    let mut out = Vec::new();
    for part in t.parts() {
        match part {
            Part::Lit(s) => push_literal(&mut out, s, fold_case, true),
            Part::Sym(s) => push_symbol(&mut out, s),
        }
    }
    finish(out)
}

fn push_literal(out: &mut Vec<PTok>, s: &str, fold_case: bool, wildcards: bool) {
    for c in s.chars() {
        out.push(match c {
            '*' if wildcards => PTok::Star,
            '?' if wildcards => PTok::Question,
            c if fold_case => PTok::Char(c.to_ascii_lowercase()),
            c => PTok::Char(c),
        });
    }
}

fn push_symbol(out: &mut Vec<PTok>, s: &Symbol) {
    match s {
        Symbol::Opaque(o) => out.push(PTok::Opaque(o.id.clone())),
        s => out.push(PTok::Pseudo(s.clone())),
    }
}

fn finish(mut out: Vec<PTok>) -> Vec<PTok> {
    // `**` is `*`: collapsing keeps the programme small.
    out.dedup_by(|a, b| *a == PTok::Star && *b == PTok::Star);
    out
}

/// How a string pattern compares (condition operators and resource elements).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Every character literal, case-sensitive (`StringEquals`).
    Exact,
    /// Every character literal, ASCII case folded (`StringEqualsIgnoreCase`).
    IgnoreCase,
    /// `*` and `?` are wildcards, case-sensitive (`StringLike`, resources, ARNs).
    Like,
}

/// The result of expanding policy variables in a pattern.
enum Expanded {
    /// The pattern, with the names of the variables whose value is not known.
    Pattern(Vec<PTok>, Vec<String>),
    /// A variable is known to be absent and has no default: the pattern matches nothing.
    Missing,
}

/// The longest policy variable expression looked at; longer `${...}` runs stay literal.
const MAX_VARIABLE_LEN: usize = 256;

/// Builds a pattern from a policy string. With `vars` (Version 2012-10-17), `${key}` is
/// replaced by the context's value of `key` (`${key, 'default'}` when the key is absent),
/// and `${*}`, `${?}`, `${$}` stand for the literal characters. A key whose value is not
/// known becomes an unknown piece (the match is at best `Maybe`).
fn expand(t: &Template, mode: Mode, vars: Option<&Context>) -> Expanded {
    let fold = mode == Mode::IgnoreCase;
    let wild = mode == Mode::Like;
    let mut out = Vec::new();
    let mut unknown = Vec::new();
    for part in t.parts() {
        match part {
            Part::Lit(s) => {
                let Some(ctx) = vars else {
                    push_literal(&mut out, s, fold, wild);
                    continue;
                };
                let mut rest = s.as_str();
                while let Some(start) = rest.find("${") {
                    let after = &rest[start + 2..];
                    let Some(end) = after.find('}').filter(|e| *e <= MAX_VARIABLE_LEN) else {
                        break;
                    };
                    push_literal(&mut out, &rest[..start], fold, wild);
                    let inner = &after[..end];
                    rest = &after[end + 1..];
                    match variable(inner, ctx) {
                        Var::Chars(text) => push_literal(&mut out, &text, fold, false),
                        Var::Value(v) => {
                            for p in v.parts() {
                                match p {
                                    Part::Lit(s) => push_literal(&mut out, s, fold, false),
                                    Part::Sym(s) => push_symbol(&mut out, s),
                                }
                            }
                        }
                        Var::Unknown(name) => {
                            out.push(PTok::Opaque(format!("${{{name}}}")));
                            unknown.push(name);
                        }
                        Var::Missing => return Expanded::Missing,
                    }
                }
                push_literal(&mut out, rest, fold, wild);
            }
            Part::Sym(s) => push_symbol(&mut out, s),
        }
    }
    Expanded::Pattern(finish(out), unknown)
}

enum Var {
    Chars(String),
    Value(Template),
    Unknown(String),
    Missing,
}

fn variable(inner: &str, ctx: &Context) -> Var {
    match inner.trim() {
        "*" => return Var::Chars("*".into()),
        "?" => return Var::Chars("?".into()),
        "$" => return Var::Chars("$".into()),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d.strip_prefix('\'').and_then(|d| d.strip_suffix('\'')).unwrap_or(d);
            (k.trim(), Some(d.to_string()))
        }
        None => (inner.trim(), None),
    };
    match ctx.lookup(key) {
        Lookup::Present([one]) => Var::Value(one.clone()),
        Lookup::Present(_) => Var::Unknown(key.to_string()),
        Lookup::Absent => match default {
            Some(d) => Var::Chars(d),
            None => Var::Missing,
        },
        Lookup::Unknown => Var::Unknown(key.to_string()),
    }
}

/// Matches a string pattern against a value as whole strings (no ARN segmenting).
pub(crate) fn match_string(
    pattern: &Template,
    value: &Template,
    mode: Mode,
    vars: Option<&Context>,
) -> (Tri, Vec<String>) {
    if vars.is_none()
        && let (Some(p), Some(v)) = (pattern.as_literal(), value.as_literal())
    {
        // The common case, without building token lists.
        match mode {
            Mode::Exact => return (Tri::from_bool(p == v), Vec::new()),
            Mode::IgnoreCase => return (Tri::from_bool(p.eq_ignore_ascii_case(v)), Vec::new()),
            Mode::Like if !p.contains(['*', '?']) => return (Tri::from_bool(p == v), Vec::new()),
            Mode::Like => {}
        }
    }
    match expand(pattern, mode, vars) {
        Expanded::Missing => (Tri::No, Vec::new()),
        Expanded::Pattern(p, unknown) => {
            let mut t = text_tokens(value);
            if mode == Mode::IgnoreCase {
                fold_text(&mut t);
            }
            (glob(&p, &t), unknown)
        }
    }
}

/// A pattern compared with values as a whole string in [`Mode::Exact`], compiled once:
/// [`ExactPattern::matches`] gives what `match_string(pattern, value, Mode::Exact, None)`
/// gives, without building the pattern's tokens on every comparison.
#[derive(Clone, Debug)]
pub(crate) struct ExactPattern {
    literal: Option<String>,
    tokens: Option<Vec<PTok>>,
}

impl ExactPattern {
    pub fn new(pattern: &Template) -> ExactPattern {
        ExactPattern {
            literal: pattern.as_literal().map(str::to_string),
            tokens: match expand(pattern, Mode::Exact, None) {
                Expanded::Pattern(p, _) => Some(p),
                Expanded::Missing => None,
            },
        }
    }

    /// Whether `value` (whose [`text_tokens`] are `value_tokens`) is the pattern's text.
    pub fn matches(&self, value: &Template, value_tokens: &[Tok]) -> Tri {
        if let (Some(p), Some(v)) = (&self.literal, value.as_literal()) {
            return Tri::from_bool(p == v);
        }
        match &self.tokens {
            Some(p) => glob(p, value_tokens),
            None => Tri::No,
        }
    }
}

/// Matches a resource (or ARN condition) pattern with policy variables expanded.
pub(crate) fn match_resource_with(pattern: &Template, resource: &[Tok], vars: Option<&Context>) -> (Tri, Vec<String>) {
    if vars.is_none() || pattern.as_literal().is_some_and(|s| !s.contains("${")) {
        return (match_resource(pattern, resource), Vec::new());
    }
    match expand(pattern, Mode::Like, vars) {
        Expanded::Missing => (Tri::No, Vec::new()),
        Expanded::Pattern(p, unknown) => (match_arn_tokens(&p, resource), unknown),
    }
}

fn fold_text(t: &mut [Tok]) {
    for tok in t {
        if let Tok::Char(c) = tok {
            *c = c.to_ascii_lowercase();
        }
    }
}

/// Matches an action pattern against an action name, case-insensitively.
pub(crate) fn match_action(pattern: &Template, action: &str) -> Tri {
    // Nearly every action pattern is plain text: match it without building tokens (this is
    // the evaluator's hottest path, as bundled policies list thousands of actions).
    if let Some(literal) = pattern.as_literal() {
        return Tri::from_bool(wildcard_match_ignore_case(literal.as_bytes(), action.as_bytes()));
    }
    let p = pattern_tokens(pattern, true);
    let t: Vec<Tok> = action.chars().map(|c| Tok::Char(c.to_ascii_lowercase())).collect();
    glob(&p, &t)
}

/// `*`/`?` wildcard matching of plain ASCII-case-insensitive text. Greedy with one
/// remembered star: O(len(p) × len(t)) at worst, never exponential.
fn wildcard_match_ignore_case(p: &[u8], t: &[u8]) -> bool {
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        match p.get(i) {
            Some(b'*') => {
                star = Some((i, j));
                i += 1;
            }
            Some(&c) if c == b'?' || c.eq_ignore_ascii_case(&t[j]) => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((si, sj)) => {
                    i = si + 1;
                    j = sj + 1;
                    star = Some((si, sj + 1));
                }
                None => return false,
            },
        }
    }
    p[i..].iter().all(|&c| c == b'*')
}

/// Matches a resource pattern against a request resource, case-sensitively, ARN segment
/// by segment when both are ARN-shaped (six `:`-separated parts), else as whole strings.
pub(crate) fn match_resource(pattern: &Template, resource: &[Tok]) -> Tri {
    if pattern.as_literal() == Some("*") {
        return Tri::Yes;
    }
    let p = pattern_tokens(pattern, false);
    match_arn_tokens(&p, resource)
}

/// The literal text a pattern's resource segment (the sixth `:`-part of an ARN) starts
/// with, before any wildcard or symbol; `None` when the pattern is not ARN-shaped. Every
/// ARN-shaped request text the pattern matches has a literal resource segment with this
/// prefix, or a resource segment that is not all literal (so an index can prune by it).
pub(crate) fn resource_prefix(pattern: &Template) -> Option<String> {
    let p = pattern_tokens(pattern, false);
    let segs = split_arn(&p, |t| matches!(t, PTok::Char(':')))?;
    let mut out = String::new();
    for t in segs[ARN_SEGMENTS - 1] {
        match t {
            PTok::Char(c) => out.push(*c),
            _ => break,
        }
    }
    Some(out)
}

/// The resource segment of a request text when it is ARN-shaped and all literal.
pub(crate) fn literal_resource_segment(text: &[Tok]) -> Option<String> {
    let segs = split_arn(text, |t| matches!(t, Tok::Char(':')))?;
    segs[ARN_SEGMENTS - 1]
        .iter()
        .map(|t| match t {
            Tok::Char(c) => Some(*c),
            _ => None,
        })
        .collect()
}

/// The text before the resource segment (`arn:partition:service:region:account:`), for
/// grouping request texts that only their resource segment tells apart.
pub(crate) fn arn_head(text: &[Tok]) -> Option<Vec<Tok>> {
    let segs = split_arn(text, |t| matches!(t, Tok::Char(':')))?;
    let head_len = text.len() - segs[ARN_SEGMENTS - 1].len();
    Some(text[..head_len].to_vec())
}

/// A request text standing for "a resource this pattern matches": literal characters stay,
/// each wildcard becomes [`Tok::Some`]. Used to test whether several patterns can match one
/// and the same resource. `None` when the pattern is not ARN-shaped.
pub fn witness(pattern: &Template) -> Option<Vec<Tok>> {
    let p = pattern_tokens(pattern, false);
    split_arn(&p, |t| matches!(t, PTok::Char(':')))?;
    let mut out: Vec<Tok> = Vec::with_capacity(p.len());
    for t in p {
        let tok = match t {
            PTok::Char(c) => Tok::Char(c),
            PTok::Star | PTok::Question => Tok::Some,
            PTok::Pseudo(s) => Tok::Pseudo(s),
            PTok::Opaque(o) => Tok::Opaque(o),
        };
        if !(tok == Tok::Some && out.last() == Some(&Tok::Some)) {
            out.push(tok);
        }
    }
    Some(out)
}

/// A resource pattern compiled once: its tokens and where its ARN segments are, ready for
/// [`Compiled::matches`].
#[derive(Clone, Debug, PartialEq)]
pub struct Compiled {
    toks: Vec<PTok>,
    split: Option<ArnSplit>,
}

impl Compiled {
    pub fn resource(pattern: &Template) -> Compiled {
        let toks = if pattern.as_literal() == Some("*") {
            vec![PTok::Star]
        } else {
            pattern_tokens(pattern, false)
        };
        let split = ArnSplit::bounds(&toks, |t| matches!(t, PTok::Char(':')));
        Compiled { toks, split }
    }

    /// Same answer as [`match_resource`] on the pattern it was compiled from.
    pub fn matches(&self, resource: &[Tok]) -> Tri {
        match_arn_split(&self.toks, || self.split, resource, || ArnSplit::of(resource))
    }

    /// [`Compiled::matches`] on a resource split once for many patterns (`split` gives
    /// [`ArnSplit::of`] the resource, asked only when the quick checks do not decide).
    pub(crate) fn matches_split(&self, resource: &[Tok], split: impl FnOnce() -> Option<ArnSplit>) -> Tri {
        match_arn_split(&self.toks, || self.split, resource, split)
    }
}

/// Where the six segments of an ARN-shaped text are (start and end of each, the `:`
/// between them left out): found once, read by every pattern matched against the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ArnSplit([(u32, u32); ARN_SEGMENTS]);

impl ArnSplit {
    /// The split of a request text, if it has the five separators of an ARN.
    pub fn of(text: &[Tok]) -> Option<ArnSplit> {
        Self::bounds(text, |t| matches!(t, Tok::Char(':')))
    }

    /// Splits at the first five separators into exactly six segments, if there are five.
    fn bounds<T>(toks: &[T], is_sep: impl Fn(&T) -> bool) -> Option<ArnSplit> {
        let mut segs = [(0u32, 0u32); ARN_SEGMENTS];
        let mut start = 0;
        let mut k = 0;
        for (i, t) in toks.iter().enumerate() {
            if k + 1 < ARN_SEGMENTS && is_sep(t) {
                segs[k] = (start, i as u32);
                k += 1;
                start = i as u32 + 1;
            }
        }
        if k + 1 != ARN_SEGMENTS {
            return None;
        }
        segs[k] = (start, toks.len() as u32);
        Some(ArnSplit(segs))
    }

    /// Segment `k` of the text it was found on.
    fn segment<'t, T>(&self, toks: &'t [T], k: usize) -> &'t [T] {
        let (a, b) = self.0[k];
        &toks[a as usize..b as usize]
    }
}

fn match_arn_tokens(p: &[PTok], resource: &[Tok]) -> Tri {
    match_arn_split(
        p,
        || ArnSplit::bounds(p, |t| matches!(t, PTok::Char(':'))),
        resource,
        || ArnSplit::of(resource),
    )
}

/// Matches pattern tokens against a resource, ARN segment by segment when both are
/// ARN-shaped. The splits are asked for only past the quick rejection (`p_split` and
/// `t_split` give [`ArnSplit::bounds`] of `p` and of `resource`).
fn match_arn_split(
    p: &[PTok],
    p_split: impl FnOnce() -> Option<ArnSplit>,
    resource: &[Tok],
    t_split: impl FnOnce() -> Option<ArnSplit>,
) -> Tri {
    if matches!(p, [PTok::Star]) {
        return Tri::Yes;
    }
    // A pattern ending in a plain character matches only texts ending in the same one,
    // whichever way both split (`glob` pairs off plain characters at the ends). Most
    // statements name other tables than the one asked about: this ends them before the
    // split. `:` is left out, as it may end a segment rather than the resource.
    if let (Some(PTok::Char(a)), Some(Tok::Char(b))) = (p.last(), resource.last())
        && a != b
        && *a != ':'
        && *b != ':'
    {
        return Tri::No;
    }
    match (p_split(), t_split()) {
        (Some(ps), Some(ts)) => {
            // The resource segment first: it is where patterns of one account differ, and
            // `and` is a minimum, so the order only decides how soon a `No` ends the loop.
            let mut acc = Tri::Yes;
            for k in [ARN_SEGMENTS - 1, 0, 1, 2, 3, 4] {
                acc = acc.and(glob(ps.segment(p, k), ts.segment(resource, k)));
                if acc == Tri::No {
                    break;
                }
            }
            acc
        }
        _ => glob(p, resource),
    }
}

/// Splits at the first five separators into exactly six segments, if there are five.
fn split_arn<T>(toks: &[T], is_sep: impl Fn(&T) -> bool) -> Option<[&[T]; ARN_SEGMENTS]> {
    let split = ArnSplit::bounds(toks, is_sep)?;
    Some(std::array::from_fn(|k| split.segment(toks, k)))
}

/// An ARN has six `:`-separated parts (the last may contain more `:`).
const ARN_SEGMENTS: usize = 6;

/// The dynamic programme: `dp[i][j]` is how well `p[i..]` matches `t[j..]`.
fn glob(p: &[PTok], t: &[Tok]) -> Tri {
    // Where both sides hold plain characters at an end, they must pair off one to one (a
    // character never covers a symbol of the text there): trim them before the programme.
    let mut p = p;
    let mut t = t;
    while let (Some(PTok::Char(a)), Some(Tok::Char(b))) = (p.first(), t.first()) {
        if a != b {
            return Tri::No;
        }
        p = &p[1..];
        t = &t[1..];
    }
    while let (Some(PTok::Char(a)), Some(Tok::Char(b))) = (p.last(), t.last()) {
        if a != b {
            return Tri::No;
        }
        p = &p[..p.len() - 1];
        t = &t[..t.len() - 1];
    }
    if (p.is_empty() && t.is_empty()) || matches!(p, [PTok::Star]) {
        return Tri::Yes;
    }
    if same_tokens(p, t) {
        return Tri::Yes;
    }
    match glob_plain(p, t) {
        Some(yes) => Tri::from_bool(yes),
        None => glob_table(p, t),
    }
}

/// Whether the pattern, with no wildcard, names exactly the text's tokens (the same
/// characters, symbols and unresolved values, in order): a certain match.
fn same_tokens(p: &[PTok], t: &[Tok]) -> bool {
    p.len() == t.len()
        && p.iter().zip(t).all(|pair| match pair {
            (PTok::Char(a), Tok::Char(b)) => a == b,
            (PTok::Pseudo(a), Tok::Pseudo(b)) => a == b,
            (PTok::Opaque(a), Tok::Opaque(b)) => a == b,
            _ => false,
        })
}

/// [`glob`] where the pattern holds only characters and wildcards and the text only
/// characters (`None` otherwise): the answer is yes or no, found by the two-pointer
/// wildcard match (back to the last star on a mismatch), without the table.
fn glob_plain(p: &[PTok], t: &[Tok]) -> Option<bool> {
    let plain_p = p
        .iter()
        .all(|x| matches!(x, PTok::Char(_) | PTok::Star | PTok::Question));
    if !plain_p || !t.iter().all(|x| matches!(x, Tok::Char(_))) {
        return None;
    }
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        let one = match (p.get(i), &t[j]) {
            (Some(PTok::Question), _) => true,
            (Some(PTok::Char(a)), Tok::Char(b)) => a == b,
            _ => false,
        };
        if one {
            i += 1;
            j += 1;
        } else if matches!(p.get(i), Some(PTok::Star)) {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            // The last star takes one more character.
            star = Some((si, sj + 1));
            i = si + 1;
            j = sj + 1;
        } else {
            return Some(false);
        }
    }
    Some(p[i..].iter().all(|x| matches!(x, PTok::Star)))
}

fn glob_table(p: &[PTok], t: &[Tok]) -> Tri {
    let (np, nt) = (p.len(), t.len());
    let width = nt + 1;
    let mut dp = vec![Tri::No; (np + 1) * width];
    let at = |i: usize, j: usize| i * width + j;
    dp[at(np, nt)] = Tri::Yes;
    for i in (0..=np).rev() {
        for j in (0..=nt).rev() {
            if i == np && j == nt {
                continue;
            }
            let mut best = Tri::No;
            if i < np {
                match &p[i] {
                    PTok::Star => {
                        best = best.or(dp[at(i + 1, j)]);
                        if j < nt {
                            // A star swallows any one token, symbols included, wholly.
                            best = best.or(dp[at(i, j + 1)]);
                        }
                    }
                    PTok::Question if j < nt => {
                        let one = match &t[j] {
                            Tok::Char(_) => Tri::Yes,
                            Tok::Pseudo(_) | Tok::Opaque(_) => Tri::Maybe,
                            Tok::Some => Tri::Yes,
                            Tok::Every => Tri::No,
                        };
                        best = best.or(one.and(dp[at(i + 1, j + 1)]));
                    }
                    PTok::Char(c) if j < nt && matches!(t[j], Tok::Char(d) if d == *c) => {
                        best = best.or(dp[at(i + 1, j + 1)]);
                    }
                    PTok::Pseudo(s) => {
                        if j < nt && matches!(&t[j], Tok::Pseudo(x) if x == s) {
                            best = best.or(dp[at(i + 1, j + 1)]);
                        }
                        // Unpinned, the run's account/region/partition is whatever the text names.
                        for k in j..nt {
                            let step = match &t[k] {
                                Tok::Char(':') => break,
                                Tok::Char(_) => Tri::Yes,
                                Tok::Opaque(_) | Tok::Some => Tri::Maybe,
                                Tok::Pseudo(_) | Tok::Every => break,
                            };
                            best = best.or(step.and(dp[at(i + 1, k + 1)]));
                        }
                    }
                    PTok::Opaque(id) => {
                        if j < nt && matches!(&t[j], Tok::Opaque(x) if x == id) {
                            best = best.or(dp[at(i + 1, j + 1)]);
                        }
                        // An unknown pattern piece could stand for any run of the text.
                        for k in j..=nt {
                            if k > j && matches!(t[k - 1], Tok::Every) {
                                break;
                            }
                            best = best.or(Tri::Maybe.and(dp[at(i + 1, k)]));
                        }
                    }
                    _ => {}
                }
            }
            if j < nt && best != Tri::Yes {
                // A symbol in the text can be covered by a run of literal pattern tokens.
                let covered = match &t[j] {
                    Tok::Pseudo(_) => Some(Tri::Yes),
                    Tok::Opaque(_) => Some(Tri::Maybe),
                    Tok::Some => Some(Tri::Yes),
                    Tok::Char(_) | Tok::Every => None,
                };
                if let Some(strength) = covered {
                    let allow_empty = matches!(t[j], Tok::Opaque(_) | Tok::Some);
                    for k in i..=np {
                        if k > i && !matches!(p[k - 1], PTok::Char(_) | PTok::Question) {
                            break;
                        }
                        if k == i && !allow_empty {
                            continue;
                        }
                        if matches!(t[j], Tok::Pseudo(_)) && k > i && p[k - 1] == PTok::Char(':') {
                            break;
                        }
                        best = best.or(strength.and(dp[at(k, j + 1)]));
                    }
                }
            }
            dp[at(i, j)] = best;
        }
    }
    dp[at(0, 0)]
}

#[cfg(test)]
mod fast_path_tests {
    use super::*;

    #[test]
    fn the_literal_fast_path_agrees_with_the_token_programme() {
        let cases = [
            ("dynamodb:*", "dynamodb:DisableKinesisStreamingDestination"),
            ("DynamoDB:disable*", "dynamodb:DisableKinesisStreamingDestination"),
            (
                "dynamodb:?nable*Destination",
                "dynamodb:EnableKinesisStreamingDestination",
            ),
            ("*:*", "kinesis:PutRecords"),
            ("kinesis:PutRecord", "kinesis:PutRecords"),
            ("kinesis:*Record?", "kinesis:PutRecords"),
            ("*a*a*b", "aaaaaaaaaaaaaaaaaaaa"),
            ("", ""),
            ("*", ""),
            ("a*", "b"),
        ];
        for (p, t) in cases {
            let slow = glob(
                &pattern_tokens(&Template::lit(p), true),
                &text_tokens(&Template::lit(t.to_ascii_lowercase())),
            );
            assert_eq!(match_action(&Template::lit(p), t), slow, "{p} vs {t}");
        }
    }

    /// `match_arn_tokens` without its shortcuts: every segment matched, in order.
    fn arn_reference(p: &[PTok], t: &[Tok]) -> Tri {
        let p_segs = split_arn(p, |x| matches!(x, PTok::Char(':')));
        let t_segs = split_arn(t, |x| matches!(x, Tok::Char(':')));
        match (p_segs, t_segs) {
            (Some(ps), Some(ts)) => ps
                .iter()
                .zip(ts.iter())
                .fold(Tri::Yes, |acc, (a, b)| acc.and(glob(a, b))),
            _ => glob(p, t),
        }
    }

    #[test]
    fn an_arn_splits_at_its_first_five_separators() {
        let t = text_tokens(&Template::lit("arn:aws:dynamodb:us-east-1:1:table/a:b"));
        let split = ArnSplit::of(&t).expect("ARN-shaped");
        let seg = |k: usize| {
            split
                .segment(&t, k)
                .iter()
                .map(|x| format!("{x:?}"))
                .collect::<String>()
        };
        assert_eq!(seg(4), format!("{:?}", Tok::Char('1')));
        assert_eq!(split.segment(&t, 5).len(), "table/a:b".len());
        assert_eq!(split.segment(&t, 3).len(), "us-east-1".len());
        assert!(ArnSplit::of(&text_tokens(&Template::lit("arn:aws:s3::b"))).is_none());
        assert!(ArnSplit::of(&text_tokens(&Template::lit("arn:aws:s3:::"))).is_some());
    }

    #[test]
    fn the_resource_shortcuts_agree_with_every_segment_matched() {
        let table = "arn:aws:dynamodb:us-east-1:111122223333:table/orders";
        let cases = [
            ("arn:aws:dynamodb:us-east-1:111122223333:table/orders", table),
            ("arn:aws:dynamodb:us-east-1:111122223333:table/order", table),
            ("arn:aws:dynamodb:us-east-1:111122223333:table/ordert", table),
            ("arn:aws:dynamodb:us-east-1:111122223333:table/*", table),
            ("arn:aws:dynamodb:us-east-1:444455556666:table/orders", table),
            ("arn:aws:dynamodb:*:*:table/orders", table),
            ("arn:aws:dynamodb:*", table),
            ("arn:aws:dynamodb:us-east-1:111122223333:table/orders/stream/x", table),
            ("arn:aws:s3:::", "arn:aws:s3:::b"),
            ("arn:aws:s3:::b", "arn:aws:s3:::"),
            ("arn:aws:s3:::a:", "arn:aws:s3:::a:b"),
            ("table/orders", "table/orderz"),
            ("table/order?", "table/orderz"),
            ("*s", table),
        ];
        for (p, t) in cases {
            let (pt, tt) = (pattern_tokens(&Template::lit(p), false), text_tokens(&Template::lit(t)));
            assert_eq!(match_arn_tokens(&pt, &tt), arn_reference(&pt, &tt), "{p} vs {t}");
            // Compiled, with the text split once beforehand: the same answer.
            let compiled = Compiled::resource(&Template::lit(p));
            assert_eq!(compiled.matches(&tt), arn_reference(&pt, &tt), "{p} vs {t}");
            assert_eq!(compiled.matches_split(&tt, || ArnSplit::of(&tt)), compiled.matches(&tt));
        }
        let symbol = [Tok::Char('a'), Tok::Pseudo(Symbol::Account)];
        let pt = pattern_tokens(&Template::lit("ab"), false);
        assert_eq!(match_arn_tokens(&pt, &symbol), arn_reference(&pt, &symbol));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;

    #[test]
    fn identical_tokens_are_a_certain_match_in_the_table_too() {
        // `same_tokens` answers yes before the table; the table agrees, symbols and
        // unresolved values included, and a different symbol is not the same tokens.
        let p = vec![
            PTok::Char('a'),
            PTok::Pseudo(Symbol::Account),
            PTok::Opaque("var.x".into()),
            PTok::Char('b'),
        ];
        let t = vec![
            Tok::Char('a'),
            Tok::Pseudo(Symbol::Account),
            Tok::Opaque("var.x".into()),
            Tok::Char('b'),
        ];
        assert!(same_tokens(&p, &t));
        assert_eq!(glob_table(&p, &t), Tri::Yes);
        let other = vec![
            Tok::Char('a'),
            Tok::Pseudo(Symbol::Region),
            Tok::Opaque("var.x".into()),
            Tok::Char('b'),
        ];
        assert!(!same_tokens(&p, &other));
    }

    #[test]
    fn plain_globs_agree_with_the_table() {
        // Every pattern over {a, b, *, ?} up to 4 long against every text over {a, b} up to
        // 5 long: the two-pointer match and the table give the same answer.
        fn all<T: Clone>(alphabet: &[T], max: usize) -> Vec<Vec<T>> {
            let mut out = vec![Vec::new()];
            let mut last = vec![Vec::new()];
            for _ in 0..max {
                let mut next = Vec::new();
                for w in &last {
                    for a in alphabet {
                        let mut v: Vec<T> = w.clone();
                        v.push(a.clone());
                        next.push(v);
                    }
                }
                out.extend(next.iter().cloned());
                last = next;
            }
            out
        }
        let patterns = all(&[PTok::Char('a'), PTok::Char('b'), PTok::Star, PTok::Question], 4);
        let texts = all(&[Tok::Char('a'), Tok::Char('b')], 5);
        for p in &patterns {
            for t in &texts {
                let fast = glob_plain(p, t).map(Tri::from_bool);
                assert_eq!(fast, Some(glob_table(p, t)), "{p:?} against {t:?}");
            }
        }
    }

    fn lit(s: &str) -> Template {
        Template::lit(s)
    }

    fn table_arn(name: Template) -> Template {
        let mut t = Template::lit("arn:");
        t.push_sym(Symbol::Partition);
        t.push_str(":dynamodb:");
        t.push_sym(Symbol::Region);
        t.push_str(":");
        t.push_sym(Symbol::Account);
        t.push_str(":table/");
        t.push_template(&name);
        t
    }

    #[test]
    fn actions_match_case_insensitively_with_wildcards() {
        assert_eq!(
            match_action(&lit("dynamodb:*"), "dynamodb:DisableKinesisStreamingDestination"),
            Tri::Yes
        );
        assert_eq!(
            match_action(&lit("DynamoDB:disable*"), "dynamodb:DisableKinesisStreamingDestination"),
            Tri::Yes
        );
        assert_eq!(
            match_action(&lit("dynamodb:?nable*"), "dynamodb:EnableKinesisStreamingDestination"),
            Tri::Yes
        );
        assert_eq!(
            match_action(&lit("dynamodb:Enable"), "dynamodb:EnableKinesisStreamingDestination"),
            Tri::No
        );
        assert_eq!(match_action(&lit("*"), "kinesis:PutRecords"), Tri::Yes);
        assert_eq!(match_action(&lit("kinesis:PutRecord"), "kinesis:PutRecords"), Tri::No);
    }

    #[test]
    fn literal_arns_match_the_symbolic_account_and_region() {
        let text = text_tokens(&table_arn(lit("Music")));
        assert_eq!(
            match_resource(&lit("arn:aws:dynamodb:us-west-2:123456789012:table/Music"), &text),
            Tri::Yes
        );
        assert_eq!(
            match_resource(&lit("arn:aws:dynamodb:us-west-2:123456789012:table/Orders"), &text),
            Tri::No
        );
        assert_eq!(match_resource(&lit("arn:aws:dynamodb:*:*:table/*"), &text), Tri::Yes);
        assert_eq!(
            match_resource(&lit("arn:aws:dynamodb:*:*:table/Mus?c"), &text),
            Tri::Yes
        );
        assert_eq!(match_resource(&lit("arn:aws:kinesis:*:*:stream/*"), &text), Tri::No);
        assert_eq!(match_resource(&table_arn(lit("Music")), &text), Tri::Yes);
    }

    #[test]
    fn resources_are_case_sensitive_and_segment_bound() {
        let text = text_tokens(&lit("arn:aws:dynamodb:us-east-1:111122223333:table/Music"));
        assert_eq!(
            match_resource(&lit("arn:aws:dynamodb:us-east-1:111122223333:table/music"), &text),
            Tri::No
        );
        // Within an ARN-shaped pattern, `*` does not cross into the next segment.
        assert_eq!(
            match_resource(&lit("arn:aws:dynamodb:*:*:*:table/Music"), &text),
            Tri::No
        );
        assert_eq!(
            match_resource(&lit("arn:aws:dynamodb:us-east-1:*:table/Mus"), &text),
            Tri::No
        );
        // A shorter pattern is a whole-string glob: `arn:aws:dynamodb:*` covers every table.
        assert_eq!(match_resource(&lit("arn:aws:dynamodb:*"), &text), Tri::Yes);
        assert_eq!(match_resource(&lit("*"), &text), Tri::Yes);
    }

    #[test]
    fn opaque_names_match_themselves_and_maybe_literals() {
        let name = Template::opaque("aws_dynamodb_table.t.name", "generated", Span::builtin());
        let text = text_tokens(&table_arn(name.clone()));
        assert_eq!(match_resource(&table_arn(name), &text), Tri::Yes);
        assert_eq!(
            match_resource(&lit("arn:aws:dynamodb:*:*:table/Music"), &text),
            Tri::Maybe
        );
        assert_eq!(match_resource(&lit("arn:aws:dynamodb:*:*:table/*"), &text), Tri::Yes);
        let unknown = Template::opaque("var.arn", "no value", Span::builtin());
        let text = text_tokens(&table_arn(lit("Music")));
        assert_eq!(match_resource(&unknown, &text), Tri::Maybe);
    }

    #[test]
    fn every_is_reached_only_by_a_star_and_some_by_anything_possible() {
        let mut every = table_arn(lit(""));
        every.push_str("");
        let mut toks = text_tokens(&every);
        toks.push(Tok::Every);
        assert_eq!(match_resource(&lit("arn:aws:dynamodb:*:*:table/*"), &toks), Tri::Yes);
        assert_eq!(
            match_resource(&lit("arn:aws:dynamodb:*:*:table/prod-*"), &toks),
            Tri::No
        );
        assert_eq!(
            match_resource(&lit("arn:aws:dynamodb:*:*:table/Orders"), &toks),
            Tri::No
        );
        let mut some = text_tokens(&table_arn(lit("")));
        some.push(Tok::Some);
        assert_eq!(
            match_resource(&lit("arn:aws:dynamodb:*:*:table/Orders"), &some),
            Tri::Yes
        );
        assert_eq!(match_resource(&lit("arn:aws:kinesis:*:*:stream/x"), &some), Tri::No);
    }

    #[test]
    fn list_actions_need_a_star_resource() {
        let star = text_tokens(&lit("*"));
        assert_eq!(match_resource(&lit("*"), &star), Tri::Yes);
        assert_eq!(match_resource(&lit("arn:aws:kinesis:*:*:stream/*"), &star), Tri::No);
    }

    #[test]
    fn pathological_patterns_finish_quickly() {
        let pattern = lit(&format!("{}b", "*a".repeat(200)));
        let action = "a".repeat(2000);
        assert_eq!(match_action(&pattern, &action), Tri::No);
        let res = text_tokens(&lit(&format!("arn:aws:s3:::{}", "a".repeat(2000))));
        assert_eq!(
            match_resource(&lit(&format!("arn:aws:s3:::{}b", "*a".repeat(200))), &res),
            Tri::No
        );
    }
    /// A template from pieces: literal text (with wildcards and `${...}` in it) and the
    /// account and partition symbols.
    fn pieces(parts: &[(u8, &str)]) -> Template {
        let mut t = Template::lit("");
        for (kind, text) in parts {
            match kind {
                0 => t.push_str(text),
                1 => t.push_sym(Symbol::Account),
                _ => t.push_sym(Symbol::Partition),
            }
        }
        t
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

        /// A compiled exact pattern says what `match_string` in `Mode::Exact` says.
        #[test]
        fn an_exact_pattern_compiled_once_matches_as_match_string(
            pattern in proptest::collection::vec((0u8..3, proptest::sample::select(vec!["1234", "12*", "?", "${x}", "", "arn"])), 0..4),
            value in proptest::collection::vec((0u8..3, proptest::sample::select(vec!["1234", "12", "34", "*", "x"])), 0..4),
        ) {
            let (p, v) = (pieces(&pattern), pieces(&value));
            proptest::prop_assert_eq!(
                ExactPattern::new(&p).matches(&v, &text_tokens(&v)),
                match_string(&p, &v, Mode::Exact, None).0,
                "{} against {}", p, v
            );
        }
    }
}
