//! A parser for `format!` strings, following the grammar of `std::fmt`:
//!
//! ```text
//! format_string := text [ maybe_format text ] *
//! maybe_format := '{' '{' | '}' '}' | format
//! format := '{' [ argument ] [ ':' format_spec ] [ ws ] * '}'
//! argument := integer | identifier
//! format_spec := [[fill]align][sign]['#']['0'][width]['.' precision]type
//! count := parameter | integer;  parameter := argument '$'
//! precision := count | '*'
//! ```
//!
//! It splits the string into literal text and holes; each hole names its
//! argument (implicit positions resolved as `rustc` does: after the spec, so
//! that `{:.*}` takes its precision first) and keeps its spec, whose counts
//! can be rewritten to point at other arguments. The compiler checks the
//! string again (the macro expands a `format_args!` of it that never runs),
//! so the errors a user sees are the compiler's own.

/// Which argument a hole or a count refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArgRef {
    Index(usize),
    Name(String),
}

/// A width or precision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Count {
    Literal(usize),
    Arg(ArgRef),
}

/// A hole's format spec, everything after the `:`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Spec {
    pub(crate) fill: Option<char>,
    pub(crate) align: Option<char>,
    pub(crate) sign: Option<char>,
    pub(crate) alternate: bool,
    pub(crate) zero: bool,
    pub(crate) width: Option<Count>,
    pub(crate) precision: Option<Count>,
    pub(crate) ty: String,
}

/// One `{...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hole {
    pub(crate) arg: ArgRef,
    pub(crate) spec: Spec,
}

/// A piece of a format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Literal(String),
    Hole(Hole),
}

struct Parser<'a> {
    s: &'a str,
    pos: usize,
    next_arg: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }
    fn peek2(&self) -> Option<char> {
        let mut it = self.s[self.pos..].chars();
        it.next();
        it.next()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn integer(&mut self) -> Option<usize> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == start {
            return None;
        }
        self.s[start..self.pos].parse().ok()
    }

    fn word(&mut self) -> Option<String> {
        let start = self.pos;
        match self.peek() {
            Some(c) if c == '_' || c.is_alphabetic() => {
                self.bump();
            }
            _ => return None,
        }
        while self.peek().is_some_and(|c| c == '_' || c.is_alphanumeric()) {
            self.bump();
        }
        Some(self.s[start..self.pos].to_string())
    }

    fn argument(&mut self) -> Option<ArgRef> {
        if let Some(i) = self.integer() {
            return Some(ArgRef::Index(i));
        }
        self.word().map(ArgRef::Name)
    }

    /// A count: `N`, `N$` or `name$`; a word without `$` is not a count
    /// (it is the type), so the position is restored.
    fn count(&mut self) -> Option<Count> {
        let start = self.pos;
        if let Some(n) = self.integer() {
            if self.eat('$') {
                return Some(Count::Arg(ArgRef::Index(n)));
            }
            return Some(Count::Literal(n));
        }
        if let Some(w) = self.word() {
            if self.eat('$') {
                return Some(Count::Arg(ArgRef::Name(w)));
            }
        }
        self.pos = start;
        None
    }

    fn spec(&mut self) -> Result<Spec, String> {
        let mut spec = Spec::default();
        let is_align = |c: Option<char>| matches!(c, Some('<' | '^' | '>'));
        if is_align(self.peek2()) {
            spec.fill = self.bump();
            spec.align = self.bump();
        } else if is_align(self.peek()) {
            spec.align = self.bump();
        }
        if matches!(self.peek(), Some('+' | '-')) {
            spec.sign = self.bump();
        }
        spec.alternate = self.eat('#');
        if self.peek() == Some('0') && self.peek2() != Some('$') {
            self.bump();
            spec.zero = true;
        }
        spec.width = self.count();
        if self.eat('.') {
            if self.eat('*') {
                let i = self.next_arg;
                self.next_arg += 1;
                spec.precision = Some(Count::Arg(ArgRef::Index(i)));
            } else {
                spec.precision = Some(self.count().ok_or("expected a precision after `.`")?);
            }
        }
        if self.eat('?') {
            spec.ty = "?".into();
        } else if let Some(w) = self.word() {
            spec.ty = w;
            if (spec.ty == "x" || spec.ty == "X") && self.eat('?') {
                spec.ty.push('?');
            }
        }
        Ok(spec)
    }

    fn hole(&mut self) -> Result<Hole, String> {
        let explicit = self.argument();
        let spec = if self.eat(':') {
            self.spec()?
        } else {
            Spec::default()
        };
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
        if !self.eat('}') {
            return Err(format!(
                "unexpected text in a `{{...}}` at byte {}",
                self.pos
            ));
        }
        let arg = explicit.unwrap_or_else(|| {
            let i = self.next_arg;
            self.next_arg += 1;
            ArgRef::Index(i)
        });
        Ok(Hole { arg, spec })
    }
}

/// Splits a format string into literal text and holes.
pub(crate) fn parse(s: &str) -> Result<Vec<Piece>, String> {
    let mut p = Parser {
        s,
        pos: 0,
        next_arg: 0,
    };
    let mut pieces = Vec::new();
    let mut lit = String::new();
    while let Some(c) = p.bump() {
        match c {
            '{' if p.eat('{') => lit.push('{'),
            '}' if p.eat('}') => lit.push('}'),
            '}' => return Err("unmatched `}` (write `}}` for a literal brace)".into()),
            '{' => {
                if !lit.is_empty() {
                    pieces.push(Piece::Literal(std::mem::take(&mut lit)));
                }
                pieces.push(Piece::Hole(p.hole()?));
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        pieces.push(Piece::Literal(lit));
    }
    Ok(pieces)
}

/// Whether a hole is a plain `{}`: `Display` with no fill, alignment,
/// sign, flag, width or precision.
pub(crate) fn is_plain_display(spec: &Spec) -> bool {
    spec.fill.is_none()
        && spec.align.is_none()
        && spec.sign.is_none()
        && !spec.alternate
        && !spec.zero
        && spec.width.is_none()
        && spec.precision.is_none()
        && spec.ty.is_empty()
}

/// Appends `{value:spec}` to a format string, with the spec's counts
/// pointing at the positions given (`width`, `precision`: the positions of
/// the count arguments, used when the spec's count is an argument).
pub(crate) fn push_hole(
    out: &mut String,
    value: usize,
    spec: &Spec,
    width: Option<usize>,
    precision: Option<usize>,
) {
    out.push('{');
    out.push_str(&value.to_string());
    out.push(':');
    if let Some(a) = spec.align {
        if let Some(f) = spec.fill {
            out.push(f);
        }
        out.push(a);
    }
    if let Some(s) = spec.sign {
        out.push(s);
    }
    if spec.alternate {
        out.push('#');
    }
    if spec.zero {
        out.push('0');
    }
    let count = |out: &mut String, c: &Count, at: Option<usize>| match (c, at) {
        (Count::Literal(n), _) => out.push_str(&n.to_string()),
        (Count::Arg(_), Some(at)) => {
            out.push_str(&at.to_string());
            out.push('$');
        }
        // The caller gives a position for every argument count.
        (Count::Arg(_), None) => {}
    };
    if let Some(w) = &spec.width {
        count(out, w, width);
    }
    if let Some(p) = &spec.precision {
        out.push('.');
        count(out, p, precision);
    }
    out.push_str(&spec.ty);
    out.push('}');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holes(s: &str) -> Vec<Hole> {
        parse(s)
            .unwrap()
            .into_iter()
            .filter_map(|p| match p {
                Piece::Hole(h) => Some(h),
                Piece::Literal(_) => None,
            })
            .collect()
    }

    #[test]
    fn literals_and_escapes() {
        assert_eq!(
            parse("a {{b}} c").unwrap(),
            vec![Piece::Literal("a {b} c".into())]
        );
        assert!(parse("a } b").is_err());
        assert!(parse("a { b").is_err());
    }

    #[test]
    fn implicit_positions_follow_the_spec() {
        let h = holes("{} {:.*} {}");
        assert_eq!(h[0].arg, ArgRef::Index(0));
        assert_eq!(h[1].spec.precision, Some(Count::Arg(ArgRef::Index(1))));
        assert_eq!(h[1].arg, ArgRef::Index(2));
        assert_eq!(h[2].arg, ArgRef::Index(3));
    }

    #[test]
    fn specs() {
        let h = holes("{x:*^+#012.3e} {0:w$.p$x?} {:0$} {:<5} {:x}");
        let s = &h[0].spec;
        assert_eq!((s.fill, s.align, s.sign), (Some('*'), Some('^'), Some('+')));
        assert!(s.alternate && s.zero);
        assert_eq!(s.width, Some(Count::Literal(12)));
        assert_eq!(s.precision, Some(Count::Literal(3)));
        assert_eq!(s.ty, "e");
        assert_eq!(h[0].arg, ArgRef::Name("x".into()));
        let s = &h[1].spec;
        assert_eq!(s.width, Some(Count::Arg(ArgRef::Name("w".into()))));
        assert_eq!(s.precision, Some(Count::Arg(ArgRef::Name("p".into()))));
        assert_eq!(s.ty, "x?");
        assert_eq!(h[2].spec.width, Some(Count::Arg(ArgRef::Index(0))));
        assert!(!h[2].spec.zero);
        assert_eq!(h[3].spec.align, Some('<'));
        assert_eq!(h[4].spec.ty, "x");
        assert_eq!(h[4].spec.width, None);
    }

    #[test]
    fn holes_render_back() {
        let h = holes("{:>+#08.3e}");
        let mut out = String::new();
        push_hole(&mut out, 2, &h[0].spec, None, None);
        assert_eq!(out, "{2:>+#08.3e}");
        let h = holes("{:w$.p$}");
        let mut out = String::new();
        push_hole(&mut out, 0, &h[0].spec, Some(1), Some(2));
        assert_eq!(out, "{0:1$.2$}");
    }
}
